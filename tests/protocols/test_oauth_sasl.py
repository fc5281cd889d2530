"""OAuth 2.0 sign-in (OAUTHBEARER, XOAUTH2): the SASL messages against RFC 7628's and Google's
examples, then IMAP, SMTP and POP3 against the real Dovecot and Postfix, whose oauth2 passdb
asks tests/harness/oauth_server.py about each token."""

import base64
import itertools
import logging
import secrets
from collections.abc import Callable

import pytest

from mailbox.protocols import imap, pop3, sasl_oauth, smtp
from mailbox.protocols.errors import AuthFailed, MailProtocolError, TokenRejected
from mailbox.protocols.types import Credentials, Protocol, Server
from tests.harness import messages
from tests.harness.mailservers import MailServers, MailUser
from tests.harness.oauth_server import OAuthServer
from tests.protocols import fakes
from tests.protocols.support import IMAP, NONE, POP3, SMTP, TLS, check, policy, server_for
from tests.protocols.test_secrets import exception_chain, frame_locals, shown

BOTH = ("oauthbearer", "xoauth2")  # Dovecot offers OAUTHBEARER: it is chosen
XOAUTH2_ONLY = ("xoauth2",)  # Microsoft's offer: the fallback
OAUTH_SERVERS = pytest.mark.parametrize(
    ("mechanisms", "expected"), [(BOTH, "OAUTHBEARER"), (XOAUTH2_ONLY, "XOAUTH2")]
)
RFC_7628_TOKEN = "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg=="
UNKNOWN_TOKEN = "Canary-Token-9d1e"  # a module global: test frames' locals must not hold it
FakeFactory = Callable[[bytes, fakes.Reply], fakes.FakeServer]
_numbers = itertools.count(1)


# The SASL messages -----------------------------------------------------------------------------


def test_oauthbearer_is_rfc_7628s_example_to_the_byte() -> None:
    """RFC 7628 4.1, the client's first message of its IMAP example."""
    message = sasl_oauth.oauthbearer("user@example.com", RFC_7628_TOKEN, "server.example.com", 143)

    assert message == (
        b"n,a=user@example.com,\x01host=server.example.com\x01port=143\x01"
        b"auth=Bearer " + RFC_7628_TOKEN.encode() + b"\x01\x01"
    )
    assert sasl_oauth.encoded(message) == (
        "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVy"
        "IHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB"
    )


def test_oauthbearer_escapes_the_user_name_as_rfc_5801_says() -> None:
    message = sasl_oauth.oauthbearer("a,b=c@example.com", "token")

    assert message == b"n,a=a=2Cb=3Dc@example.com,\x01auth=Bearer token\x01\x01"


def test_xoauth2_is_googles_example_to_the_byte() -> None:
    message = sasl_oauth.xoauth2(
        "someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"
    )

    assert sasl_oauth.encoded(message) == (
        "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhk"
        "SFJoZG1semRHRXVZMjl0Q2cBAQ=="
    )


def test_an_error_challenge_is_answered_as_each_mechanism_wants() -> None:
    """RFC 7628 4.3's error challenge: OAUTHBEARER answers %x01, XOAUTH2 an empty line."""
    challenge = base64.b64decode(
        "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxlX3Njb3BlIiwib3BlbmlkLWNvbmZp"
        "Z3VyYXRpb24iOiJodHRwczovL2V4YW1wbGUuY29tLy53ZWxsLWtub3duL29wZW5pZC1jb25maWd1cmF0aW9uIn0="
    )
    for mechanism, closing in (("OAUTHBEARER", b"\x01"), ("XOAUTH2", b"")):
        exchange = sasl_oauth.exchange(mechanism, "user@example.com", "secret-token")

        assert b"secret-token" in exchange(b"")  # IMAP's first, empty, continuation
        assert exchange(challenge) == closing
        assert exchange(challenge) == closing  # the token is never sent twice
        assert "secret-token" not in repr(exchange)


def test_a_challenge_that_is_not_base64_still_gets_its_closing_message() -> None:
    assert sasl_oauth.decoded(b"not base64!") == b""


def test_oauthbearer_is_preferred_and_xoauth2_is_the_fallback() -> None:
    assert sasl_oauth.choose_mechanism(["PLAIN", "XOAUTH2", "OAUTHBEARER"]) == "OAUTHBEARER"
    assert sasl_oauth.choose_mechanism(["plain", "xoauth2"]) == "XOAUTH2"
    assert sasl_oauth.choose_mechanism(["PLAIN", "LOGIN"]) is None


def test_credentials_never_show_the_token() -> None:
    shown = repr(Credentials("a@example.test", "", oauth_token="secret-token"))

    assert "secret-token" not in shown and "oauth_token='***'" in shown


# The real servers ------------------------------------------------------------------------------


def new_user(servers: MailServers) -> MailUser:
    address = f"oauth-{next(_numbers)}-{secrets.token_hex(3)}@{servers.endpoints.domains[0]}"
    return servers.add_user(address, secrets.token_urlsafe(12))


def token_credentials(user: MailUser, token: str) -> Credentials:
    return Credentials(user.login, "", oauth_token=token)


@OAUTH_SERVERS
@pytest.mark.parametrize("protocol", [IMAP, POP3])
def test_it_signs_in_to_imap_and_pop3_with_a_token(
    oauth_mail_servers: Callable[..., MailServers],
    oauth_server: OAuthServer,
    protocol: Protocol,
    mechanisms: tuple[str, ...],
    expected: str,
) -> None:
    servers = oauth_mail_servers(mechanisms)
    user = new_user(servers)
    creds = token_credentials(user, oauth_server.issue(user.address))

    check(protocol, server_for(servers, protocol, TLS), creds, policy())

    login = f"{protocol}-login: Info: Login: user=<{user.login}>, method={expected},"
    assert login in servers.dovecot.log.read_text()


@OAUTH_SERVERS
def test_it_signs_in_to_smtp_with_a_token_and_the_message_arrives(
    oauth_mail_servers: Callable[..., MailServers],
    oauth_server: OAuthServer,
    mechanisms: tuple[str, ...],
    expected: str,
) -> None:
    servers = oauth_mail_servers(mechanisms)
    sender, recipient = new_user(servers), new_user(servers)
    raw = messages.plain_text(
        messages.Envelope(
            sender=messages.person(sender.address),
            to=(messages.person(recipient.address),),
            subject=f"Signed in with {expected}",
        )
    )
    creds = token_credentials(sender, oauth_server.issue(sender.address))

    with smtp.session(server_for(servers, SMTP, TLS), creds, policy()) as client:
        assert expected in smtp.auth_mechanisms(client)
        client.sendmail(sender.address, [recipient.address], raw)

    delivered = servers.wait_for_messages(recipient.address, 1)[0].raw
    assert f"Subject: Signed in with {expected}".encode() in delivered
    log = servers.postfix.log.read_text()
    assert f"sasl_method={expected}, sasl_username={sender.login}" in log


def _spoil(oauth_server: OAuthServer, user: MailUser, how: str) -> str:
    if how == "unknown":
        return secrets.token_urlsafe(32)
    if how == "someone else's":  # Dovecot checks the introspected username
        return oauth_server.issue(f"someone-else@{user.address.partition('@')[2]}")
    token = oauth_server.issue(user.address)
    (oauth_server.revoke if how == "revoked" else oauth_server.expire)(token)
    return token


def _refused_and_still_answering(
    protocol: Protocol, server: Server, creds: Credentials
) -> TokenRejected:
    """The sign-in's TokenRejected, once the connection has answered one more command: the
    SASL exchange was closed, not left waiting for the client's next line."""
    steps = {IMAP: imap, POP3: pop3, SMTP: smtp}[protocol]
    client = steps.connect(server, policy())
    try:
        with pytest.raises(TokenRejected) as caught:
            steps.login(client, creds)
        if protocol is IMAP:
            client.noop()
        elif protocol is POP3:
            assert "SASL" in pop3.capabilities(client)
        else:
            assert client.noop()[0] == 250
    finally:
        steps.close(client)
    return caught.value


@OAUTH_SERVERS
@pytest.mark.parametrize("protocol", [IMAP, POP3, SMTP])
@pytest.mark.parametrize("how", ["revoked", "expired", "unknown", "someone else's"])
def test_a_refused_token_is_token_rejected_without_the_token(
    oauth_mail_servers: Callable[..., MailServers],
    oauth_server: OAuthServer,
    caplog: pytest.LogCaptureFixture,
    protocol: Protocol,
    how: str,
    mechanisms: tuple[str, ...],
    expected: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    servers = oauth_mail_servers(mechanisms)
    user = new_user(servers)
    token = _spoil(oauth_server, user, how)

    server = server_for(servers, protocol, TLS)

    error = _refused_and_still_answering(protocol, server, token_credentials(user, token))

    assert error.__cause__ is None and error.__context__ is None
    for text in (str(error), repr(error), error.server_reply, caplog.text):
        assert token not in text
    assert "refused the sign-in" in str(error)


@pytest.mark.parametrize("protocol", [IMAP, POP3, SMTP])
def test_no_frame_that_a_refusals_traceback_reaches_holds_the_token(
    oauth_mail_servers: Callable[..., MailServers], protocol: Protocol
) -> None:
    """As tests/protocols/test_secrets.py checks for passwords."""
    servers = oauth_mail_servers()
    creds = token_credentials(new_user(servers), UNKNOWN_TOKEN)

    with pytest.raises(TokenRejected) as caught:
        check(protocol, server_for(servers, protocol, TLS), creds, policy())

    for exc in exception_chain(caught.value):
        for name, value in frame_locals(exc):
            for text in shown(value):
                assert UNKNOWN_TOKEN not in text, f"{name} in a frame of {type(exc).__name__}"


# Not SMTP: Postfix 3.7 turns Dovecot's temporary failure into 535 (see the fake's 454 below).
@pytest.mark.parametrize("protocol", [IMAP, POP3])
def test_a_token_server_that_is_down_is_not_a_refused_token(
    oauth_mail_servers: Callable[..., MailServers], oauth_server: OAuthServer, protocol: Protocol
) -> None:
    """Dovecot could not ask ([UNAVAILABLE], [SYS/TEMP]): a new token would not help, so it is
    a plain AuthFailed."""
    servers = oauth_mail_servers()
    user = new_user(servers)
    creds = token_credentials(user, oauth_server.issue(user.address))
    oauth_server.failing = True
    try:
        with pytest.raises(AuthFailed) as caught:
            check(protocol, server_for(servers, protocol, TLS), creds, policy())
    finally:
        oauth_server.failing = False

    assert not isinstance(caught.value, TokenRejected), caught.value


@pytest.mark.parametrize("protocol", [IMAP, POP3, SMTP])
def test_passwords_still_work_beside_tokens(
    oauth_mail_servers: Callable[..., MailServers], protocol: Protocol
) -> None:
    servers = oauth_mail_servers()
    user = new_user(servers)
    server = server_for(servers, protocol, TLS)

    check(protocol, server, Credentials(user.login, user.password), policy())
    with pytest.raises(AuthFailed) as caught:
        check(protocol, server, Credentials(user.login, "wrong"), policy())

    assert not isinstance(caught.value, TokenRejected)


FAKES = {
    IMAP: (fakes.IMAP_GREETING, fakes.imap_without_starttls),
    POP3: (fakes.POP3_GREETING, fakes.pop3_without_stls),
    SMTP: (fakes.SMTP_GREETING, fakes.smtp_without_starttls),
}


@pytest.mark.parametrize("protocol", [IMAP, POP3, SMTP])
def test_a_server_without_oauth_gets_no_token(fake_server: FakeFactory, protocol: Protocol) -> None:
    fake = fake_server(*FAKES[protocol])
    creds = Credentials("someone@example.test", "", oauth_token="secret-token")

    with pytest.raises(MailProtocolError) as caught:
        check(protocol, Server(fake.host, fake.port, NONE), creds, policy())

    assert type(caught.value) is AuthFailed and "no OAuth sign-in" in str(caught.value)
    assert not any(b"AUTH" in line.upper() for line in fake.received)  # nothing was tried


def _smtp_xoauth2(reply: bytes) -> fakes.Reply:
    def answer(line: bytes) -> bytes:
        verb = (line.split() or [b""])[0].upper()
        if verb == b"EHLO":
            return b"250-fake.test\r\n250 AUTH PLAIN XOAUTH2\r\n"
        return reply if verb == b"AUTH" else fakes.smtp_without_starttls(line)

    return answer


def test_an_smtp_server_that_cannot_check_the_token_now_is_not_a_refused_token(
    fake_server: FakeFactory,
) -> None:
    """RFC 4954's 454: the server's trouble; only 535 says the token is bad."""
    fake = fake_server(fakes.SMTP_GREETING, _smtp_xoauth2(b"454 4.7.0 Try again later\r\n"))
    creds = Credentials("someone@example.test", "", oauth_token="secret-token")

    with pytest.raises(AuthFailed) as caught:
        check(SMTP, Server(fake.host, fake.port, NONE), creds, policy())

    assert type(caught.value) is AuthFailed
    assert caught.value.server_reply == "454 4.7.0 Try again later"
