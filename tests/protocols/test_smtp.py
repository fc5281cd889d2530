"""SMTP submission sign-in checks against the real Postfix (authenticating through Dovecot)."""

from collections.abc import Callable

import pytest

from mailbox.protocols import smtp
from mailbox.protocols.check import check_outgoing
from mailbox.protocols.errors import AuthFailed
from mailbox.protocols.types import Server
from tests.harness import messages
from tests.harness.certs import TestCA
from tests.harness.dns import LocalDnsServer
from tests.harness.mailservers import MailServers, MailUser
from tests.harness.ports import STANDARD_HOST
from tests.protocols.support import (
    NONE,
    SMTP,
    STARTTLS,
    TLS,
    certificate_file,
    credentials,
    policy,
    server_for,
)


@pytest.mark.parametrize("security", [TLS, STARTTLS])
def test_it_signs_in_and_reports_the_size_limit_and_mechanisms(
    mail_servers: MailServers, mail_user: Callable[..., MailUser], test_ca: TestCA, security
) -> None:
    server = server_for(mail_servers, SMTP, security)

    result = check_outgoing(server, credentials(mail_user()), policy())

    assert result.size_limit == 25 * 1024 * 1024
    assert "PLAIN" in result.auth_mechanisms
    assert "AUTH" in result.capabilities
    assert result.certificate_fingerprint == test_ca.sha256_fingerprint(
        certificate_file(mail_servers)
    )


def test_a_wrong_password_is_refused_in_the_servers_words(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
) -> None:
    server = server_for(mail_servers, SMTP, STARTTLS)

    with pytest.raises(AuthFailed) as caught:
        check_outgoing(server, credentials(mail_user(), "wrong"), policy())

    assert caught.value.server_reply.startswith("535 5.7.8 ")


def test_plain_text_gets_no_sign_in_offered(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
) -> None:
    """Postfix offers AUTH only after STARTTLS (smtpd_tls_auth_only): nothing is sent."""
    server = server_for(mail_servers, SMTP, NONE)

    with pytest.raises(AuthFailed, match="no sign-in"):
        check_outgoing(server, credentials(mail_user()), policy())


@pytest.mark.parametrize(("security", "port"), [(TLS, 465), (STARTTLS, 587)])
def test_a_provider_name_leads_to_the_standard_ports(
    mail_servers: MailServers,
    mail_user: Callable[..., MailUser],
    dns_server: LocalDnsServer,
    security,
    port: int,
) -> None:
    dns_server.set("smtp.example.test", "A", STANDARD_HOST)
    server = Server("smtp.example.test", port, security)

    result = check_outgoing(server, credentials(mail_user()), policy(dns_server=dns_server.address))

    assert "PLAIN" in result.auth_mechanisms


def test_a_session_sends_mail(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
) -> None:
    sender, recipient = mail_user(), mail_user()
    raw = messages.plain_text(
        messages.Envelope(
            sender=messages.person(sender.address, "Sender"),
            to=(messages.person(recipient.address, "Recipient"),),
            subject="Through the checked connection",
            message_id="<checked-connection@example.test>",
        )
    )
    server = server_for(mail_servers, SMTP, TLS)

    with smtp.session(server, credentials(sender), policy()) as client:
        client.sendmail(sender.address, [recipient.address], raw)

    delivered = mail_servers.wait_for_messages(recipient.address, 1)[0].raw
    assert b"Subject: Through the checked connection" in delivered
