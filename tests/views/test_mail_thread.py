"""A conversation on one page: oldest first, the older messages folded, the newest open with
its frame; hidden locations left out; nobody else's."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from accounts.models import User
from mailbox.models import Folder, MessageLocation, PendingAction, Thread
from tests.harness.messages import BASE_DATE
from tests.views.message_support import deliver, frame_paths, mail, make_person, signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


@pytest.fixture
def conversation() -> tuple[User, Folder, Thread, list[MessageLocation]]:
    user, account, inbox = make_person("alice")
    thread = Thread.objects.create(account=account, subject_key="plans")
    locations = [
        deliver(
            inbox,
            mail(
                subject="Re: Plans" if index else "Plans",
                sender=f"Person {index} <p{index}@sender.test>",
                text=f"Message number {index}\n",
                message_id=f"<plans.{index}@sender.test>",
                date=BASE_DATE + dt.timedelta(days=index),
            ),
            thread=thread,
        )
        for index in (2, 0, 1)  # stored out of order: the page sorts by date
    ]
    return user, inbox, thread, locations


def test_it_shows_the_conversation_oldest_first_with_the_newest_open(conversation) -> None:
    user, _, thread, _ = conversation

    page = signed_in(user).get(reverse("mail:thread", args=[thread.pk])).content.decode()

    senders = re.findall(r'<span class="person-name">(Person \d)</span>\s*<time', page)
    assert senders == ["Person 0", "Person 1", "Person 2"]
    folds = re.findall(r'<details class="thread-message"( open)?>', page)
    assert folds == ["", "", " open"]
    assert len(frame_paths(page)) == 3
    assert "3 messages" in page and "mail-layout has-pane" in page


def test_opening_the_conversation_marks_it_read(conversation) -> None:
    user, _, thread, locations = conversation

    signed_in(user).get(reverse("mail:thread", args=[thread.pk]))

    assert all(location.is_seen for location in MessageLocation.objects.all())
    assert PendingAction.objects.count() == len(locations)


def test_a_deleted_message_is_left_out(conversation) -> None:
    user, _, thread, locations = conversation
    MessageLocation.objects.filter(pk=locations[0].pk).update(is_deleted=True)  # Person 2

    page = signed_in(user).get(reverse("mail:thread", args=[thread.pk])).content.decode()

    assert "Person 2" not in page and "2 messages" in page


def test_htmx_gets_the_pane_only(conversation) -> None:
    user, _, thread, _ = conversation

    response = signed_in(user).get(reverse("mail:thread", args=[thread.pk]), HTTP_HX_REQUEST="true")

    assert (
        "<html" not in response.content.decode() and "thread-messages" in response.content.decode()
    )


def test_images_are_shown_for_the_message_asked_for(conversation) -> None:
    user, inbox, thread, _ = conversation
    remote = deliver(
        inbox,
        mail(
            html='<img src="https://t.test/p.gif" alt="p">',
            message_id="<plans.9@sender.test>",
            date=BASE_DATE + dt.timedelta(days=9),
        ),
        thread=thread,
    )
    client = signed_in(user)
    url = reverse("mail:thread", args=[thread.pk])

    before = client.get(url).content.decode()
    after = client.get(f"{url}?images={remote.message_id}").content.decode()

    assert f'href="{url}?images={remote.message_id}"' in before
    assert f'name="next" value="{url}"' in before
    assert "https:" not in client.get(frame_paths(before)[-1])["Content-Security-Policy"]
    assert "https: http:" in client.get(frame_paths(after)[-1])["Content-Security-Policy"]


def test_another_persons_conversation_answers_404(conversation) -> None:
    _, _, thread, _ = conversation
    bob, bobs_account, _ = make_person("bob")
    empty = Thread.objects.create(account=bobs_account, subject_key="nothing shown")

    assert signed_in(bob).get(reverse("mail:thread", args=[thread.pk])).status_code == 404
    assert signed_in(bob).get(reverse("mail:thread", args=[empty.pk])).status_code == 404
    assert not MessageLocation.objects.filter(is_seen=True).exists()
