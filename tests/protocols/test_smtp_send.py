"""Submitting messages with smtp_send.submit(): the real Postfix (authenticating through Dovecot,
delivering over LMTP), the fault proxy for the cuts, a fake server for what Postfix won't say."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from mailbox.protocols import smtp
from mailbox.protocols.errors import OutcomeUnknown, PermanentFailure, TemporaryFailure
from mailbox.protocols.smtp import SmtpClient
from mailbox.protocols.smtp_send import WRITE_SLICE, SubmitResult, submit
from mailbox.protocols.types import Server
from tests.harness.faultproxy import FaultProxy
from tests.harness.mailservers import MailServers, MailUser
from tests.protocols import fakes
from tests.protocols.support import NONE, SMTP, STARTTLS, TLS, credentials, policy, server_for


def message(sender: MailUser, to: MailUser, subject: str, body: bytes = b"Hello.\r\n") -> bytes:
    return (
        f"From: {sender.address}\r\nTo: {to.address}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '-')}@example.test>\r\n"
        "Date: Mon, 02 Jun 2025 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
    ).encode() + body


def delivered(servers: MailServers, user: MailUser, count: int) -> list[bytes]:
    """Exactly `count` messages once Postfix's queue is empty (none arrive later)."""
    servers.wait_for_messages(user.address, count)
    servers.wait_for_empty_queue()
    return [stored.raw for stored in servers.messages(user.address)]


@contextmanager
def fake_session(fake_server, reply: fakes.Reply) -> Iterator[tuple[SmtpClient, fakes.FakeServer]]:
    server = fake_server(fakes.SMTP_GREETING, reply)
    client = smtp.connect(Server(server.host, server.port, NONE), policy())
    try:
        yield client, server
    finally:
        smtp.close(client)


@pytest.fixture
def alice(mail_user: Callable[..., MailUser]) -> MailUser:
    return mail_user(local="alice")


@pytest.fixture
def bob(mail_user: Callable[..., MailUser]) -> MailUser:
    return mail_user(local="bob")


# The real Postfix ----------------------------------------------------------------------------


@pytest.mark.parametrize("security", [STARTTLS, TLS])
def test_it_delivers_the_message_byte_for_byte_exactly_once(
    mail_servers: MailServers, alice: MailUser, bob: MailUser, security
) -> None:
    """Lines starting with a dot survive (dot-stuffing), and 8-bit UTF-8 goes as 8BITMIME."""
    body = b".\r\n..two dots\r\n.leading\r\nGr\xc3\xbc\xc3\x9fe, caf\xc3\xa9.\r\n"
    raw = message(alice, bob, f"byte for byte {security}", body)

    with smtp.session(server_for(mail_servers, SMTP, security), credentials(alice), policy()) as c:
        result = submit(c, alice.address, [bob.address], raw)

    assert result.reply.startswith("250 2.0.0 Ok: queued as ")
    assert result.refused == ()
    [stored] = delivered(mail_servers, bob, 1)
    assert stored.endswith(raw)  # Postfix and Dovecot only add trace headers on top


def test_two_messages_go_on_one_connection(
    mail_servers: MailServers, alice: MailUser, bob: MailUser
) -> None:
    first, second = message(alice, bob, "first"), message(alice, bob, "second")

    with smtp.session(server_for(mail_servers, SMTP, STARTTLS), credentials(alice), policy()) as c:
        submit(c, alice.address, [bob.address], first)
        submit(c, alice.address, [bob.address], second)

    stored = delivered(mail_servers, bob, 2)  # Postfix may deliver them in either order
    assert len(stored) == 2
    assert all(any(s.endswith(sent) for s in stored) for sent in (first, second))


@pytest.mark.parametrize(
    ("recipient", "words"),
    [
        ("nobody@example.test", "550 5.1.1 <nobody@example.test>: Recipient address rejected"),
        ("someone@elsewhere.invalid", "554 5.7.1 <someone@elsewhere.invalid>: Relay access denied"),
    ],
)
def test_a_refused_recipient_is_permanent_in_the_servers_words_and_the_session_goes_on(
    mail_servers: MailServers, alice: MailUser, bob: MailUser, recipient: str, words: str
) -> None:
    with smtp.session(server_for(mail_servers, SMTP, STARTTLS), credentials(alice), policy()) as c:
        with pytest.raises(PermanentFailure) as caught:  # noqa: SIM117 (the session goes on)
            submit(c, alice.address, [recipient], message(alice, bob, "refused"))
        after = submit(c, alice.address, [bob.address], message(alice, bob, "after a refusal"))

    assert caught.value.step == "RCPT TO"
    assert caught.value.server_reply.startswith(words)
    assert [r.address for r in caught.value.refused] == [recipient]
    assert after.reply.startswith("250 ")
    [stored] = delivered(mail_servers, bob, 1)
    assert b"Subject: after a refusal" in stored


def test_some_recipients_refused_is_sent_to_the_others_and_says_who(
    mail_servers: MailServers, alice: MailUser, bob: MailUser
) -> None:
    raw = message(alice, bob, "partly refused")

    with smtp.session(server_for(mail_servers, SMTP, STARTTLS), credentials(alice), policy()) as c:
        result = submit(c, alice.address, ["nobody@example.test", bob.address], raw)

    [refusal] = result.refused
    assert refusal.address == "nobody@example.test"
    assert refusal.code == 550 and not refusal.is_temporary
    assert "User unknown" in refusal.reply
    assert delivered(mail_servers, bob, 1)[0].endswith(raw)


def test_a_message_over_the_announced_size_is_refused_before_sending(
    private_mail_servers: Callable[..., MailServers],
    fault_proxy: Callable[..., FaultProxy],
) -> None:
    servers = private_mail_servers(message_size_limit=10_000)
    alice = servers.add_user("alice@example.test", "alice-password")
    bob = servers.add_user("bob@example.test", "bob-password")
    e = servers.endpoints
    proxy = fault_proxy(e.host, e.submissions_port, tls="implicit")  # counts what is sent
    big = message(alice, bob, "too big", (b"x" * 76 + b"\r\n") * 200)

    with smtp.session(Server(proxy.host, proxy.port, TLS), credentials(alice), policy()) as c:
        before = proxy.bytes_client_to_server
        with pytest.raises(PermanentFailure) as caught:
            submit(c, alice.address, [bob.address], big)
        assert proxy.bytes_client_to_server == before  # not even MAIL FROM
        small = submit(c, alice.address, [bob.address], message(alice, bob, "small"))

    assert caught.value.step == "size"
    assert f"the message is {len(big):,} bytes; the server takes at most 10,000" in str(
        caught.value
    )
    assert small.reply.startswith("250 ")
    [stored] = delivered(servers, bob, 1)
    assert b"Subject: small" in stored


# The fault proxy -------------------------------------------------------------------------------


def test_a_connection_cut_before_the_end_of_data_is_temporary_and_delivers_nothing(
    mail_servers: MailServers, alice: MailUser, bob: MailUser, fault_proxy
) -> None:
    e = mail_servers.endpoints
    proxy: FaultProxy = fault_proxy(e.host, e.submissions_port, tls="implicit")
    # EHLO, AUTH, MAIL, RCPT and DATA fit in 1,000 bytes. The 16 MB message is more than the
    # socket buffers hold, so the cut shows while it is being sent: a cut the client cannot
    # see yet when the end of data goes out would be (correctly) OutcomeUnknown.
    proxy.cut_after(1000, direction="client_to_server")
    raw = message(alice, bob, "cut", (b"x" * 998 + b"\r\n") * 16_000)

    with (
        smtp.session(Server(proxy.host, proxy.port, TLS), credentials(alice), policy()) as c,
        pytest.raises(TemporaryFailure) as caught,
    ):
        submit(c, alice.address, [bob.address], raw)

    assert caught.value.step == "DATA"
    assert proxy.faults_fired == 1
    mail_servers.wait_for_empty_queue()
    assert mail_servers.messages(bob.address) == []


def test_a_reply_lost_after_the_end_of_data_is_unknown_and_the_message_did_arrive(
    mail_servers: MailServers, alice: MailUser, bob: MailUser, fault_proxy
) -> None:
    """Why OutcomeUnknown must never be retried on its own: the server took the message."""
    e = mail_servers.endpoints
    proxy: FaultProxy = fault_proxy(e.host, e.submissions_port, tls="implicit")
    proxy.swallow_reply_after_data_dot()
    raw = message(alice, bob, "did it go")

    with (
        smtp.session(Server(proxy.host, proxy.port, TLS), credentials(alice), policy()) as c,
        pytest.raises(OutcomeUnknown) as caught,
    ):
        submit(c, alice.address, [bob.address], raw)

    assert caught.value.step == "end of data"
    assert delivered(mail_servers, bob, 1)[0].endswith(raw)


# The hook before the end of data ---------------------------------------------------------------


def test_before_final_dot_runs_after_the_body_and_before_the_end_of_data(
    mail_servers: MailServers, alice: MailUser, bob: MailUser, monkeypatch
) -> None:
    raw = message(alice, bob, "hooked")
    events: list[object] = []

    with smtp.session(server_for(mail_servers, SMTP, STARTTLS), credentials(alice), policy()) as c:
        real_send = c.send
        monkeypatch.setattr(c, "send", lambda data: (events.append(data), real_send(data))[1])
        result = submit(c, alice.address, [bob.address], raw, lambda: events.append("hook"))

    assert result.reply.startswith("250 ")
    assert events.count("hook") == 1
    at = events.index("hook")
    last_slice = events[at - 1]
    assert isinstance(last_slice, bytes | memoryview)
    assert bytes(last_slice).endswith(b"Hello.\r\n")
    assert events[at + 1] == b".\r\n"
    assert delivered(mail_servers, bob, 1)[0].endswith(raw)


def test_a_failing_before_final_dot_sends_no_end_of_data_and_delivers_nothing(
    mail_servers: MailServers, alice: MailUser, bob: MailUser
) -> None:
    def refuse() -> None:
        raise RuntimeError("the outbox could not record the end of data")

    with smtp.session(server_for(mail_servers, SMTP, STARTTLS), credentials(alice), policy()) as c:
        with pytest.raises(RuntimeError, match="could not record"):
            submit(c, alice.address, [bob.address], message(alice, bob, "never"), refuse)
        assert c.sock is None  # the connection was dropped, not reused

    mail_servers.wait_for_empty_queue()
    assert mail_servers.messages(bob.address) == []


def test_a_long_body_goes_in_slices_reporting_its_progress(
    mail_servers: MailServers, alice: MailUser, bob: MailUser
) -> None:
    """Slices do not change a byte (dot-stuffing included); progress reaches the whole body."""
    line = b".a line that starts with a dot, then 60 more characters of text here.\r\n"
    raw = message(alice, bob, "in slices", line * (3 * WRITE_SLICE // len(line)))
    progress: list[int] = []

    with smtp.session(server_for(mail_servers, SMTP, STARTTLS), credentials(alice), policy()) as c:
        result = submit(c, alice.address, [bob.address], raw, on_progress=progress.append)

    assert result.reply.startswith("250 ")
    stuffed = len(raw) + raw.count(b"\r\n.")
    assert len(progress) == -(-stuffed // WRITE_SLICE) >= 4
    assert progress == sorted(progress) and progress[-1] == stuffed
    assert delivered(mail_servers, bob, 1)[0].endswith(raw)


def test_a_progress_hook_that_raises_stops_the_message_before_the_end_of_data(
    mail_servers: MailServers, alice: MailUser, bob: MailUser
) -> None:
    """The outbox's lease renewal found the message taken over: nothing may be delivered."""
    raw = message(alice, bob, "stopped midway", (b"x" * 78 + b"\r\n") * (2 * WRITE_SLICE // 80))
    final_dot: list[str] = []

    def taken_over(sent: int) -> None:
        raise RuntimeError(f"taken over after {sent} bytes")

    with smtp.session(server_for(mail_servers, SMTP, STARTTLS), credentials(alice), policy()) as c:
        with pytest.raises(RuntimeError, match=f"after {WRITE_SLICE} bytes"):
            submit(c, alice.address, [bob.address], raw, lambda: final_dot.append("x"), taken_over)
        assert final_dot == []
        assert c.sock is None  # hung up: the server drops the half-sent message

    mail_servers.wait_for_empty_queue()
    assert mail_servers.messages(bob.address) == []


# A fake server, for replies Postfix cannot be made to give ---------------------------------

EHLO_IN_TURN = b"250-fake.test\r\n250-SIZE 1000\r\n250 8BITMIME\r\n"
EHLO_PIPELINING = b"250-fake.test\r\n250-SIZE 1000\r\n250-PIPELINING\r\n250 8BITMIME\r\n"


@pytest.mark.parametrize(
    ("script", "kind", "step"),
    [
        ({"mail": b"421 4.3.2 Service shutting down\r\n"}, TemporaryFailure, "MAIL FROM"),
        ({"rcpt": b"450 4.2.0 Mailbox busy\r\n"}, TemporaryFailure, "RCPT TO"),
        ({"mail": b"553 5.7.1 Sender not owned\r\n"}, PermanentFailure, "MAIL FROM"),
        ({"end_of_data": b"451 4.3.0 Try later\r\n"}, TemporaryFailure, "end of data"),
        ({"end_of_data": b"554 5.7.1 Spam\r\n"}, PermanentFailure, "end of data"),
        ({"end_of_data": b"299 what\r\n"}, OutcomeUnknown, "end of data"),
    ],
)
@pytest.mark.parametrize("ehlo", [EHLO_IN_TURN, EHLO_PIPELINING], ids=["in-turn", "pipelined"])
def test_replies_become_typed_failures_with_the_servers_words(
    fake_server, script: dict[str, bytes], kind: type[Exception], step: str, ehlo: bytes
) -> None:
    words = next(iter(script.values())).decode().strip()
    pipelined_421 = ehlo == EHLO_PIPELINING and words.startswith("421")

    with (
        fake_session(fake_server, fakes.smtp_submission(ehlo=ehlo, **script)) as (client, server),
        pytest.raises(kind) as caught,
    ):
        submit(client, "a@fake.test", ["b@fake.test"], b"Subject: x\r\n\r\nx\r\n")

    assert caught.type is kind
    assert caught.value.step == step
    assert caught.value.server_reply == words
    if pipelined_421:  # the server said it is closing: hung up, never into the data
        assert client.sock is None and server.received[-1] == b"DATA"
    elif kind is not OutcomeUnknown:
        assert server.received[-2:] == [b"rset", b"quit"]  # ready for the next message


def test_a_server_that_takes_data_without_recipients_is_hung_up_on(fake_server) -> None:
    """RFC 2920 says it must refuse DATA then; one that does not gets no data and no dot."""
    sloppy = fakes.smtp_submission(ehlo=EHLO_PIPELINING, rcpt=b"550 5.1.1 No such user\r\n")

    def reply(line: bytes) -> bytes:
        return b"354 Go ahead\r\n" if line == b"DATA" else sloppy(line)

    with fake_session(fake_server, reply) as (client, server), pytest.raises(PermanentFailure):
        submit(client, "a@fake.test", ["b@fake.test"], b"Subject: x\r\n\r\nx\r\n")

    assert client.sock is None
    assert server.received[-1] == b"DATA"


def test_a_pipelined_envelope_goes_on_with_the_accepted_recipients(fake_server) -> None:
    refuse_carol = fakes.smtp_submission(ehlo=EHLO_PIPELINING)

    def reply(line: bytes) -> bytes:
        if line.upper().startswith(b"RCPT TO:<CAROL@"):
            return b"550 5.1.1 No such user\r\n"
        return refuse_carol(line)

    with fake_session(fake_server, reply) as (client, server):
        result = submit(client, "a@fake.test", ["carol@fake.test", "b@fake.test"], b"x\r\n")

    assert result.reply == "250 2.0.0 Ok: queued"
    assert [(r.address, r.reply) for r in result.refused] == [
        ("carol@fake.test", "550 5.1.1 No such user")
    ]
    assert server.received[1:5] == [
        b"MAIL FROM:<a@fake.test> SIZE=3",
        b"RCPT TO:<carol@fake.test>",
        b"RCPT TO:<b@fake.test>",
        b"DATA",
    ]


def test_the_size_check_happens_before_mail_from(fake_server) -> None:
    with (
        fake_session(fake_server, fakes.smtp_submission()) as (client, server),
        pytest.raises(PermanentFailure, match="1,002 bytes; the server takes at most 1,000"),
    ):
        submit(client, "a@fake.test", ["b@fake.test"], b"x" * 1000)

    assert not any(line.startswith((b"MAIL", b"DATA")) for line in server.received)


def test_mail_from_names_size_and_only_the_extensions_needed(fake_server) -> None:
    ehlo = b"250-fake.test\r\n250-SIZE 100000\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
    ascii_message = b"Subject: x\r\n\r\nplain\n"  # bare LF: sent as CRLF, counted as such
    utf8_body = "Subject: x\r\n\r\ncafé\r\n".encode()
    utf8_header = "Subject: café\r\n\r\nx\r\n".encode()

    with fake_session(fake_server, fakes.smtp_submission(ehlo=ehlo)) as (client, server):
        for raw in (ascii_message, utf8_body, utf8_header):
            assert isinstance(submit(client, "a@fake.test", ["b@fake.test"], raw), SubmitResult)
        submit(client, "ä@fake.test", ["b@fake.test"], ascii_message)

    assert [line for line in server.received if line.startswith(b"mail")] == [
        b"mail FROM:<a@fake.test> SIZE=21",
        b"mail FROM:<a@fake.test> SIZE=21 BODY=8BITMIME",
        b"mail FROM:<a@fake.test> SIZE=21 SMTPUTF8 BODY=8BITMIME",
        "mail FROM:<ä@fake.test> SIZE=21 SMTPUTF8".encode(),
    ]


def test_non_ascii_without_the_extensions_is_refused_before_sending(fake_server) -> None:
    ehlo = b"250-fake.test\r\n250 SIZE 100000\r\n"  # neither 8BITMIME nor SMTPUTF8

    with fake_session(fake_server, fakes.smtp_submission(ehlo=ehlo)) as (client, server):
        with pytest.raises(PermanentFailure, match="no 8BITMIME"):
            submit(client, "a@fake.test", ["b@fake.test"], "Subject: x\r\n\r\né\r\n".encode())
        with pytest.raises(PermanentFailure, match="no SMTPUTF8"):
            submit(client, "ä@fake.test", ["b@fake.test"], b"Subject: x\r\n\r\nx\r\n")

    assert not any(line.lower().startswith(b"mail") for line in server.received)


def test_a_server_gone_before_mail_from_is_temporary(fake_server) -> None:
    with fake_session(fake_server, fakes.smtp_submission()) as (client, server):
        client.close()  # as smtplib leaves it after a broken connection
        with pytest.raises(TemporaryFailure, match="connection was lost"):
            submit(client, "a@fake.test", ["b@fake.test"], b"Subject: x\r\n\r\nx\r\n")
