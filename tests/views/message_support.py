"""Mail for the message, parts and conversation view tests: real raw messages stored as the
sync stores them (envelope row, then the body), in an IMAP folder of a person's account."""

import datetime as dt
import itertools
import re
from email.message import EmailMessage
from email.utils import format_datetime

from django.test import Client

from accounts.models import MailAccount, User
from mailbox.models import Folder, FolderRole, MessageLocation, Thread
from mailbox.protocols import mime
from mailbox.services.sync.bodies import store_bodies
from mailbox.services.sync.envelopes import envelope_message
from tests.accounts.factories import make_account
from tests.harness.messages import BASE_DATE, WIRE

_uids = itertools.count(1)


def make_person(name: str) -> tuple[User, MailAccount, Folder]:
    """A person with an IMAP account and its inbox."""
    user = User.objects.create_user(name)
    account = make_account(user, f"{name}@example.test")
    inbox = Folder.objects.create(account=account, name="INBOX", role=FolderRole.INBOX)
    return user, account, inbox


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def deliver(
    folder: Folder,
    raw: bytes,
    *,
    thread: Thread | None = None,
    seen: bool = False,
    body: bool = True,
) -> MessageLocation:
    """`raw` in `folder`: the envelope as the first sync lists it, then (if `body`) the body."""
    account_id = folder.account_id
    parsed = mime.parse_headers(raw)
    message = envelope_message(account_id, parsed, arrived=BASE_DATE, size=len(raw))
    message.thread = thread
    message.save()
    if body:
        store_bodies(account_id, [(message.pk, raw)])
    return MessageLocation.objects.create(
        folder=folder, message=message, uid=next(_uids), is_seen=seen, sort_date=message.date
    )


def mail(
    *,
    subject: str = "Hello",
    sender: str = "Ann Sender <ann@sender.test>",
    to: str = "Bob <bob@example.test>",
    cc: str = "",
    text: str | None = "Hello there.\n",
    html: str | None = None,
    parts: tuple[tuple[bytes, str, str, str], ...] = (),  # (data, maintype, subtype, filename)
    message_id: str = "<hello.1@sender.test>",
    date: dt.datetime = BASE_DATE,
    headers: tuple[tuple[str, str], ...] = (),
) -> bytes:
    """A message with a text and/or HTML body and attachments, with CRLF line ends."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    if cc:
        message["Cc"] = cc
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    for name, value in headers:
        message[name] = value
    if text is not None:
        message.set_content(text)
    if html is not None:
        if text is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    for data, maintype, subtype, filename in parts:
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes(policy=WIRE)


def frame_paths(page: str) -> list[str]:
    """The src of every message frame in a page, in order."""
    return re.findall(r'<iframe class="message-frame" src="(/mail/frame/[^"/]+/)"', page)
