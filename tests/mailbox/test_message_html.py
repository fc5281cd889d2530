"""A message's HTML: sanitised once from the stored raw message, kept, redone on a new version."""

from pathlib import Path

import pytest

from accounts.models import User
from mailbox import storage
from mailbox.content import SANITIZER_VERSION
from mailbox.models import Attachment, Message
from mailbox.models.messages import BodyState
from mailbox.protocols.mime import parse_message
from mailbox.services.message_html import BodyNotStored, message_html
from tests.accounts.factories import make_account
from tests.harness import messages

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

HOSTILE = (
    "<html><body><p>Hello</p><script>alert('script')</script>"
    '<img src="x" onerror="alert(\'onerror\')">'
    '<img src="https://tracker.example/pixel.gif" alt="pixel"></body></html>'
)


@pytest.fixture(autouse=True)
def storage_dir(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    settings.MAIL_STORAGE_DIR = tmp_path
    return tmp_path


@pytest.fixture
def account():  # type: ignore[no-untyped-def]
    return make_account(User.objects.create_user("alice"), "alice@example.test")


def stored_message(account, raw: bytes, *, in_database: bool = False) -> Message:  # type: ignore[no-untyped-def]
    """A message as the bodies stage leaves it: raw stored, text and attachment rows filled."""
    where = (
        storage.store_many(account.id, [raw])[0] if in_database else storage.store(account.id, raw)
    )
    parsed = parse_message(raw)
    message = Message.objects.create(
        account=account,
        sha256=where.sha256,
        raw_path=where.path,
        size=where.size,
        text=parsed.text,
        body_state=BodyState.COMPLETE,
    )
    Attachment.objects.bulk_create(
        Attachment(
            message=message,
            part_id=info.part_id,
            content_type=info.content_type,
            content_id=info.content_id or "",
            is_inline=info.is_inline,
        )
        for info in parsed.attachments
    )
    return message


def test_hostile_html_is_blocked_and_the_remote_image_waits_for_a_click(account) -> None:
    message = stored_message(account, messages.html_only(html=HOSTILE))

    blocked = message_html(message, images=False)
    with_images = message_html(message, images=True)

    assert "<p>Hello</p>" in blocked
    for shown in (blocked, with_images):
        assert "<script" not in shown and "alert" not in shown and "onerror" not in shown
    assert "tracker.example" not in blocked
    assert 'src="https://tracker.example/pixel.gif"' in with_images
    stored = Message.objects.get(pk=message.pk)
    assert (stored.html_blocked, stored.html_with_images) == (blocked, with_images)
    assert stored.has_remote_images and stored.sanitizer_version == SANITIZER_VERSION


def test_a_cid_image_points_at_its_part_relative_to_the_frame(account) -> None:
    message = stored_message(account, messages.inline_image())
    logo = Attachment.objects.get(message=message, content_id=messages.INLINE_CID)

    blocked = message_html(message, images=False)

    assert f'src="part/{logo.part_id}"' in blocked
    assert "cid:" not in blocked
    assert message_html(message, images=True) == blocked  # nothing remote in it
    assert not Message.objects.get(pk=message.pk).has_remote_images


def test_a_cid_differing_in_case_finds_its_part(account) -> None:
    cid = f"cid:{messages.INLINE_CID}".encode()
    raw = messages.inline_image().replace(cid, cid.upper())
    assert cid.upper() in raw
    message = stored_message(account, raw)
    logo = Attachment.objects.get(message=message, content_id=messages.INLINE_CID)

    assert f'src="part/{logo.part_id}"' in message_html(message, images=False)


def test_an_unknown_cid_stays_blocked(account) -> None:
    html = '<p>Logo: <img src="cid:nowhere@example.test" alt="Logo"></p>'
    message = stored_message(account, messages.html_only(html=html))

    for images in (False, True):
        shown = message_html(message, images=images)
        assert '<img alt="Logo">' in shown
        assert "src=" not in shown


def test_plain_text_becomes_escaped_html_with_clickable_links(account) -> None:
    body = "See https://example.com/report <script>alert(1)</script>\n> quoted line\n"
    message = stored_message(account, messages.plain_text(body=body))

    shown = message_html(message, images=False)

    assert '<a href="https://example.com/report"' in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown and "<script" not in shown
    assert "<blockquote" in shown and "quoted line" in shown
    stored = Message.objects.get(pk=message.pk)
    assert stored.html_blocked == stored.html_with_images == shown
    assert not stored.has_remote_images and stored.sanitizer_version == SANITIZER_VERSION


@pytest.mark.parametrize("in_database", [False, True], ids=["file", "database"])
def test_the_second_open_reads_the_stored_result_only(account, in_database: bool) -> None:
    message = stored_message(account, messages.html_only(html=HOSTILE), in_database=in_database)
    first = message_html(message, images=False)
    storage.remove(message.raw_path)  # a second parse would fail now

    again = Message.objects.get(pk=message.pk)

    assert message_html(again, images=False) == first
    assert 'src="https://tracker.example/pixel.gif"' in message_html(again, images=True)


def test_a_result_of_an_older_sanitiser_is_made_again(account) -> None:
    message = stored_message(account, messages.html_only(html=HOSTILE))
    Message.objects.filter(pk=message.pk).update(
        html_blocked="<p>old</p>",
        html_with_images="<p>old</p>",
        sanitizer_version=SANITIZER_VERSION - 1,
    )
    message.refresh_from_db()

    shown = message_html(message, images=True)

    assert "old" not in shown and 'src="https://tracker.example/pixel.gif"' in shown
    stored = Message.objects.get(pk=message.pk)
    assert stored.sanitizer_version == SANITIZER_VERSION and stored.html_with_images == shown


def test_a_new_sanitiser_version_redoes_a_current_result(account, monkeypatch) -> None:
    message = stored_message(account, messages.plain_text(body="version one\n"))
    message_html(message, images=False)
    monkeypatch.setattr("mailbox.services.message_html.SANITIZER_VERSION", SANITIZER_VERSION + 1)

    message_html(Message.objects.get(pk=message.pk), images=False)

    assert Message.objects.get(pk=message.pk).sanitizer_version == SANITIZER_VERSION + 1


def test_an_envelope_only_message_is_not_downloaded_yet_and_stores_nothing(account) -> None:
    message = Message.objects.create(
        account=account, subject="Later", body_state=BodyState.ENVELOPE
    )

    with pytest.raises(BodyNotStored):
        message_html(message, images=False)

    stored = Message.objects.get(pk=message.pk)
    assert stored.sanitizer_version is None
    assert stored.html_blocked == stored.html_with_images == ""


def test_other_columns_written_meanwhile_survive_and_twin_opens_agree(account) -> None:
    message = stored_message(account, messages.html_only(html=HOSTILE))
    twin = Message.objects.get(pk=message.pk)
    Message.objects.filter(pk=message.pk).update(snippet="written by another process")

    first = message_html(message, images=False)
    second = message_html(twin, images=False)

    assert first == second
    stored = Message.objects.get(pk=message.pk)
    assert stored.snippet == "written by another process" and stored.html_blocked == first
