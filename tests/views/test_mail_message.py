"""One message: headers, a sandboxed frame, read on open, images on request, attachments,
plain text, source and print; nobody else's, nothing hidden."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from mailbox.models import Folder, MessageLocation, PendingAction, TrustedSender
from mailbox.models.actions import ActionKind
from tests.harness.messages import png_bytes
from tests.views.message_support import deliver, frame_paths, mail, make_person, signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

REMOTE_IMAGE = '<p>News</p><img src="https://tracker.test/pixel.gif" alt="pixel">'


@pytest.fixture
def alice() -> tuple[User, Folder]:
    user, _, inbox = make_person("alice")
    return user, inbox


def page_of(client: Client, location: MessageLocation, query: str = "", **extra: str) -> str:
    response = client.get(reverse("mail:message", args=[location.pk]) + query, **extra)
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_the_headers_and_the_body_in_a_sandboxed_frame(alice) -> None:
    user, inbox = alice
    raw = mail(
        subject="Quarterly <numbers>",
        cc="Carol <carol@example.test>",
        headers=(("Reply-To", "Desk <desk@sender.test>"),),
    )
    location = deliver(inbox, raw)

    page = page_of(signed_in(user), location)

    assert re.search(r"<h1[^>]*>Quarterly &lt;numbers&gt;</h1>", page)
    for shown in ("Ann Sender", "ann@sender.test", "bob@example.test", "carol@example.test"):
        assert shown in page
    assert "<details" in page and "desk@sender.test" in page and "hello.1@sender.test" in page
    assert '<time datetime="2024-03-04T09:30:00+00:00">Mon 4 Mar 2024, 09:30</time>' in page
    frame = re.search(r"<iframe[^>]*>", page).group(0)
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in frame
    assert "allow-scripts" not in frame and "allow-same-origin" not in frame
    assert 'title="Message from Ann Sender: Quarterly &lt;numbers&gt;"' in frame
    assert len(frame_paths(page)) == 1


def test_the_date_is_in_the_persons_time_zone(alice) -> None:
    user, inbox = alice
    User.objects.filter(pk=user.pk).update(time_zone="Asia/Tokyo")
    location = deliver(inbox, mail())

    assert "Mon 4 Mar 2024, 18:30" in page_of(signed_in(user), location)


def test_opening_marks_it_read_and_queues_the_flag_for_the_server(alice) -> None:
    user, inbox = alice
    location = deliver(inbox, mail())

    page_of(signed_in(user), location)

    location.refresh_from_db()
    assert location.is_seen
    action = PendingAction.objects.get(location=location)
    assert action.kind == ActionKind.SET_FLAGS
    assert action.payload["flag"] == "seen" and action.payload["value"] is True


def test_a_read_message_queues_nothing(alice) -> None:
    user, inbox = alice
    location = deliver(inbox, mail(), seen=True)

    page_of(signed_in(user), location)

    assert not PendingAction.objects.exists()


def test_htmx_gets_the_pane_and_a_plain_request_the_whole_screen(alice) -> None:
    user, inbox = alice
    location = deliver(inbox, mail())
    client = signed_in(user)

    response = client.get(reverse("mail:message", args=[location.pk]), HTTP_HX_REQUEST="true")
    pane = response.content.decode()
    full = page_of(client, location)

    assert "<html" not in pane and "message-subject" in pane
    assert response["HX-Trigger"] == "mail-read"
    assert "<html" in full and "mail-layout has-pane" in full and 'id="mail-pane"' in full
    assert "HX-Request" in response["Vary"]  # a browser must not show one for the other


def test_a_page_of_its_own_has_no_empty_list_column(alice) -> None:
    """Sidebar and message only (mail.css's `pane-only`): the list it came from is a "Back"
    away; the sidebar marks the message's folder."""
    user, inbox = alice
    location = deliver(inbox, mail())

    full = page_of(signed_in(user), location)

    assert "pane-only" in full and 'id="mail-list"' not in full
    folder_link = f'href="{reverse("mail:folder", args=[inbox.pk])}" aria-current="page"'
    assert f'id="sb-folder-{inbox.pk}" {folder_link}' in full


def test_htmx_restoring_history_gets_the_whole_screen(alice) -> None:
    """htmx asks for a page it has no snapshot of with HX-History-Restore-Request (and
    HX-Request): it swaps the answer in for the whole body, so it must be the whole screen."""
    user, inbox = alice
    location = deliver(inbox, mail())

    full = page_of(
        signed_in(user),
        location,
        HTTP_HX_REQUEST="true",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )

    assert "<html" in full and 'id="mail-sidebar"' in full and "message-subject" in full


def test_a_message_still_downloading_says_so(alice) -> None:
    user, inbox = alice
    location = deliver(inbox, mail(), body=False)

    page = page_of(signed_in(user), location)

    assert "This message is still being downloaded" in page
    assert f'href="/mail/m/{location.pk}/"' in page  # try again
    assert "<iframe" not in page


def test_remote_images_wait_for_a_click(alice) -> None:
    user, inbox = alice
    location = deliver(inbox, mail(html=REMOTE_IMAGE))
    client = signed_in(user)

    page = page_of(client, location)
    shown = page_of(client, location, "?images=1")

    assert f'href="/mail/m/{location.pk}/?images=1"' in page
    assert "Always show images from ann@sender.test" in page
    assert 'name="csrfmiddlewaretoken"' in page
    blocked_policy = client.get(frame_paths(page)[0])["Content-Security-Policy"]
    assert "https:" not in blocked_policy
    assert "Show images" not in shown
    assert " https: http:;" in client.get(frame_paths(shown)[0])["Content-Security-Policy"]


def test_no_banner_without_remote_images(alice) -> None:
    user, inbox = alice
    location = deliver(inbox, mail(html="<p>Just text</p>"))

    page = page_of(signed_in(user), location)

    assert "Show images" not in page and "Always show images" not in page


def test_always_showing_a_senders_images(alice) -> None:
    user, inbox = alice
    location = deliver(inbox, mail(html=REMOTE_IMAGE, sender="Ann <Ann@Sender.TEST>"))
    client = signed_in(user)

    response = client.post(reverse("mail:trust_sender"), {"location": location.pk})
    page = page_of(client, location)

    assert response.status_code == 302
    assert response["Location"] == reverse("mail:message", args=[location.pk])
    assert TrustedSender.objects.get(user=user).address == "ann@sender.test"
    assert "Show images" not in page
    assert " https: http:;" in client.get(frame_paths(page)[0])["Content-Security-Policy"]
    assert client.get(reverse("mail:trust_sender")).status_code == 405


def test_trusting_goes_back_only_to_a_page_of_this_site(alice) -> None:
    user, inbox = alice
    location = deliver(inbox, mail(html=REMOTE_IMAGE))
    client = signed_in(user)
    url = reverse("mail:trust_sender")

    inside = client.post(url, {"location": location.pk, "next": "/mail/thread/7/"})
    outside = client.post(url, {"location": location.pk, "next": "//evil.test/x"})

    assert inside["Location"] == "/mail/thread/7/"
    assert outside["Location"] == reverse("mail:message", args=[location.pk])
    assert TrustedSender.objects.count() == 1


def test_the_plain_text_view_escapes_the_text(alice) -> None:
    user, inbox = alice
    text = "Look: <script>alert(1)</script> & https://example.org/x\n"
    location = deliver(inbox, mail(text=text, html="<p>Formatted</p>"))

    page = page_of(signed_in(user), location, "?view=text")

    assert (
        '<pre class="message-text">Look: &lt;script&gt;alert(1)&lt;/script&gt; &amp; '
        "https://example.org/x\n</pre>" in page
    )
    assert "<iframe" not in page and "<script>alert" not in page


def test_attachments_are_listed_with_name_type_and_size(alice) -> None:
    user, inbox = alice
    parts = (
        (b"%PDF-1.4 invoice", "application", "pdf", "Tom & Jerry's.pdf"),
        (png_bytes(), "image", "png", "chart.png"),
    )
    location = deliver(inbox, mail(parts=parts))

    page = page_of(signed_in(user), location)

    pdf_url = reverse("mail:attachment", args=[location.pk, "2"])
    png_url = reverse("mail:attachment", args=[location.pk, "3"])
    assert f'<a href="{pdf_url}" download>Tom &amp; Jerry&#x27;s.pdf</a>' in page
    assert "application/pdf, 16\xa0bytes" in page
    assert f'src="{png_url}?inline=1"' in page
    assert f'src="{pdf_url}?inline=1"' not in page


def test_the_source_is_escaped_text(alice) -> None:
    user, inbox = alice
    location = deliver(inbox, mail(html="<b onmouseover=alert(1)>hi</b>"))
    client = signed_in(user)

    page = client.get(reverse("mail:source", args=[location.pk])).content.decode()
    download = client.get(reverse("mail:source", args=[location.pk]) + "?download=1")

    assert '<pre class="message-source">' in page
    assert "&lt;b onmouseover=alert(1)&gt;hi&lt;/b&gt;" in page
    assert "Message-ID: &lt;hello.1@sender.test&gt;" in page
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"] == "attachment; filename*=UTF-8''message.eml"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download.content.startswith(b"From: ")


def test_the_print_view_shows_the_headers_and_the_frame(alice) -> None:
    user, inbox = alice
    location = deliver(inbox, mail(subject="Print me"))
    client = signed_in(user)

    page = client.get(reverse("mail:print", args=[location.pk])).content.decode()
    text = client.get(reverse("mail:print", args=[location.pk]) + "?view=text").content.decode()

    assert "Print me" in page and "ann@sender.test" in page and len(frame_paths(page)) == 1
    assert '<pre class="message-text">Hello there.\n</pre>' in text


@pytest.mark.parametrize("name", ["mail:message", "mail:source", "mail:print"])
def test_another_persons_or_a_deleted_message_answers_404(alice, name: str) -> None:
    user, inbox = alice
    theirs = deliver(inbox, mail())
    hidden = deliver(inbox, mail(message_id="<gone@sender.test>"))
    MessageLocation.objects.filter(pk=hidden.pk).update(is_deleted=True)
    bob, _, _ = make_person("bob")

    assert signed_in(bob).get(reverse(name, args=[theirs.pk])).status_code == 404
    assert signed_in(user).get(reverse(name, args=[hidden.pk])).status_code == 404
    assert not MessageLocation.objects.get(pk=theirs.pk).is_seen


def test_nobody_trusts_a_sender_through_another_persons_message(alice) -> None:
    _, inbox = alice
    theirs = deliver(inbox, mail(html=REMOTE_IMAGE))
    bob, _, _ = make_person("bob")

    response = signed_in(bob).post(reverse("mail:trust_sender"), {"location": theirs.pk})

    assert response.status_code == 404
    assert signed_in(bob).post(reverse("mail:trust_sender"), {}).status_code == 404
    assert not TrustedSender.objects.exists()
