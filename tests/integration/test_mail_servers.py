"""The real Dovecot and Postfix the suite runs against do what the product's tests rely on.

Clients are the standard library's, with certificate verification on (trusting the test CA).
"""

import imaplib
import poplib
import re
import smtplib
import socket
import ssl
import time
from collections.abc import Callable

import pytest

from tests.harness import messages
from tests.harness.mailservers import MailEndpoints, MailServers, MailUser
from tests.harness.ports import STANDARD_HOST

QUICK = 0.4  # seconds: a refusal the product waits for must not stall its tests
STANDARD_HOST = STANDARD_HOST


def tls(endpoints: MailEndpoints) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(endpoints.ca_file))


def mail_from(sender: MailUser, to: MailUser, subject: str) -> bytes:
    envelope = messages.Envelope(
        sender=messages.person(sender.address, "Sender"),
        to=(messages.person(to.address, "Recipient"),),
        subject=subject,
        message_id=f"<{subject.replace(' ', '-')}@example.test>",
    )
    return messages.plain_text(envelope, body=f"Body of {subject}.\n")


# IMAP ---------------------------------------------------------------------------------------


def test_imap_login_after_starttls(mail_servers: MailServers, mail_user: Callable[..., MailUser]):
    user, e = mail_user(), mail_servers.endpoints
    with imaplib.IMAP4(e.host, e.imap_port, timeout=10) as client:
        assert "STARTTLS" in client.capabilities
        client.starttls(ssl_context=tls(e))
        assert client.login(user.login, user.password)[0] == "OK"


def test_imap_login_with_implicit_tls(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
):
    user, e = mail_user(), mail_servers.endpoints
    with imaplib.IMAP4_SSL(e.host, e.imaps_port, ssl_context=tls(e), timeout=10) as client:
        assert client.login(user.login, user.password)[0] == "OK"


def test_imap_certificate_is_verified_against_the_test_ca(mail_servers: MailServers):
    e = mail_servers.endpoints
    untrusting = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, but trusts no CA at all
    with pytest.raises(ssl.SSLCertVerificationError):
        imaplib.IMAP4_SSL(e.host, e.imaps_port, ssl_context=untrusting)


def test_imap_special_use_folders_exist_and_are_subscribed(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
):
    user = mail_user()
    with mail_servers.imap(user.address) as client:
        status, listed = client.list()
        assert status == "OK"
        attributes = {_mailbox_name(line): _attributes(line) for line in listed}
        status, subscribed = client.lsub()
        subscribed_names = {_mailbox_name(line) for line in subscribed}
    for name, use in [
        ("Drafts", "\\Drafts"),
        ("Sent", "\\Sent"),
        ("Junk", "\\Junk"),
        ("Trash", "\\Trash"),
        ("Archive", "\\Archive"),
    ]:
        assert use in attributes[name], (name, attributes)
        assert name in subscribed_names
    assert "INBOX" in attributes


def test_imap_advertises_condstore_and_qresync(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
):
    user = mail_user()
    mail_servers.seed(user.address, [messages.plain_text()])
    with mail_servers.imap(user.address) as client:
        capabilities = client.capability()[1][0].decode().upper().split()
        assert "CONDSTORE" in capabilities and "QRESYNC" in capabilities
        assert client.enable("QRESYNC")[0] == "OK"
        client.select("INBOX")
        assert client.untagged_responses.get("OK") is not None
        highest = [r for r in client.untagged_responses["OK"] if b"HIGHESTMODSEQ" in r]
        assert highest, client.untagged_responses


def test_imap_wrong_password_is_refused_quickly(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
):
    user, e = mail_user(), mail_servers.endpoints
    with imaplib.IMAP4_SSL(e.host, e.imaps_port, ssl_context=tls(e), timeout=10) as client:
        # Repeated failures too: Dovecot's growing per-IP penalty is off.
        for wrong in ("wrong-1", "wrong-2", "wrong-3", user.password.upper()):
            started = time.monotonic()
            with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
                client.login(user.login, wrong)
            assert time.monotonic() - started < QUICK
        with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
            client.login("nobody-at-all@example.test", "whatever")
        # The same connection (and so the same IP) logs in right after.
        assert client.login(user.login, user.password)[0] == "OK"


def test_users_are_added_idempotently_and_passwords_can_change(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
):
    user, e = mail_user(), mail_servers.endpoints
    assert mail_servers.add_user(user.address.upper(), user.password) == user
    changed = mail_servers.add_user(user.address, "a-new-password")
    assert changed.login == user.login and changed.password == "a-new-password"
    with imaplib.IMAP4_SSL(e.host, e.imaps_port, ssl_context=tls(e), timeout=10) as client:
        with pytest.raises(imaplib.IMAP4.error):
            client.login(user.login, user.password)
        assert client.login(user.login, "a-new-password")[0] == "OK"


def _mailbox_name(line: bytes) -> str:
    return line.decode().rsplit(" ", 1)[1].strip('"')


def _attributes(line: bytes) -> set[str]:
    match = re.match(r"\(([^)]*)\)", line.decode())
    assert match, line
    return set(match.group(1).split())


# POP3 ---------------------------------------------------------------------------------------


def test_pop3_login_after_stls(mail_servers: MailServers, mail_user: Callable[..., MailUser]):
    user, e = mail_user(), mail_servers.endpoints
    client = poplib.POP3(e.host, e.pop3_port, timeout=10)
    try:
        assert "STLS" in client.capa()
        client.stls(context=tls(e))
        client.user(user.login)
        assert client.pass_(user.password).startswith(b"+OK")
        assert client.stat() == (0, 0)
    finally:
        client.quit()


def test_pop3_implicit_tls_lists_seeded_messages_with_uidl(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
):
    user, e = mail_user(), mail_servers.endpoints
    seeded = messages.thread(3)
    mail_servers.seed(user.address, seeded)
    client = poplib.POP3_SSL(e.host, e.pop3s_port, context=tls(e), timeout=10)
    try:
        client.user(user.login)
        client.pass_(user.password)
        uidl = client.uidl()[1]
        assert len(uidl) == 3
        assert len({line.split()[1] for line in uidl}) == 3  # unique ids
        _, lines, _ = client.retr(2)
        assert b"\r\n".join(lines) + b"\r\n" == seeded[1]
    finally:
        client.quit()


def test_pop3_wrong_password_is_refused_quickly(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
):
    user, e = mail_user(), mail_servers.endpoints
    client = poplib.POP3_SSL(e.host, e.pop3s_port, context=tls(e), timeout=10)
    try:
        client.user(user.login)
        started = time.monotonic()
        with pytest.raises(poplib.error_proto, match="AUTH"):
            client.pass_("wrong")
        assert time.monotonic() - started < QUICK
    finally:
        client.close()


# SMTP ---------------------------------------------------------------------------------------


def test_submission_offers_auth_only_after_starttls(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
):
    user, e = mail_user(), mail_servers.endpoints
    with smtplib.SMTP(e.host, e.submission_port, timeout=10) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        assert not client.has_extn("auth")
        client.starttls(context=tls(e))
        client.ehlo()
        assert client.has_extn("auth")
        assert client.login(user.login, user.password)[0] == 235


def test_submissions_auth_with_implicit_tls(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
):
    user, e = mail_user(), mail_servers.endpoints
    with smtplib.SMTP_SSL(e.host, e.submissions_port, context=tls(e), timeout=10) as client:
        assert client.login(user.login, user.password)[0] == 235


def test_submission_refuses_mail_without_auth(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
):
    user, e = mail_user(), mail_servers.endpoints
    with smtplib.SMTP(e.host, e.submission_port, timeout=10) as client:
        client.starttls(context=tls(e))
        code, reply = client.mail(user.address)
        assert 500 <= code < 600, reply


def test_submission_refuses_a_wrong_password_quickly(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
):
    user, e = mail_user(), mail_servers.endpoints
    with smtplib.SMTP_SSL(e.host, e.submissions_port, context=tls(e), timeout=10) as client:
        started = time.monotonic()
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            client.login(user.login, "wrong")
        assert refused.value.smtp_code == 535
        assert time.monotonic() - started < QUICK


def test_message_sent_over_submission_arrives_in_the_recipients_inbox(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
):
    sender, recipient, e = mail_user(), mail_user(domain="other.test"), mail_servers.endpoints
    message = mail_from(sender, recipient, "arrival check")
    with smtplib.SMTP(e.host, e.submission_port, timeout=10) as client:
        client.starttls(context=tls(e))
        client.login(sender.login, sender.password)
        assert client.sendmail(sender.address, [recipient.address], message) == {}
    [arrived] = mail_servers.wait_for_messages(recipient.address, 1, timeout=5)
    assert b"Message-ID: <arrival-check@example.test>" in arrived.raw
    assert arrived.raw.endswith(b"Body of arrival check.\r\n")
    assert f"for <{recipient.address}>".encode() in arrived.raw  # Dovecot's Received header
    assert mail_servers.messages(sender.address) == []


def test_relaying_to_an_outside_domain_is_refused_at_rcpt(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
):
    sender, e = mail_user(), mail_servers.endpoints
    with smtplib.SMTP_SSL(e.host, e.submissions_port, context=tls(e), timeout=10) as client:
        client.login(sender.login, sender.password)
        assert client.mail(sender.address)[0] == 250
        code, reply = client.rcpt("someone@example.com")
        assert code == 554 and b"Relay access denied" in reply
        assert client.rcpt("someone@example.test.example.com")[0] == 554


def test_unknown_local_recipient_is_refused_at_rcpt(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
):
    sender, e = mail_user(), mail_servers.endpoints
    with smtplib.SMTP_SSL(e.host, e.submissions_port, context=tls(e), timeout=10) as client:
        client.login(sender.login, sender.password)
        client.mail(sender.address)
        code, _ = client.rcpt("nobody-here@example.test")
        assert code == 550


def test_plain_smtp_port_takes_mail_for_test_domains_only(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
):
    recipient, e = mail_user(), mail_servers.endpoints
    with smtplib.SMTP(e.host, e.smtp_port, timeout=10) as client:
        client.ehlo()
        assert not client.has_extn("auth")
        assert client.mail("outsider@example.com")[0] == 250
        assert client.rcpt("someone@example.com")[0] == 554
        assert client.rcpt(recipient.address)[0] == 250
        assert client.data(messages.plain_text())[0] == 250
    mail_servers.wait_for_messages(recipient.address, 1, timeout=5)


# Standard ports on STANDARD_HOST (for discovery tests) ----------------------------------------


def test_standard_imap_ports_answer(mail_servers: MailServers, mail_user: Callable[..., MailUser]):
    user, context = mail_user(), tls(mail_servers.endpoints)
    with imaplib.IMAP4(STANDARD_HOST, 143, timeout=10) as client:
        assert "LOGINDISABLED" in client.capabilities  # not loopback-to-itself: TLS first
        client.starttls(ssl_context=context)
        assert client.login(user.login, user.password)[0] == "OK"
    with imaplib.IMAP4_SSL(STANDARD_HOST, 993, ssl_context=context, timeout=10) as client:
        assert client.login(user.login, user.password)[0] == "OK"


def test_standard_pop3_ports_answer(mail_servers: MailServers, mail_user: Callable[..., MailUser]):
    user, context = mail_user(), tls(mail_servers.endpoints)
    for client in (
        poplib.POP3(STANDARD_HOST, 110, timeout=10),
        poplib.POP3_SSL(STANDARD_HOST, 995, context=context, timeout=10),
    ):
        try:
            if not isinstance(client, poplib.POP3_SSL):
                client.stls(context=context)
            client.user(user.login)
            assert client.pass_(user.password).startswith(b"+OK")
        finally:
            client.quit()


def test_standard_submission_ports_answer(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
):
    user, context = mail_user(), tls(mail_servers.endpoints)
    with smtplib.SMTP(STANDARD_HOST, 587, timeout=10) as client:
        client.starttls(context=context)
        assert client.login(user.login, user.password)[0] == 235
    with smtplib.SMTP_SSL(STANDARD_HOST, 465, context=context, timeout=10) as client:
        assert client.login(user.login, user.password)[0] == 235


def test_auth_failure_delay_is_configurable(private_mail_servers: Callable[..., MailServers]):
    # Dovecot counts the delay in whole seconds on a 500 ms timer: 2 s means 1 to 2.5 s.
    private = private_mail_servers(auth_failure_delay=2)
    user, e = private.add_user("slow@example.test", "right"), private.endpoints
    with imaplib.IMAP4_SSL(e.host, e.imaps_port, ssl_context=tls(e), timeout=10) as client:
        started = time.monotonic()
        with pytest.raises(imaplib.IMAP4.error):
            client.login(user.login, "wrong")
        assert time.monotonic() - started >= 0.9


# A private instance for fault tests -----------------------------------------------------------


def test_private_instance_stops_and_restarts_without_touching_the_shared_one(
    mail_servers: MailServers,
    mail_user: Callable[..., MailUser],
    private_mail_servers: Callable[..., MailServers],
):
    private = private_mail_servers()
    e = private.endpoints
    assert e.standard_ports_host is None
    assert e.imaps_port != mail_servers.endpoints.imaps_port
    user = private.add_user("fault@example.test", "fault-password")
    private.seed(user.address, [messages.plain_text()])

    private.stop()
    for port in (e.imap_port, e.imaps_port, e.pop3_port, e.pop3s_port):
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((e.host, port), timeout=2)
    for port in (e.submission_port, e.submissions_port, e.smtp_port):
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((e.host, port), timeout=2)
    shared_user = mail_user()
    assert mail_servers.messages(shared_user.address) == []  # the shared instance still works

    private.restart()
    assert private.endpoints == e
    assert len(private.messages(user.address)) == 1
    with smtplib.SMTP_SSL(e.host, e.submissions_port, context=tls(e), timeout=10) as client:
        assert client.login(user.login, user.password)[0] == 235
