"""POP3 sign-in checks against the real Dovecot."""

from collections.abc import Callable

import pytest

from mailbox.protocols import pop3
from mailbox.protocols.check import check_incoming
from mailbox.protocols.errors import AuthFailed
from mailbox.protocols.types import Server
from tests.harness import messages
from tests.harness.certs import TestCA
from tests.harness.dns import LocalDnsServer
from tests.harness.mailservers import MailServers, MailUser
from tests.harness.ports import STANDARD_HOST
from tests.protocols.support import (
    POP3,
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
    server = server_for(mail_servers, POP3, security)

    result = check_incoming(POP3, server, credentials(mail_user()), policy())

    assert result.has_uidl
    assert result.certificate_fingerprint == test_ca.sha256_fingerprint(
        certificate_file(mail_servers)
    )


def test_a_wrong_password_is_refused_in_the_servers_words(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
) -> None:
    server = server_for(mail_servers, POP3, TLS)

    with pytest.raises(AuthFailed) as caught:
        check_incoming(POP3, server, credentials(mail_user(), "wrong"), policy())

    assert caught.value.server_reply == "[AUTH] Authentication failed."


@pytest.mark.parametrize(("security", "port"), [(TLS, 995), (STARTTLS, 110)])
def test_a_provider_name_leads_to_the_standard_ports(
    mail_servers: MailServers,
    mail_user: Callable[..., MailUser],
    dns_server: LocalDnsServer,
    security,
    port: int,
) -> None:
    dns_server.set("pop.example.test", "A", STANDARD_HOST)
    server = Server("pop.example.test", port, security)

    result = check_incoming(
        POP3, server, credentials(mail_user()), policy(dns_server=dns_server.address)
    )

    assert result.has_uidl


def test_a_session_reads_the_mailbox(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
) -> None:
    user = mail_user()
    mail_servers.seed(user.address, [messages.with_attachments()])

    with pop3.session(server_for(mail_servers, POP3, STARTTLS), credentials(user), policy()) as c:
        count, _ = c.stat()

    assert count == 1
