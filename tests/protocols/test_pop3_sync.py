"""POP3 download on the real Dovecot: UIDL listing, exact bytes, streaming, DELE at QUIT."""

import hashlib
import tempfile
from collections.abc import Callable

import pytest

from mailbox.protocols import pop3
from mailbox.protocols.errors import ActionRefused, ProtocolFailure
from mailbox.protocols.pop3_sync import delete, fetch_message, fetch_message_to, list_uidls
from mailbox.protocols.types import Server
from tests.harness import messages
from tests.harness.faultproxy import FaultProxy
from tests.harness.mailservers import MailServers, MailUser
from tests.protocols.support import POP3, STARTTLS, TLS, credentials, policy, server_for

SEEDED = list(messages.every_kind().values())[:4]


@pytest.fixture
def user(mail_user: Callable[..., MailUser], mail_servers: MailServers) -> MailUser:
    user = mail_user()
    mail_servers.seed(user.address, SEEDED)
    return user


def _server(servers: MailServers, security=TLS) -> Server:
    return server_for(servers, POP3, security)


def test_uidls_list_every_message_with_its_size(mail_servers: MailServers, user: MailUser) -> None:
    with pop3.session(_server(mail_servers), credentials(user), policy()) as client:
        listed = list_uidls(client)

    assert [entry.msgno for entry in listed] == [1, 2, 3, 4]
    assert [entry.size for entry in listed] == [len(raw) for raw in SEEDED]
    assert len({entry.uidl for entry in listed}) == 4
    with pop3.session(_server(mail_servers), credentials(user), policy()) as client:
        assert list_uidls(client) == listed  # stable across sessions: the sync's key


@pytest.mark.parametrize("security", [TLS, STARTTLS])
def test_retr_gives_the_seeded_bytes(mail_servers: MailServers, user: MailUser, security) -> None:
    with pop3.session(_server(mail_servers, security), credentials(user), policy()) as client:
        fetched = [fetch_message(client, msgno) for msgno in (1, 2, 3, 4)]

    assert fetched == SEEDED


def test_a_big_message_with_long_and_dotted_lines_streams_exactly(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
) -> None:
    """Lines past poplib's 2,048-byte limit, and lines starting with "." (byte-stuffed)."""
    user = mail_user()
    body = b".leading dot\r\n..two dots\r\n.\r\n" + b"x" * 100_000 + b"\r\n" * 2
    raw = messages.plain_text().split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n" + body * 40
    mail_servers.seed(user.address, [raw])

    with (
        pop3.session(_server(mail_servers), credentials(user), policy()) as client,
        tempfile.TemporaryFile() as sink,
    ):
        written = fetch_message_to(client, 1, sink)
        sink.seek(0)
        digest = hashlib.sha256(sink.read()).hexdigest()

    assert written == len(raw)
    assert digest == hashlib.sha256(raw).hexdigest()


def test_dele_removes_the_messages_at_quit(mail_servers: MailServers, user: MailUser) -> None:
    with pop3.session(_server(mail_servers), credentials(user), policy()) as client:
        delete(client, [1, 3])
        assert len(list_uidls(client)) == 2  # marked ones are hidden until QUIT

    with pop3.session(_server(mail_servers), credentials(user), policy()) as client:
        remaining = [fetch_message(client, entry.msgno) for entry in list_uidls(client)]
    assert remaining == [SEEDED[1], SEEDED[3]]
    assert [m.raw for m in mail_servers.messages(user.address)] == remaining


def test_a_message_number_that_is_not_there_is_refused(
    mail_servers: MailServers, user: MailUser
) -> None:
    with pop3.session(_server(mail_servers), credentials(user), policy()) as client:
        with pytest.raises(ActionRefused) as caught:
            fetch_message(client, 99)
        assert fetch_message(client, 1) == SEEDED[0]  # the connection is still in step

    assert caught.value.command == "RETR"


def test_a_connection_cut_inside_a_message_is_a_typed_error(
    mail_servers: MailServers, user: MailUser, fault_proxy: Callable[..., FaultProxy]
) -> None:
    target = _server(mail_servers)
    proxy = fault_proxy(target.host, target.port, tls="implicit")
    proxy.cut_after(3000)  # past the greeting and sign-in replies, inside the 9.5 kB RETR

    got: list[bytes] = []
    with (
        pop3.session(Server(proxy.host, proxy.port, TLS), credentials(user), policy()) as client,
        pytest.raises(ProtocolFailure),
    ):
        got.append(fetch_message(client, 4))

    assert proxy.faults_fired == 1
    assert got == []
