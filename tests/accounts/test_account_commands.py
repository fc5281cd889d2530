"""`mailsettings` and `addmailaccount`, the same services as the pages, for admins and scripts."""

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from accounts.models import MailAccount, User
from tests.harness.dns import LocalDnsServer
from tests.harness.mailservers import MailServers, MailUser
from tests.harness.ports import STANDARD_HOST


@pytest.fixture
def local_dns(dns_server: LocalDnsServer, settings: Any) -> LocalDnsServer:
    settings.MAIL_DNS_SERVER = dns_server.address  # nothing leaves the machine
    return dns_server


def mailsettings(address: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("mailsettings", address, stdout=out)
    return json.loads(out.getvalue())


def test_mailsettings_knows_gmail_and_outlook_without_the_network(local_dns) -> None:
    gmail = mailsettings("someone@gmail.com")
    outlook = mailsettings("someone@outlook.com")

    assert gmail["source"] == "providers"
    assert gmail["incoming"] == {
        "protocol": "imap",
        "host": "imap.gmail.com",
        "port": 993,
        "security": "tls",
    }
    assert gmail["outgoing"]["host"] == "smtp.gmail.com"
    assert any("app password" in note for note in gmail["notes"])
    assert outlook["incoming"]["host"] == "outlook.office365.com"
    assert outlook["outgoing"] == {
        "host": "smtp-mail.outlook.com",
        "port": 587,
        "security": "starttls",
    }
    assert local_dns.queries == []


def test_mailsettings_finds_a_godaddy_hosted_domain_by_its_mx(local_dns) -> None:
    local_dns.set(
        "godaddy-hosted.example", "MX", ["0 mx1.secureserver.net.", "10 mx2.secureserver.net."]
    )

    found = mailsettings("someone@godaddy-hosted.example")

    assert found["source"] == "mx"
    assert found["incoming"] == {
        "protocol": "imap",
        "host": "imap.secureserver.net",
        "port": 993,
        "security": "tls",
    }
    assert found["outgoing"] == {"host": "smtpout.secureserver.net", "port": 465, "security": "tls"}


def test_mailsettings_says_so_when_nothing_is_found(local_dns) -> None:
    with pytest.raises(CommandError, match="No mail settings found"):
        call_command("mailsettings", "someone@nothing-here.example")


@pytest.mark.django_db
def test_addmailaccount_discovers_tests_and_saves(
    local_dns, mail_servers: MailServers, mail_user: Callable[..., MailUser], monkeypatch
) -> None:
    for name in ("imap.example.test", "smtp.example.test"):
        local_dns.set(name, "A", STANDARD_HOST)
    owner = User.objects.create_user("alice")
    user = mail_user()
    monkeypatch.setattr("sys.stdin", io.StringIO(user.password + "\n"))
    out = io.StringIO()

    call_command("addmailaccount", "alice", user.address, stdout=out)

    account = MailAccount.objects.get(pk=int(out.getvalue()))
    assert account.user == owner and account.incoming_host == "imap.example.test"
    assert account.incoming_credentials().password == user.password


@pytest.mark.django_db
def test_addmailaccount_with_explicit_servers_fails_in_plain_words(
    local_dns, mail_servers: MailServers, mail_user: Callable[..., MailUser], monkeypatch
) -> None:
    User.objects.create_user("alice")
    user = mail_user()
    e = mail_servers.endpoints
    monkeypatch.setattr("sys.stdin", io.StringIO("Canary-wrong-password\n"))

    with pytest.raises(CommandError) as raised:
        call_command(
            "addmailaccount",
            "alice",
            user.address,
            "--incoming-host", e.host, "--incoming-port", str(e.imaps_port),
            "--incoming-security", "tls",
            "--smtp-host", e.host, "--smtp-port", str(e.submission_port),
            "--smtp-security", "starttls",
        )  # fmt: skip

    assert "did not accept the user name or password" in str(raised.value)
    assert "Canary-wrong-password" not in str(raised.value)
    assert not MailAccount.objects.exists()
