"""Gmail's labels are folders holding the same message: stored once, found in each label.

A real Dovecot cannot produce X-GM-MSGID, so the scripted Gmail of the protocol tests stands
in (behind the socket only); the listing runs through the real sync service.
"""

import pytest

from accounts.models import User
from mailbox.models import Folder, Message, MessageLocation
from mailbox.protocols.types import Protocol, Security, Server
from mailbox.services.sync import sync_account
from tests.accounts.factories import make_account
from tests.protocols.fakes import FakeServer
from tests.protocols.test_imap_sync_gmail import GREETING, SHARED_ID, FakeGmail

pytestmark = pytest.mark.django_db


@pytest.fixture
def gmail_account():  # type: ignore[no-untyped-def]
    gmail = FakeServer(GREETING, FakeGmail()).start()
    yield make_account(
        User.objects.create_user("ann"),
        "ann@gmail.test",
        password="app-password",
        incoming=Server(gmail.host, gmail.port, Security.NONE),
        protocol=Protocol.IMAP,
    )
    gmail.close()


def test_one_message_under_two_labels_is_one_message_with_two_locations(gmail_account) -> None:  # type: ignore[no-untyped-def]
    report = sync_account(gmail_account.pk, bodies=False)

    assert report.error == ""
    shared = Message.objects.get(account=gmail_account, gmail_msgid=SHARED_ID)
    assert sorted((location.folder.name, location.uid) for location in shared.locations.all()) == [
        ("INBOX", 5),
        ("[Gmail]/All Mail", 41),
    ]
    assert Message.objects.filter(account=gmail_account).count() == 2
    assert MessageLocation.objects.filter(folder__account=gmail_account).count() == 3
    roles = dict(Folder.objects.filter(account=gmail_account).values_list("name", "role"))
    assert roles["[Gmail]/Sent Mail"] == "sent" and roles["[Gmail]/All Mail"] == "all"


def test_a_resync_adds_no_copies(gmail_account) -> None:  # type: ignore[no-untyped-def]
    sync_account(gmail_account.pk, bodies=False)
    sync_account(gmail_account.pk, bodies=False)

    assert Message.objects.filter(account=gmail_account).count() == 2
    assert MessageLocation.objects.filter(folder__account=gmail_account).count() == 3
