"""Submitting one message on an open, signed-in SMTP session: MAIL, RCPT, DATA.

    with smtp.session(server, credentials, policy, pinned) as client:
        result = smtp_send.submit(client, sender, recipients, raw)

Every outcome is one a service can act on:

- `SubmitResult`: the server answered 250 to the end of data. `refused` lists recipients
  refused at RCPT TO while others were accepted; the message went to the accepted ones only
  (smtplib's `sendmail` does the same). A service shows those refusals; resending the whole
  message would double it for everybody else.
- `TemporaryFailure`: a 4xx reply at any step, every recipient refused with at least one
  4xx among them, or the connection lost before the end of data went out: nothing was
  delivered, so retrying is safe.
- `PermanentFailure`: a 5xx reply (every recipient refused for good, 5xx to MAIL, DATA or
  the end of data), or a message the server cannot take, found before sending anything: too
  big for its announced SIZE, non-ASCII addresses without SMTPUTF8, 8-bit data without
  8BITMIME.
- `OutcomeUnknown`: the end of data went out and the connection broke (or timed out) before
  the reply. The server may have taken the message: this one must not be retried blindly.

MAIL, RCPT and DATA go in one write when the server offers PIPELINING (RFC 2920), their
replies read in order: one round trip instead of one per command.

After a failure the session is put back with RSET (when it still answers), so the next
message can go on the same connection. Nothing here sees a password.

The body goes out in slices of WRITE_SLICE bytes, each its own `sendall` (so the network
time limit applies per slice, not to tens of megabytes at once), and `on_progress(sent)` is
called after each: the outbox renews its lease there, and stops the message by raising (as
with `before_final_dot`, the end of data is then never sent).

Why DATA is done by hand: smtplib's `sendmail`/`data()` send the body and the final dot in one
`send()` and report every failure alike, so a caller cannot tell "cut before the dot" (safe to
retry) from "cut after the dot" (unknown). Here the body and the end of data (".\r\n") are
sent separately; only once `sendall` has handed the whole terminator to the kernel can the
server have received it. A failure while sending it means its last byte never left, so the
server cannot have seen the end of data (over TLS, a partly written record cannot even be
decrypted). Just before the terminator, a server that already hung up or spoke (a 421 for a
time-out) is noticed, so the end of data is not sent into a dead connection.
"""

import re
import select
import smtplib
import socket
import ssl
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from functools import partial

from mailbox.protocols.errors import (
    OutcomeUnknown,
    PermanentFailure,
    SubmitFailure,
    TemporaryFailure,
)
from mailbox.protocols.smtp import SmtpClient, size_limit
from mailbox.protocols.types import RecipientRefused

_LINE_END = re.compile(rb"\r\n|\n|\r")
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)
END_OF_DATA = b".\r\n"
WRITE_SLICE = 256 * 1024  # bytes per write of the body (see the module doc)
Hook = Callable[[], None]
ProgressHook = Callable[[int], None]
Reply = tuple[int, bytes]  # an SMTP reply as smtplib gives it: code, text


@dataclass(frozen=True)
class SubmitResult:
    reply: str  # the server's words after the end of data: "250 2.0.0 Ok: queued as ..."
    refused: tuple[RecipientRefused, ...] = ()  # refused while others were accepted


def submit(
    client: SmtpClient,
    sender: str,
    recipients: Sequence[str],
    message: bytes,
    before_final_dot: Hook | None = None,
    on_progress: ProgressHook | None = None,
    while_envelope: Hook | None = None,
) -> SubmitResult:
    """Sends `message` (RFC 5322 bytes) from `sender` to `recipients`; see the module doc.

    `while_envelope` is called while the server considers the pipelined envelope (before MAIL
    FROM when it cannot pipeline): the outbox records the previous message's 250 there, off
    the path of this one.
    `before_final_dot` is called once the body is out, right before the end of data: the
    outbox records there, durably, that the message may now reach the server.
    `on_progress(bytes_sent)` is called after each slice of the body. If either raises, the
    end of data is not sent, the connection is dropped (the server discards the message)
    and the exception propagates.
    """
    if not recipients:
        raise ValueError("a message needs at least one recipient")
    host = client.endpoint.host
    data = _LINE_END.sub(b"\r\n", message)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    options = _mail_options(client, sender, recipients, data)
    try:
        hooks = (before_final_dot, on_progress)
        envelope = (sender, recipients, options, while_envelope)
        return _transaction(client, envelope, data, hooks)
    except smtplib.SMTPServerDisconnected as exc:  # mail(), rcpt() and the DATA command
        raise TemporaryFailure(host, "sending", _lost(exc)) from exc
    except OutcomeUnknown:
        client.close()  # whatever state the server is in, this connection is done
        raise
    except SubmitFailure:
        _reset(client)
        raise
    finally:
        client.command_encoding = "ascii"  # SMTPUTF8 switched it for this message only


def _mail_options(
    client: SmtpClient, sender: str, recipients: Sequence[str], data: bytes
) -> list[str]:
    """MAIL FROM parameters; refuses before sending what the server announced it cannot take."""
    host = client.endpoint.host
    addresses = [sender, *recipients]
    if any("\r" in a or "\n" in a for a in addresses):
        raise PermanentFailure(host, "addresses", "an address contains a line break")
    options = []
    limit = size_limit(client)
    if limit is not None:
        if limit and len(data) > limit:
            raise PermanentFailure(
                host,
                "size",
                f"the message is {_megabytes(len(data))}; the server takes at most "
                f"{_megabytes(limit)}",
            )
        options.append(f"SIZE={len(data)}")
    head = data.partition(b"\r\n\r\n")[0]
    if not all(a.isascii() for a in addresses) or not head.isascii():
        if not client.has_extn("smtputf8"):
            reason = "the server cannot take non-ASCII addresses or headers (no SMTPUTF8)"
            raise PermanentFailure(host, "MAIL FROM", reason)
        options.append("SMTPUTF8")
    if not data.isascii():
        if not client.has_extn("8bitmime"):
            reason = "the server cannot take 8-bit data (no 8BITMIME)"
            raise PermanentFailure(host, "MAIL FROM", reason)
        options.append("BODY=8BITMIME")
    return options


Envelope = tuple[str, Sequence[str], list[str], Hook | None]  # sender, recipients, options, hook


def _transaction(
    client: SmtpClient,
    envelope: Envelope,
    data: bytes,
    hooks: tuple[Hook | None, ProgressHook | None],
) -> SubmitResult:
    if client.has_extn("pipelining"):
        mail, rcpts, data_reply = _envelope_pipelined(client, *envelope)
    else:
        mail, rcpts, data_reply = _envelope_in_turn(client, *envelope)
    try:
        refused = _accepted_envelope(client.endpoint.host, mail, rcpts, data_reply)
    except SubmitFailure:
        if data_reply[0] == 354:  # DATA accepted anyway: only hanging up ends it unsent
            client.close()
        raise
    reply = _send_data(client, data, *hooks)
    return SubmitResult(reply, refused)


def _envelope_in_turn(
    client: SmtpClient,
    sender: str,
    recipients: Sequence[str],
    options: list[str],
    while_envelope: Hook | None,
) -> tuple[Reply, list[tuple[str, Reply]], Reply]:
    """MAIL, each RCPT, DATA, one reply awaited after each; stops at a refusal that ends it."""
    if while_envelope is not None:
        _call_or_hang_up(client, while_envelope)
    mail = client.mail(sender, options)
    if mail[0] != 250:
        return mail, [], (0, b"")
    rcpts = [(recipient, client.rcpt(recipient)) for recipient in recipients]
    if not any(code in (250, 251) for _, (code, _) in rcpts):
        return mail, rcpts, (0, b"")
    return mail, rcpts, client.docmd("DATA")


def _envelope_pipelined(
    client: SmtpClient,
    sender: str,
    recipients: Sequence[str],
    options: list[str],
    while_envelope: Hook | None,
) -> tuple[Reply, list[tuple[str, Reply]], Reply]:
    """MAIL, each RCPT and DATA in one write, then their replies in order (RFC 2920): one
    round trip instead of one per command. The server refuses DATA itself when MAIL or every
    RCPT failed."""
    if any(option.upper() == "SMTPUTF8" for option in options):
        client.command_encoding = "utf-8"  # as smtplib's mail() does
    extra = "".join(f" {option}" for option in options)
    commands = [f"MAIL FROM:{smtplib.quoteaddr(sender)}{extra}"]
    commands += [f"RCPT TO:{smtplib.quoteaddr(recipient)}" for recipient in recipients]
    commands.append("DATA")
    client.send("".join(f"{command}\r\n" for command in commands))
    if while_envelope is not None:
        _call_or_hang_up(client, while_envelope)
    replies: list[Reply] = []
    while len(replies) < len(commands):
        replies.append(client.getreply())
        if replies[-1][0] == 421:  # closing: no more replies will come, the 421 answers all
            client.close()
            replies += [replies[-1]] * (len(commands) - len(replies))
    mail, *rcpt_replies, data = replies
    return mail, list(zip(recipients, rcpt_replies, strict=True)), data


def _accepted_envelope(
    host: str, mail: Reply, rcpts: list[tuple[str, Reply]], data: Reply
) -> tuple[RecipientRefused, ...]:
    """The recipients refused while others were accepted; raises when the message cannot go."""
    if mail[0] != 250:
        raise _failure(host, "MAIL FROM", *mail)
    refused = [
        RecipientRefused(recipient, code, _reply(code, text))
        for recipient, (code, text) in rcpts
        if code not in (250, 251)
    ]
    if len(refused) == len(rcpts):
        fail = TemporaryFailure if any(r.is_temporary for r in refused) else PermanentFailure
        raise fail(host, "RCPT TO", "every recipient was refused", refused[0].reply, tuple(refused))
    if data[0] != 354:
        raise _failure(host, "DATA", *data)
    return tuple(refused)


def _send_data(
    client: SmtpClient,
    data: bytes,
    before_final_dot: Hook | None,
    on_progress: ProgressHook | None,
) -> str:
    """The dot-stuffed message, then the end of data, then its reply (see the module doc)."""
    host = client.endpoint.host
    _no_delay(client)
    try:
        _send_body(client, _LEADING_DOT.sub(b"..", data), on_progress)
        if _server_spoke(client):  # it should be silent until the end of data
            code, text = client.getreply()
            client.close()  # it may still be reading our data: an RSET would be part of it
            raise _failure(host, "DATA", code, text, fallback=TemporaryFailure)
        if before_final_dot is not None:
            _call_or_hang_up(client, before_final_dot)
        client.send(END_OF_DATA)
    except smtplib.SMTPServerDisconnected as exc:
        raise TemporaryFailure(host, "DATA", _lost(exc)) from exc
    try:
        code, text = client.getreply()
    except smtplib.SMTPServerDisconnected as exc:
        reason = f"{_lost(exc)} after the end of data: the server may have taken the message"
        raise OutcomeUnknown(host, "end of data", reason) from exc
    if code == 250:
        return _reply(code, text)
    raise _failure(host, "end of data", code, text, fallback=OutcomeUnknown)


def _no_delay(client: SmtpClient) -> None:
    """The end of data is a small write right after the body: Nagle's algorithm would hold it
    until the server acknowledges the body, which a delayed ACK puts off by up to 40 ms a
    message (smtplib's one write of body and dot never meets this)."""
    if client.sock is not None:
        with suppress(OSError):
            client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _send_body(client: SmtpClient, body: bytes, on_progress: ProgressHook | None) -> None:
    view = memoryview(body)
    for start in range(0, len(view), WRITE_SLICE):
        client.send(view[start : start + WRITE_SLICE])
        if on_progress is not None:
            _call_or_hang_up(client, partial(on_progress, min(start + WRITE_SLICE, len(view))))


def _call_or_hang_up(client: SmtpClient, hook: Hook) -> None:
    """Runs an outbox hook; if it raises, the end of data must never go: hang up first."""
    try:
        hook()
    except BaseException:
        client.close()  # no end of data: the server drops what it has of the message
        raise


def _server_spoke(client: SmtpClient) -> bool:
    sock = client.sock
    if sock is None:
        return True
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def _failure(
    host: str,
    step: str,
    code: int,
    text: bytes,
    fallback: type[SubmitFailure] = PermanentFailure,
) -> SubmitFailure:
    """4xx → temporary, 5xx → permanent, anything else (not SMTP) → `fallback`."""
    reply = _reply(code, text)
    if 400 <= code < 500:
        kind: type[SubmitFailure] = TemporaryFailure
    elif 500 <= code < 600:
        kind = PermanentFailure
    else:
        kind = fallback
    return kind(host, step, f"the server answered {reply}", reply)


def _reset(client: SmtpClient) -> None:
    """RSET, so the next message can go; a connection that is gone stays gone (caller sees)."""
    if client.sock is None:
        return
    # A connection that fails here is closed by smtplib: the next submit() reports it.
    with suppress(smtplib.SMTPException, OSError):
        client.rset()


def _reply(code: int, text: bytes) -> str:
    words = text.decode("utf-8", "replace")
    return f"{code} {words}" if code > 0 else f"not an SMTP reply: {words}"


def _lost(exc: smtplib.SMTPServerDisconnected) -> str:
    if isinstance(exc.__context__, TimeoutError):
        return "the server did not answer in time"
    return "the connection was lost"


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size:,} bytes"
