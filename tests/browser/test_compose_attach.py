"""Attachments in a real browser (issue 6, point 1): a file picked with the file input and
one dropped onto the form (a synthetic drop carrying a DataTransfer) each show a progress bar
while uploading, then a row with the name, size and Remove; Send puts both in the outbox's
message byte for byte. A file over the page's limit is refused before any byte goes; a
refusal by the server (the SMTP server's SIZE) is shown in its words. No worker runs: the
account's servers are a closed loopback port. No page may break the CSP."""

import os
from typing import Any

import pytest
from playwright.sync_api import Page, Request, Route, expect
from pytest_django.fixtures import Settings

from accounts.models import MailAccount
from mailbox.models import ComposeUpload, Folder, FolderRole, OutgoingMessage
from mailbox.protocols import mime
from mailbox.protocols.types import Security, Server
from tests.accounts.factories import make_account
from tests.browser.mail_support import BrowserWatch, sign_in
from tests.views.auth_support import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOWHERE = Server("127.0.0.1", 9, Security.TLS)  # nothing listens


def is_upload(url: str) -> bool:
    return "/mail/compose/attachments/?" in url


DROP = """([name, bytes]) => {
  const data = new DataTransfer();
  data.items.add(new File([new Uint8Array(bytes)], name, {type: "application/octet-stream"}));
  const form = document.getElementById("compose-form");
  for (const kind of ["dragenter", "dragover", "drop"]) {
    form.dispatchEvent(new DragEvent(kind, {dataTransfer: data, bubbles: true, cancelable: true}));
  }
}"""


def open_compose(page: Page, live_server: Any) -> MailAccount:
    user = make_user()
    account = make_account(user, "alice@example.test", incoming=NOWHERE, smtp=NOWHERE)
    Folder.objects.create(account=account, name="INBOX", role=FolderRole.INBOX)
    sign_in(page, live_server.url, user)
    page.goto(f"{live_server.url}/mail/compose/")
    expect(page.locator(".attach-hint")).to_be_visible()  # compose-attach.js is running
    return account


def attachments_of(raw: bytes) -> dict[str, bytes]:
    found = mime.parse_message(raw).attachments
    return {info.filename: mime.attachment_bytes(raw, info.part_id)[1] for info in found}


@pytest.fixture(autouse=True)
def _storage(settings: Settings, tmp_path: Any) -> None:
    settings.MAIL_STORAGE_DIR = tmp_path


def test_picked_and_dropped_files_upload_with_progress_and_are_sent(
    page: Page, live_server: Any, seen: BrowserWatch
) -> None:
    open_compose(page, live_server)
    picked, dropped = os.urandom(2 * 1024 * 1024 + 5), bytes(range(256)) * 40
    held: list[Route] = []

    def hold_the_first(route: Route) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route(is_upload, hold_the_first)  # the first upload waits, to be seen uploading

    page.get_by_label("Attachments").set_input_files(
        files=[{"name": "report.pdf", "mimeType": "application/pdf", "buffer": picked}]
    )
    expect(page.get_by_role("progressbar", name="Uploading report.pdf")).to_be_visible()
    for _ in range(100):  # the bar shows as the request starts; the route handler comes next
        if held:
            break
        page.wait_for_timeout(50)
    held[0].continue_()
    row = page.locator(".attach-row", has_text="report.pdf")
    expect(row).to_contain_text("2.0\xa0MB")
    expect(row.get_by_role("button", name="Remove report.pdf")).to_be_visible()
    expect(page.get_by_label("Attachments")).to_have_value("")  # not sent twice

    page.evaluate(DROP, ["dropped.bin", list(dropped)])
    expect(page.locator(".attach-row", has_text="dropped.bin")).to_contain_text("10.0\xa0KB")
    page.evaluate(DROP, ["unwanted.txt", [1, 2, 3]])
    unwanted = page.locator(".attach-row", has_text="unwanted.txt")
    unwanted.get_by_role("button", name="Remove unwanted.txt").click()
    expect(unwanted).to_have_count(0)
    assert ComposeUpload.objects.count() == 2

    page.get_by_label("To", exact=True).fill("bob@example.test")
    page.get_by_label("Subject").fill("Two files")
    page.get_by_role("button", name="Send").click()

    expect(page).to_have_url(f"{live_server.url}/mail/")
    raw = bytes(OutgoingMessage.objects.get().raw)
    assert attachments_of(raw) == {"report.pdf": picked, "dropped.bin": dropped}
    assert not ComposeUpload.objects.exists()
    seen.settle(page)


def test_too_big_files_are_refused_in_plain_words(
    page: Page, live_server: Any, settings: Settings, seen: BrowserWatch
) -> None:
    settings.MAIL_MAX_UPLOAD_MB = 1
    account = open_compose(page, live_server)
    uploads: list[Request] = []
    page.on("request", lambda request: uploads.append(request) if is_upload(request.url) else None)
    big = {"name": "film.mp4", "mimeType": "video/mp4", "buffer": b"f" * (1024 * 1024 + 1)}

    page.get_by_label("Attachments").set_input_files(files=[big])

    alert = page.get_by_role("alert")
    expect(alert).to_have_text(
        "“film.mp4” (1.0\xa0MB) is too big to attach: a message can carry 1.0\xa0MB "
        "of attachments in all."
    )
    assert uploads == []  # refused before any byte went
    # The server's own refusal: the SMTP server takes less than the page's limit.
    MailAccount.objects.filter(pk=account.pk).update(smtp_size_limit=300_000)
    small = {"name": "scan.pdf", "mimeType": "application/pdf", "buffer": b"s" * 400_000}
    page.get_by_label("Attachments").set_input_files(files=[small])
    expect(alert).to_contain_text("(127.0.0.1) accepts messages of 293.0\xa0KB at most")
    expect(page.locator(".attach-row")).to_have_count(0)
    assert not ComposeUpload.objects.exists()
    seen.settle(page)
