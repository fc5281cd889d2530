"""The fault proxy in front of the real Dovecot and Postfix: the faults later tests rely on."""

import imaplib
import smtplib
import ssl
from collections.abc import Callable

import pytest

from tests.harness import messages
from tests.harness.faultproxy import FaultProxy
from tests.harness.mailservers import MailServers, MailUser


def context(servers: MailServers) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(servers.endpoints.ca_file))


def imap_proxy_with_one_message(
    servers: MailServers, user: MailUser, fault_proxy: Callable[..., FaultProxy]
) -> FaultProxy:
    servers.seed(user.address, [messages.with_attachments()])
    e = servers.endpoints
    return fault_proxy(e.host, e.imaps_port, tls="implicit")


def test_imap_through_the_proxy_works_until_a_fault_is_set(
    mail_servers: MailServers, mail_user: Callable[..., MailUser], fault_proxy
) -> None:
    user = mail_user()
    proxy = imap_proxy_with_one_message(mail_servers, user, fault_proxy)

    with imaplib.IMAP4_SSL(proxy.host, proxy.port, ssl_context=context(mail_servers)) as client:
        client.login(user.login, user.password)
        client.select("INBOX", readonly=True)
        _, data = client.uid("FETCH", "1", "(BODY.PEEK[])")

    assert data[0][1] == messages.with_attachments()


def test_imap_connection_cut_in_the_middle_of_a_fetch_literal(
    mail_servers: MailServers, mail_user: Callable[..., MailUser], fault_proxy
) -> None:
    user = mail_user()
    proxy = imap_proxy_with_one_message(mail_servers, user, fault_proxy)
    proxy.cut_in_fetch_literal(after=500)

    client = imaplib.IMAP4_SSL(proxy.host, proxy.port, ssl_context=context(mail_servers))
    client.login(user.login, user.password)
    client.select("INBOX", readonly=True)
    with pytest.raises((imaplib.IMAP4.abort, OSError)):
        client.uid("FETCH", "1", "(BODY.PEEK[])")

    assert proxy.faults_fired == 1
    assert mail_servers.messages(user.address)[0].raw == messages.with_attachments()


def test_smtp_reply_swallowed_after_the_final_dot_leaves_the_client_unsure(
    mail_servers: MailServers, mail_user: Callable[..., MailUser], fault_proxy
) -> None:
    """The one undecidable case of sending: the server took the mail, the client never heard."""
    sender, recipient = mail_user(), mail_user()
    e = mail_servers.endpoints
    proxy: FaultProxy = fault_proxy(e.host, e.submissions_port, tls="implicit")
    proxy.swallow_reply_after_data_dot()
    raw = messages.plain_text(
        messages.Envelope(
            sender=messages.person(sender.address, "Sender"),
            to=(messages.person(recipient.address, "Recipient"),),
            subject="Did it go?",
            message_id="<did-it-go@example.test>",
        )
    )

    with pytest.raises(smtplib.SMTPServerDisconnected):  # noqa: SIM117 (the raise is inside)
        with smtplib.SMTP_SSL(
            proxy.host, proxy.port, context=context(mail_servers), timeout=5
        ) as smtp:
            smtp.login(sender.login, sender.password)
            smtp.sendmail(sender.address, [recipient.address], raw)

    delivered = mail_servers.wait_for_messages(recipient.address, 1)
    assert b"Subject: Did it go?" in delivered[0].raw


def test_smtp_connection_cut_before_data_ends_delivers_nothing(
    mail_servers: MailServers, mail_user: Callable[..., MailUser], fault_proxy
) -> None:
    sender, recipient = mail_user(), mail_user()
    e = mail_servers.endpoints
    proxy: FaultProxy = fault_proxy(e.host, e.submissions_port, tls="implicit")
    # EHLO, AUTH, MAIL, RCPT and DATA fit in 1,000 bytes; the message does not.
    proxy.cut_after(1000, direction="client_to_server")
    smtp = smtplib.SMTP_SSL(proxy.host, proxy.port, context=context(mail_servers), timeout=5)
    smtp.login(sender.login, sender.password)
    smtp.mail(sender.address)
    smtp.rcpt(recipient.address)
    body = b"Subject: cut\r\n\r\n" + (b"x" * 70 + b"\r\n") * 200

    with pytest.raises((smtplib.SMTPServerDisconnected, OSError)):
        smtp.data(body)

    mail_servers.wait_for_empty_queue()
    assert mail_servers.messages(recipient.address) == []
