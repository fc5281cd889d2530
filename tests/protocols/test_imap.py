"""IMAP sign-in checks against the real Dovecot."""

import logging
from collections.abc import Callable

import pytest

from mailbox.protocols import imap
from mailbox.protocols.check import check_incoming
from mailbox.protocols.errors import AuthFailed
from mailbox.protocols.types import Server
from tests.harness.certs import TestCA
from tests.harness.dns import LocalDnsServer
from tests.harness.mailservers import MailServers, MailUser
from tests.harness.ports import STANDARD_HOST
from tests.protocols.support import (
    IMAP,
    NONE,
    STARTTLS,
    TLS,
    certificate_file,
    credentials,
    policy,
    server_for,
)


@pytest.mark.parametrize("security", [TLS, STARTTLS])
def test_it_signs_in_and_reports_what_the_server_offers(
    mail_servers: MailServers, mail_user: Callable[..., MailUser], test_ca: TestCA, security
) -> None:
    user = mail_user()
    server = server_for(mail_servers, IMAP, security)

    result = check_incoming(IMAP, server, credentials(user), policy())

    assert result.server == server
    assert result.has_idle and result.has_condstore and result.has_qresync
    assert result.has_special_use
    assert result.certificate_fingerprint == test_ca.sha256_fingerprint(
        certificate_file(mail_servers)
    )


def test_a_wrong_password_is_refused_in_the_servers_words(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
) -> None:
    server = server_for(mail_servers, IMAP, TLS)

    with pytest.raises(AuthFailed) as caught:
        check_incoming(IMAP, server, credentials(mail_user(), "wrong"), policy())

    assert caught.value.server_reply == "[AUTHENTICATIONFAILED] Authentication failed."
    assert caught.value.host == mail_servers.endpoints.host


def test_a_password_beyond_ascii_signs_in_with_authenticate_plain(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
) -> None:
    user = mail_user(password="Grüße-für-Ōsaka")

    result = check_incoming(IMAP, server_for(mail_servers, IMAP, TLS), credentials(user), policy())

    assert "IMAP4REV1" in result.capabilities


def test_plain_text_on_loopback_signs_in_when_asked_for(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
) -> None:
    """Dovecot counts 127.0.0.1 -> 127.0.0.1 as secure, so it takes LOGIN in plain text."""
    server = server_for(mail_servers, IMAP, NONE)

    result = check_incoming(IMAP, server, credentials(mail_user()), policy())

    assert result.certificate_fingerprint is None


@pytest.mark.parametrize(("security", "port"), [(TLS, 993), (STARTTLS, 143)])
def test_a_provider_name_leads_to_the_standard_ports(
    mail_servers: MailServers,
    mail_user: Callable[..., MailUser],
    dns_server: LocalDnsServer,
    security,
    port: int,
) -> None:
    dns_server.set("imap.example.test", "A", STANDARD_HOST)
    server = Server("imap.example.test", port, security)

    result = check_incoming(
        IMAP, server, credentials(mail_user()), policy(dns_server=dns_server.address)
    )

    assert result.has_idle


def test_plain_text_where_the_server_disables_login_sends_no_password(
    mail_servers: MailServers, mail_user: Callable[..., MailUser], dns_server: LocalDnsServer
) -> None:
    """127.0.0.1 -> 127.0.0.2 is not secure to Dovecot: it advertises LOGINDISABLED."""
    dns_server.set("imap.example.test", "A", STANDARD_HOST)
    server = Server("imap.example.test", 143, NONE)

    with pytest.raises(AuthFailed, match="LOGINDISABLED"):
        check_incoming(
            IMAP, server, credentials(mail_user()), policy(dns_server=dns_server.address)
        )


def test_a_session_stays_signed_in_until_it_ends(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
) -> None:
    user = mail_user()
    server = server_for(mail_servers, IMAP, STARTTLS)

    with imap.session(server, credentials(user), policy()) as client:
        folders = {name for _, _, name in client.list_folders()}

    assert "INBOX" in folders


def test_the_protocol_trace_is_formatted_only_for_a_debug_log(
    mail_servers: MailServers, mail_user: Callable[..., MailUser], caplog
) -> None:
    """imaplib formats every reply, message bodies included, for its trace: worth it for a
    person debugging at DEBUG, a fifth of a first sync's fetching when nobody reads it."""
    user = mail_user()
    mail_servers.seed(user.address, [b"Subject: traced\r\n\r\nbody words here\r\n"])
    server = server_for(mail_servers, IMAP, TLS)

    caplog.set_level(logging.INFO, logger="imapclient.imaplib")
    with imap.session(server, credentials(user), policy()) as client:
        client.select_folder("INBOX")
        client.fetch(client.search(), ["BODY.PEEK[]"])
        quiet_level = client._imap.debug
    assert quiet_level == 0
    assert not [r for r in caplog.records if r.name == "imapclient.imaplib"]

    caplog.set_level(logging.DEBUG, logger="imapclient.imaplib")
    with imap.session(server, credentials(user), policy()) as client:
        client.select_folder("INBOX")
        client.fetch(client.search(), ["BODY.PEEK[]"])
    traced = "\n".join(r.getMessage() for r in caplog.records if r.name == "imapclient.imaplib")
    assert "body words here" in traced
