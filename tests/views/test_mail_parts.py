"""The message frame and its inline images (signed token, no session) and attachments (with
the session): exact headers, refused tokens, never anything rendered that could run."""

import time
from email.message import EmailMessage
from types import SimpleNamespace

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from accounts.models import User
from mailbox.models import Folder, MessageLocation
from mailbox.services.frames import FrameGrant, frame_url
from mailbox.services.parts import download_name
from tests.harness.messages import WIRE, inline_image, png_bytes
from tests.views.message_support import deliver, frame_paths, mail, make_person, signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

FILE_POLICY = "default-src 'none'; sandbox"


@pytest.fixture
def alice() -> tuple[User, Folder]:
    user, _, inbox = make_person("alice")
    return user, inbox


def frame_of(user: User, location: MessageLocation, query: str = "") -> str:
    page = signed_in(user).get(reverse("mail:message", args=[location.pk]) + query)
    return frame_paths(page.content.decode())[0]


def frame_policy(path: str, remote: str = "") -> str:
    return (
        "default-src 'none'; style-src 'unsafe-inline'; "
        f"img-src http://testserver{path} data:{remote}; "
        "form-action 'none'; base-uri 'none'; frame-ancestors 'self'"
    )


def test_the_frame_serves_the_sanitised_html_under_its_own_policy(alice) -> None:
    user, inbox = alice
    html = '<p>Hi</p><script>alert(1)</script><img src="https://t.test/p.gif" alt="p">'
    path = frame_of(user, deliver(inbox, mail(html=html)))

    response = Client().get(path)  # the frame's requests may come without the session

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Content-Security-Policy"] == frame_policy(path)
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    body = response.content.decode()
    assert "<p>Hi</p>" in body
    assert "<script>alert" not in body and "t.test" not in body


def test_with_images_allowed_the_frame_may_load_remote_images(alice) -> None:
    user, inbox = alice
    location = deliver(inbox, mail(html='<img src="https://t.test/p.gif" alt="p">'))
    path = frame_of(user, location, "?images=1")

    response = Client().get(path)

    assert response["Content-Security-Policy"] == frame_policy(path, " https: http:")
    assert 'src="https://t.test/p.gif"' in response.content.decode()


def test_a_plain_text_mail_is_escaped_with_its_links_clickable(alice) -> None:
    user, inbox = alice
    text = "Read <script>alert(1)</script> at https://example.org/page\n"
    path = frame_of(user, deliver(inbox, mail(text=text)))

    body = Client().get(path).content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert '<a href="https://example.org/page"' in body and "<script>" not in body


def test_forged_malformed_and_expired_tokens_are_refused(alice, monkeypatch) -> None:
    user, inbox = alice
    path = frame_of(user, deliver(inbox, mail()))
    token = path.split("/")[-2]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    unsalted = signing.dumps([1, user.pk, 1])

    for bad in (forged, "x", token.split(":")[0], unsalted):
        response = Client().get(reverse("mail:frame", args=[bad]))
        assert response.status_code == 403, bad
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert response["X-Content-Type-Options"] == "nosniff"
    later = time.time() + 3601
    monkeypatch.setattr(signing, "time", SimpleNamespace(time=lambda: later))
    assert Client().get(path).status_code == 403


def test_a_token_stops_working_once_the_message_is_gone_or_not_the_persons(alice) -> None:
    user, inbox = alice
    location = deliver(inbox, mail())
    path = frame_of(user, location)
    bob, _, _ = make_person("bob")
    for_bob = frame_url(FrameGrant(location.message_id, bob.pk, False))

    assert Client().get(for_bob).status_code == 404
    MessageLocation.objects.filter(pk=location.pk).update(is_deleted=True)
    assert Client().get(path).status_code == 404


def test_an_inline_image_comes_under_the_frames_token(alice) -> None:
    user, inbox = alice
    path = frame_of(user, deliver(inbox, inline_image()))
    frame_body = Client().get(path).content.decode()

    response = Client().get(path + "part/2.2")

    assert 'src="part/2.2"' in frame_body
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == FILE_POLICY
    assert response["Cache-Control"] == "private"
    assert response.content.startswith(b"\x89PNG")
    assert Client().get(path + "part/1").status_code == 404  # the text body, no image
    assert Client().get(path + "part/9").status_code == 404
    assert (
        Client().get(path.replace("/mail/frame/", "/mail/frame/x") + "part/2.2").status_code == 403
    )


def test_an_svg_is_never_served_as_an_inline_image(alice) -> None:
    user, inbox = alice
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    location = deliver(inbox, mail(parts=((svg, "image", "svg+xml", "logo.svg"),)))
    path = frame_of(user, location)

    assert Client().get(path + "part/2").status_code == 404


def attachment(client: Client, location: MessageLocation, part: str, query: str = ""):  # type: ignore[no-untyped-def]
    return client.get(reverse("mail:attachment", args=[location.pk, part]) + query)


def test_an_attachment_is_always_a_download(alice) -> None:
    user, inbox = alice
    location = deliver(
        inbox, mail(parts=((b"%PDF-1.4 x", "application", "pdf", "Rechnung März.pdf"),))
    )

    response = attachment(signed_in(user), location, "2")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert (
        response["Content-Disposition"] == "attachment; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == FILE_POLICY
    assert response.content == b"%PDF-1.4 x"


def test_a_raster_image_keeps_its_type_and_may_be_previewed(alice) -> None:
    user, inbox = alice
    location = deliver(inbox, mail(parts=((png_bytes(), "image", "png", "chart.png"),)))
    client = signed_in(user)

    download = attachment(client, location, "2")
    preview = attachment(client, location, "2", "?inline=1")

    assert download["Content-Type"] == preview["Content-Type"] == "image/png"
    assert download["Content-Disposition"] == "attachment; filename*=UTF-8''chart.png"
    assert preview["Content-Disposition"] == "inline; filename*=UTF-8''chart.png"
    assert preview["Content-Security-Policy"] == FILE_POLICY
    assert preview["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("data", "subtype", "name"),
    [
        (b"<html><script>alert(1)</script></html>", ("text", "html"), "page.html"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', ("image", "svg+xml"), "logo.svg"),
        (b"<?xml version='1.0'?><x/>", ("application", "xml"), "data.xml"),
        (b"\x00\x01", ("application", "x-unknown"), "blob"),
    ],
)
def test_html_svg_xml_and_unknown_types_are_never_shown_inline(alice, data, subtype, name) -> None:
    user, inbox = alice
    location = deliver(inbox, mail(parts=((data, *subtype, name),)))

    for query in ("", "?inline=1"):
        response = attachment(signed_in(user), location, "2", query)
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"].startswith("attachment; ")
        assert response["Content-Security-Policy"] == FILE_POLICY


def test_a_hostile_file_name_is_made_safe(alice) -> None:
    user, inbox = alice
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@x.test", "b@x.test", "names"
    message["Date"], message["Message-ID"] = "Mon, 04 Mar 2024 09:30:00 +0000", "<n@x.test>"
    message.set_content("see attached")
    message.add_attachment(b"MZ", maintype="application", subtype="octet-stream")
    part = message.get_payload()[1]
    del part["Content-Disposition"]
    # RFC 2231 lets a name carry any byte: CR, LF, NUL, folders, a right-to-left override.
    part["Content-Disposition"] = (
        "attachment; filename*=utf-8''..%2F..%5Cevil%0D%0ASet-Cookie%3A%20x%00%E2%80%AEgpj.exe"
    )
    location = deliver(inbox, message.as_bytes(policy=WIRE))

    disposition = attachment(signed_in(user), location, "2")["Content-Disposition"]

    assert disposition.startswith("attachment; filename*=UTF-8''")
    name = disposition.split("''", 1)[1]
    for bad in ("%0D", "%0A", "%00", "%2F", "%5C", "%E2%80%AE", "\r", "\n"):
        assert bad not in name
    assert name.endswith("gpj.exe")


@pytest.mark.parametrize(
    ("given", "safe"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\run.bat", "run.bat"),
        ("a\r\nb\x00c.txt", "abc.txt"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("\u2066x\u2069.png", "x.png"),
        ("", "attachment"),
        ("../", "attachment"),
        ("\r\n", "attachment"),
        (None, "attachment"),
    ],
)
def test_download_names(given: str | None, safe: str) -> None:
    assert download_name(given) == safe


def test_another_persons_attachment_or_a_missing_part_answers_404(alice) -> None:
    user, inbox = alice
    location = deliver(inbox, mail(parts=((b"%PDF", "application", "pdf", "a.pdf"),)))
    bob, _, _ = make_person("bob")

    assert attachment(signed_in(bob), location, "2").status_code == 404
    assert attachment(signed_in(user), location, "7").status_code == 404
    assert attachment(signed_in(user), location, "1").status_code == 404  # the body, not listed
    MessageLocation.objects.filter(pk=location.pk).update(is_deleted=True)
    assert attachment(signed_in(user), location, "2").status_code == 404


def test_envelope_only_message_has_no_frame_content(alice) -> None:
    user, inbox = alice
    location = deliver(inbox, mail(), body=False)
    path = frame_url(FrameGrant(location.message_id, user.pk, False))

    response = Client().get(path)

    assert response.status_code == 404
    assert "still being downloaded" in response.content.decode()
