"""Attachments uploaded on the compose page (issue 6, point 1): a file staged for the page's
Message-ID is listed with its name and size and goes with Send byte for byte; a file too big
is refused in plain words before its body is read and nothing is stored; another person's
page or file answers 404; the SMTP server's SIZE counts the file as base64 will send it."""

import io
import os
import re
import socket
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParser
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse
from pytest_django.fixtures import Settings

from accounts.models import Identity, MailAccount
from mailbox.models import ComposeUpload, OutgoingMessage
from mailbox.protocols import mime
from mailbox.views.uploads import _Limit
from tests.views.message_support import deliver, mail, make_person, signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

COMPOSE = reverse("mail:compose")
UPLOAD = reverse("mail:compose_upload")
MB = 1024 * 1024


@pytest.fixture(autouse=True)
def _mail_storage(settings: Settings, tmp_path: Path) -> None:
    settings.MAIL_STORAGE_DIR = tmp_path


@pytest.fixture
def alice() -> tuple[Client, MailAccount, Identity]:
    user, account, _ = make_person("alice")
    return signed_in(user), account, account.identities.get()


def page_values(client: Client) -> dict[str, Any]:
    form = client.get(COMPOSE).context["form"]
    return {name: form[name].value() for name in form.fields if name != "attachments"}


def upload_url(message_id: str, identity: Identity | None = None) -> str:
    query = {"message_id": message_id, **({"identity": identity.pk} if identity else {})}
    return f"{UPLOAD}?{urlencode(query)}"


def upload(client: Client, message_id: str, name: str, data: bytes, **kwargs: Any) -> Any:
    sent = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post(upload_url(message_id, **kwargs), {"file": sent})


def send(client: Client, values: dict[str, Any], **changes: Any) -> Any:
    body = {k: v for k, v in {**values, **changes}.items() if v is not None}
    with mock.patch("mailbox.services.compose.send_message_task"):
        return client.post(COMPOSE, body)


def attachments_of(raw: bytes) -> dict[str, bytes]:
    found = mime.parse_message(raw).attachments
    return {info.filename: mime.attachment_bytes(raw, info.part_id)[1] for info in found}


def stored_files(root: Path) -> list[Path]:
    return [path for path in (root / "uploads").rglob("*") if path.is_file()]


def test_an_uploaded_file_is_listed_and_sent_byte_for_byte(
    alice: Any, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    client, _, identity = alice
    values = {**page_values(client), "to": "bob@example.test", "subject": "The plan"}
    data = bytes(range(256)) * 4000 + os.urandom(3001)  # every byte value, not a multiple of 3

    response = upload(client, values["message_id"], "plan v2.bin", data, identity=identity)

    assert response.status_code == 200
    row = response.content.decode()
    assert "plan v2.bin" in row and "1002.9\xa0KB" in row and ">Remove</button>" in row
    with django_capture_on_commit_callbacks(execute=True):
        assert send(client, values).status_code == 302
    raw = bytes(OutgoingMessage.objects.get().raw)
    assert attachments_of(raw) == {"plan v2.bin": data}
    # Queued: the staged row and its file are gone.
    assert not ComposeUpload.objects.exists() and stored_files(tmp_path) == []


def test_staged_files_and_the_plain_file_input_go_together(alice: Any) -> None:
    client, _, _ = alice
    values = {**page_values(client), "to": "bob@example.test"}
    upload(client, values["message_id"], "staged.txt", b"uploaded first")

    plain = SimpleUploadedFile("plain.txt", b"without JavaScript", content_type="text/plain")
    assert send(client, values, attachments=[plain]).status_code == 302

    raw = bytes(OutgoingMessage.objects.get().raw)
    assert attachments_of(raw) == {
        "staged.txt": b"uploaded first",
        "plain.txt": b"without JavaScript",
    }


def test_a_file_past_djangos_memory_settings_is_taken_whole(alice: Any, tmp_path: Path) -> None:
    """DATA_UPLOAD_MAX_MEMORY_SIZE counts a multipart body's fields, not its files, and
    FILE_UPLOAD_MAX_MEMORY_SIZE only sends a bigger file to a temporary file: neither stops it."""
    client, _, _ = alice
    size = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024
    assert size > django_settings.FILE_UPLOAD_MAX_MEMORY_SIZE
    data = os.urandom(1024) * (size // 1024)

    assert upload(client, page_values(client)["message_id"], "big.iso", data).status_code == 200
    (stored,) = stored_files(tmp_path)
    assert stored.read_bytes() == data


def test_a_type_mail_cannot_carry_as_it_is_goes_as_a_plain_file(alice: Any) -> None:
    client, _, _ = alice
    values = {**page_values(client), "to": "bob@example.test"}
    odd = SimpleUploadedFile("parts.bin", b"--x\r\n", content_type="Multipart/Mixed; boundary=x")
    assert client.post(upload_url(values["message_id"]), {"file": odd}).status_code == 200

    assert send(client, values).status_code == 302
    raw = bytes(OutgoingMessage.objects.get().raw)
    (info,) = mime.parse_message(raw).attachments
    assert info.content_type == "application/octet-stream" and info.filename == "parts.bin"


def test_the_page_lists_what_is_staged_for_it(alice: Any) -> None:
    client, _, _ = alice
    values = page_values(client)
    upload(client, values["message_id"], "notes.txt", b"12345")
    form_page = send(client, values, to="")  # refused (no recipients): the page again

    page = form_page.content.decode()
    assert re.search(
        r'<span class="attach-name">notes.txt</span>\s*<span class="attach-size">5', page
    )
    assert 'data-max-bytes="26214400"' in page


def test_a_file_over_the_limit_is_refused_and_nothing_stored(
    alice: Any, settings: Settings, tmp_path: Path
) -> None:
    client, _, _ = alice
    settings.MAIL_MAX_UPLOAD_MB = 1
    message_id = page_values(client)["message_id"]
    assert upload(client, message_id, "first.bin", b"x" * 700_000).status_code == 200

    response = upload(client, message_id, "second.bin", b"y" * 400_000)

    assert response.status_code == 413
    assert response.content.decode() == (
        "This file (about 390.8\xa0KB) is too big to attach: a message can carry 1.0\xa0MB "
        "of attachments in all, and 683.6\xa0KB are attached already."
    )
    assert list(ComposeUpload.objects.values_list("filename", flat=True)) == ["first.bin"]
    assert len(stored_files(tmp_path)) == 1


class Unread(io.BytesIO):
    """A request body that records how much of it was read."""

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.taken = getattr(self, "taken", 0) + len(data)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        data = super().readline(size)
        self.taken = getattr(self, "taken", 0) + len(data)
        return data


def raw_post(client: Client, url: str, body: Unread, length: str | None) -> Any:
    meta = {"CONTENT_TYPE": MULTIPART_CONTENT, "wsgi.input": body}
    if length is not None:
        meta["CONTENT_LENGTH"] = length
    return client.generic("POST", url, **meta)


def test_a_stated_length_over_the_limit_is_refused_before_the_body_is_read(
    alice: Any, settings: Settings
) -> None:
    client, _, _ = alice
    settings.MAIL_MAX_UPLOAD_MB = 1
    message_id = page_values(client)["message_id"]
    body = Unread(encode_multipart(BOUNDARY, {"file": SimpleUploadedFile("big.bin", b"z" * 10)}))

    response = raw_post(client, upload_url(message_id), body, length=str(30 * MB))

    assert response.status_code == 413
    assert response.content.decode().startswith("This file (about 30.0\xa0MB) is too big")
    assert getattr(body, "taken", 0) == 0
    assert not ComposeUpload.objects.exists()


def test_a_body_without_a_length_is_refused_unread(alice: Any) -> None:
    client, _, _ = alice
    message_id = page_values(client)["message_id"]
    body = Unread(encode_multipart(BOUNDARY, {"file": SimpleUploadedFile("a.bin", b"a" * 10)}))

    response = raw_post(client, upload_url(message_id), body, length=None)

    assert response.status_code == 411 and "did not say how big" in response.content.decode()
    assert getattr(body, "taken", 0) == 0
    assert not ComposeUpload.objects.exists()


def test_the_limit_handler_stops_reading_once_the_file_passes_the_limit() -> None:
    """As a stream longer than its stated length would be read (an ASGI server, a proxy
    that drops the length): the handler, not the length, stops it."""
    data = encode_multipart(BOUNDARY, {"file": SimpleUploadedFile("huge.bin", b"h" * (8 * MB))})
    body = Unread(data)
    request = HttpRequest()
    limit = _Limit(request, room=1 * MB)
    meta = {"CONTENT_TYPE": MULTIPART_CONTENT, "CONTENT_LENGTH": str(len(data))}
    handlers = [limit, *request.upload_handlers]

    _, files = MultiPartParser(meta, body, handlers).parse()

    assert limit.exceeded and "file" not in files
    assert body.taken < 1 * MB + 256 * 1024  # of 8 MB: a chunk or two past the limit


def test_a_file_that_passes_the_limit_while_arriving_is_refused(
    alice: Any, settings: Settings, tmp_path: Path
) -> None:
    """The stated length is within the slack for the multipart envelope; the file is not."""
    client, _, _ = alice
    settings.MAIL_MAX_UPLOAD_MB = 1
    message_id = page_values(client)["message_id"]
    assert upload(client, message_id, "most.bin", b"m" * (MB - 4000)).status_code == 200

    response = upload(client, message_id, "more.bin", b"n" * 9000)

    assert response.status_code == 413 and "is too big to attach" in response.content.decode()
    assert ComposeUpload.objects.count() == 1 and len(stored_files(tmp_path)) == 1


def test_the_smtp_servers_size_counts_the_file_as_base64(alice: Any) -> None:
    client, account, identity = alice
    MailAccount.objects.filter(pk=account.pk).update(smtp_size_limit=2 * MB)
    message_id = page_values(client)["message_id"]

    refused = upload(client, message_id, "scan.pdf", b"s" * 1_600_000, identity=identity)

    assert refused.status_code == 413
    words = refused.content.decode()
    assert "the attachments come to 1.5\xa0MB, about 2.1\xa0MB once encoded for mail" in words
    assert "your mail server (smtp.example.test) accepts messages of 2.0\xa0MB at most" in words
    # Without the From on the upload, Send itself checks the same, beside the attachments.
    assert upload(client, message_id, "scan.pdf", b"s" * 1_400_000).status_code == 200
    values = {**page_values(client), "message_id": message_id, "to": "bob@example.test"}
    extra = SimpleUploadedFile("more.pdf", b"t" * 200_000)
    response = send(client, values, attachments=[extra])
    assert "accepts messages of 2.0\xa0MB at most" in str(response.context["form"].errors)
    assert not OutgoingMessage.objects.exists()
    fits = upload(
        client, page_values(client)["message_id"], "a.pdf", b"a" * 1_400_000, identity=identity
    )
    assert fits.status_code == 200


def test_another_persons_page_and_files_answer_404(alice: Any) -> None:
    client, _, identity = alice
    message_id = page_values(client)["message_id"]
    upload(client, message_id, "private.txt", b"alice's")
    staged = ComposeUpload.objects.get()
    bob_user, _, _ = make_person("bob")
    bob = signed_in(bob_user)

    assert upload(bob, message_id, "mine.txt", b"bob's").status_code == 404
    assert (
        upload(bob, page_values(bob)["message_id"], "x", b"x", identity=identity).status_code == 404
    )
    remove = reverse("mail:compose_upload_remove", args=[staged.pk])
    assert bob.post(remove).status_code == 404
    bob_values = {**page_values(bob), "message_id": message_id, "to": "bob@example.test"}
    assert send(bob, bob_values).status_code == 302  # his own message: without alice's file
    assert attachments_of(bytes(OutgoingMessage.objects.get().raw)) == {}
    assert list(ComposeUpload.objects.all()) == [staged]
    assert client.post(remove).status_code == 200
    assert not ComposeUpload.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_413_arrives_before_the_body_is_sent(
    alice: Any, live_server: Any, settings: Settings
) -> None:
    """Against the live server: headers announcing 100 MB, then nothing; the answer comes
    at once (a server waiting for the body would time out here)."""
    client, _, _ = alice
    message_id = page_values(client)["message_id"]
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    host, port = live_server.url.removeprefix("http://").rsplit(":", 1)
    head = (
        f"POST {upload_url(message_id)} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Cookie: {django_settings.SESSION_COOKIE_NAME}={cookie}\r\n"
        f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {100 * MB}\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head.encode())
        answer = b""
        while b"\r\n\r\n" not in answer or b"too big" not in answer:
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk

    assert answer.startswith(b"HTTP/1.1 413")
    assert "is too big to attach: a message can carry 25.0\xa0MB" in answer.decode()
    assert not ComposeUpload.objects.exists()


# Forward and Undo ---------------------------------------------------------------------------


def test_forward_carries_the_originals_attachments_byte_for_byte(alice: Any) -> None:
    client, account, _ = alice
    pdf = b"%PDF-1.4\n" + os.urandom(50_000)
    raw = mail(
        subject="Report",
        to="alice@example.test",
        parts=((pdf, "application", "pdf", "report.pdf"), (b"a,b\n1,2\n", "text", "csv", "t.csv")),
    )
    location = deliver(account.folders.get(name="INBOX"), raw)

    page = client.get(COMPOSE, {"forward": location.pk})
    listed = page.content.decode()
    assert '<span class="attach-name">report.pdf</span>' in listed
    assert '<span class="attach-name">t.csv</span>' in listed
    values = {**page_values_of(page), "to": "carol@example.test"}
    assert send(client, values).status_code == 302

    sent = attachments_of(bytes(OutgoingMessage.objects.get().raw))
    assert sent == {"report.pdf": pdf, "t.csv": b"a,b\n1,2\n"}
    # A reply does not carry them.
    assert client.get(COMPOSE, {"reply": location.pk}).context["form"].staged == []


def page_values_of(response: Any) -> dict[str, Any]:
    form = response.context["form"]
    return {name: form[name].value() for name in form.fields if name != "attachments"}


def test_undo_brings_the_attachments_back(alice: Any, settings: Settings) -> None:
    client, _, _ = alice
    settings.MAIL_UNDO_SEND_SECONDS = 60
    values = {**page_values(client), "to": "bob@example.test", "subject": "Again"}
    data = os.urandom(20_000)
    upload(client, values["message_id"], "photo.jpg", data)
    plain = SimpleUploadedFile("plain.txt", b"no JavaScript", content_type="text/plain")
    assert send(client, values, attachments=[plain]).status_code == 302
    outgoing = OutgoingMessage.objects.get()
    assert not ComposeUpload.objects.exists()

    undone = client.post(reverse("mail:undo_send", args=[outgoing.pk]), follow=True)
    again = client.get(undone.redirect_chain[-1][0])  # opening it twice stages them once

    form = again.context["form"]
    assert [item.filename for item in form.staged] == ["photo.jpg", "plain.txt"]
    assert form["message_id"].value() == values["message_id"]
    assert send(client, page_values_of(again)).status_code == 302
    outgoing.refresh_from_db()
    assert outgoing.state == "queued"
    assert attachments_of(bytes(outgoing.raw)) == {"photo.jpg": data, "plain.txt": b"no JavaScript"}
    assert not ComposeUpload.objects.exists()
