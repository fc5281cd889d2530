"""Two people with mail, for tests/views/test_endpoint_access.py."""

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from django.test import Client

from accounts.models import Identity, MailAccount, User
from mailbox.models import Attachment, Folder, FolderRole, MessageLocation, Thread
from mailbox.protocols import mime
from mailbox.protocols.types import Security, Server
from mailbox.services.sync.bodies import store_bodies
from mailbox.services.sync.envelopes import envelope_message
from tests.accounts.factories import make_account
from tests.harness.messages import BASE_DATE, WIRE, pdf_bytes, png_bytes

NOWHERE = Server("127.0.0.1", 9, Security.TLS)  # nothing listens there


@dataclass(frozen=True)
class Person:
    user: User
    account: MailAccount
    identity: Identity
    inbox: Folder
    archive: Folder
    location: MessageLocation
    thread: Thread
    attachment: Attachment  # a PDF, downloaded with the session
    inline_image: Attachment  # a cid: image, served under the frame's token
    marker: str  # a word in the person's subject and body, found nowhere else


def make_person(name: str, marker: str) -> Person:
    user = User.objects.create_user(name)
    # A closed loopback port: the owner's connection test is refused at once, never leaves.
    account = make_account(user, f"{name}@{name}.test", incoming=NOWHERE, smtp=NOWHERE)
    inbox = Folder.objects.create(account=account, name="INBOX", role=FolderRole.INBOX)
    archive = Folder.objects.create(account=account, name="Archive", role=FolderRole.ARCHIVE)
    Folder.objects.create(account=account, name="Trash", role=FolderRole.TRASH)
    Folder.objects.create(account=account, name="Junk", role=FolderRole.JUNK)
    thread = Thread.objects.create(account=account, subject_key=f"{marker} plans".lower())
    raw = raw_message(name, marker)
    # As a sync stores it: the envelope first, then the body.
    message = envelope_message(
        account.pk, mime.parse_headers(raw), arrived=BASE_DATE, size=len(raw)
    )
    message.thread = thread
    message.save()
    store_bodies(account.pk, [(message.pk, raw)])
    location = MessageLocation.objects.create(
        folder=inbox, message=message, uid=1, sort_date=BASE_DATE
    )
    Folder.objects.filter(pk=inbox.pk).update(message_count=1, unread_count=1)
    parts = Attachment.objects.filter(message=message)
    return Person(
        user=user,
        account=account,
        identity=account.identities.get(),
        inbox=inbox,
        archive=archive,
        location=location,
        thread=thread,
        attachment=parts.get(content_type="application/pdf"),
        inline_image=parts.get(content_type="image/png"),
        marker=marker,
    )


def raw_message(name: str, marker: str) -> bytes:
    """Text and HTML with a cid: image, and a PDF attached."""
    message = EmailMessage()
    message["From"] = f"Friend <friend@{name}.test>"
    message["To"] = f"{name}@{name}.test"
    message["Subject"] = f"{marker} plans"
    message["Date"] = format_datetime(BASE_DATE)
    message["Message-ID"] = f"<plans.1@{name}.test>"
    message.set_content(f"The {marker} plans are attached.\n")
    message.add_alternative(f'<p>The {marker} plans.</p><img src="cid:logo@{name}.test">', "html")
    message.get_payload()[1].add_related(png_bytes(), "image", "png", cid=f"<logo@{name}.test>")
    message.add_attachment(pdf_bytes(), "application", "pdf", filename=f"{marker}.pdf")
    return message.as_bytes(policy=WIRE)


def signed_in(person: Person, **options: Any) -> Client:
    client = Client(**options)
    client.force_login(person.user)
    return client
