"""Tiny fake servers for what a real server cannot be made to do (no STARTTLS, echoing the
password, speaking HTTP): a greeting, then one scripted reply per line, every line recorded."""

import contextlib
import socket
import threading
from collections.abc import Callable

Reply = Callable[[bytes], bytes]


class FakeServer:
    """Listens on a free port of 127.0.0.1; `received` holds the lines clients sent."""

    def __init__(self, greeting: bytes, reply: Reply) -> None:
        self.greeting = greeting
        self.reply = reply
        self.received: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.host, self.port = "127.0.0.1", self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []

    def start(self) -> "FakeServer":
        self._spawn(self._accept_loop)
        return self

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes accept()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._spawn(self._serve, client)

    def _serve(self, client: socket.socket) -> None:
        client.settimeout(5)
        with client, contextlib.suppress(OSError), client.makefile("rb") as lines:
            client.sendall(self.greeting)
            for line in lines:
                self.received.append(line.rstrip(b"\r\n"))
                client.sendall(self.reply(line.rstrip(b"\r\n")))


def _imap_tag_and_verb(line: bytes) -> tuple[bytes, bytes]:
    tag, _, rest = line.partition(b" ")
    return tag, (rest.split() or [b""])[0].upper()


def imap_without_starttls(line: bytes) -> bytes:
    tag, verb = _imap_tag_and_verb(line)
    if verb == b"CAPABILITY":
        return b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK done\r\n"
    if verb == b"LOGOUT":
        return b"* BYE bye\r\n" + tag + b" OK done\r\n"
    return tag + b" BAD unknown command\r\n"


def imap_echoing_login(line: bytes) -> bytes:
    """A broken server that repeats the LOGIN line, password and all, in its refusal."""
    tag, verb = _imap_tag_and_verb(line)
    if verb == b"LOGIN":
        return tag + b" NO no such user: " + line.split(b" ", 2)[2] + b"\r\n"
    return imap_without_starttls(line)


IMAP_GREETING = b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] fake ready\r\n"


def pop3_without_stls(line: bytes) -> bytes:
    verb = (line.split() or [b""])[0].upper()
    if verb == b"CAPA":
        return b"+OK\r\nUSER\r\nUIDL\r\n.\r\n"
    if verb in (b"USER", b"QUIT"):
        return b"+OK\r\n"
    if verb == b"PASS":
        return b"-ERR [AUTH] wrong password " + line[5:] + b"\r\n"  # echoes, as a broken one
    return b"-ERR unknown command\r\n"


POP3_GREETING = b"+OK fake ready\r\n"


def smtp_without_starttls(line: bytes) -> bytes:
    verb = (line.split() or [b""])[0].upper()
    if verb == b"EHLO":
        return b"250-fake.test\r\n250-AUTH PLAIN LOGIN\r\n250 SIZE 1000\r\n"
    if verb == b"QUIT":
        return b"221 bye\r\n"
    return b"502 5.5.2 unknown command\r\n"


SMTP_GREETING = b"220 fake.test ESMTP\r\n"


def http(line: bytes) -> bytes:
    return b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"


HTTP_GREETING = http(b"")


def smtp_submission(
    ehlo: bytes = b"250-fake.test\r\n250-SIZE 1000\r\n250 8BITMIME\r\n",
    mail: bytes = b"250 2.1.0 Ok\r\n",
    rcpt: bytes = b"250 2.1.5 Ok\r\n",
    end_of_data: bytes = b"250 2.0.0 Ok: queued\r\n",
) -> Reply:
    """A scripted submission server: the replies to MAIL, RCPT and the end of data are given;
    lines between DATA's 354 and the lone dot get no reply. Like Postfix, it refuses DATA
    unless MAIL and at least one RCPT were accepted (as a pipelining client relies on)."""
    in_data = False
    accepted: set[bytes] = set()  # the verbs answered 2xx in this transaction

    def reply(line: bytes) -> bytes:
        nonlocal in_data
        if in_data:
            in_data = line != b"."
            return b"" if in_data else end_of_data
        verb = (line.split() or [b""])[0].upper()
        if verb == b"DATA":
            if not {b"MAIL", b"RCPT"} <= accepted:
                return b"554 5.5.1 Error: no valid recipients\r\n"
            in_data = True
            accepted.clear()
            return b"354 End data with <CR><LF>.<CR><LF>\r\n"
        if verb in (b"MAIL", b"RCPT") and {b"MAIL": mail, b"RCPT": rcpt}[verb].startswith(b"2"):
            accepted.add(verb)
        if verb == b"RSET":
            accepted.clear()
        answers = {b"EHLO": ehlo, b"MAIL": mail, b"RCPT": rcpt, b"RSET": b"250 2.0.0 Ok\r\n"}
        return answers.get(verb, b"221 2.0.0 Bye\r\n" if verb == b"QUIT" else b"502 5.5.2 no\r\n")

    return reply
