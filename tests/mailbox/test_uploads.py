"""Attachments against the real Postfix (issue 6, points 1 and 7): the SIZE the SMTP server
announces is recorded when we connect; the base64 estimate compose checks against it never
falls short of the message actually built, so what the check lets through the server takes;
and a file uploaded on the compose page reaches bob's IMAP inbox byte for byte."""

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings

from accounts.models import MailAccount, User
from mailbox.models import OutgoingMessage, OutgoingState
from mailbox.protocols import mime
from mailbox.protocols.mime_build import (
    OutgoingAttachment,
    OutgoingDraft,
    build_message,
    new_message_id,
)
from mailbox.protocols.types import Security, Server
from mailbox.services import outbox
from mailbox.services.connections import smtp_session
from mailbox.services.upload_limits import (
    HEADROOM,
    allowance,
    attachment_limit,
    encoded_size,
    size_problem,
)
from tests.accounts.factories import make_account
from tests.harness.mailservers import MailServers, MailUser

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

MB = 1024 * 1024


@pytest.fixture(autouse=True)
def _settings(settings: Settings, tmp_path: Path) -> None:
    settings.MAIL_STORAGE_DIR = tmp_path
    settings.MAIL_NETWORK_TIMEOUT_SECONDS = 5
    settings.MAIL_UNDO_SEND_SECONDS = 0


def account_on(servers: MailServers, user: MailUser) -> MailAccount:
    e = servers.endpoints
    return make_account(
        User.objects.create_user(f"owner-{user.address}"),
        user.address,
        password=user.password,
        smtp=Server(e.host, e.submissions_port, Security.TLS),
    )


def built_with(account: MailAccount, to: MailUser, files: dict[str, bytes]) -> Any:
    draft = OutgoingDraft(
        from_=("Alice", account.email),
        to=(("Bob", to.address),),
        subject="Files",
        text="The files.\n",
        message_id=new_message_id("example.test"),
        date=timezone.now(),
        attachments=tuple(
            OutgoingAttachment(name, "application/octet-stream", data)
            for name, data in files.items()
        ),
    )
    return build_message(draft, allow_private_hosts=True)


def test_25_mb_of_files_make_about_34_mb_of_message() -> None:
    assert attachment_limit() == 25 * MB
    assert 33.5 * MB < encoded_size(25 * MB) < 34.5 * MB


def test_the_estimate_never_falls_short_of_the_built_message() -> None:
    account = make_account(User.objects.create_user("sizes"), "alice@example.test")
    bob = MailUser("bob@example.test", "x", "bob@example.test")
    for sizes in ([0], [1], [2], [3], [57], [58], [100_000], [1, 2, 3], [MB, 333_333]):
        files = {f"file-{n}.bin": os.urandom(size) for n, size in enumerate(sizes)}
        raw = built_with(account, bob, files).raw
        assert len(raw) <= encoded_size(sum(sizes)) + HEADROOM, sizes


def test_the_servers_size_is_recorded_and_what_the_check_allows_it_takes(
    private_mail_servers: Callable[..., MailServers],
) -> None:
    servers = private_mail_servers(message_size_limit=2_000_000)
    alice, bob = (
        servers.add_user("alice@example.test", "pw-a"),
        servers.add_user("bob@example.test", "pw-b"),
    )
    account = account_on(servers, alice)
    assert account.smtp_size_limit is None

    with smtp_session(account):
        pass

    account.refresh_from_db()
    assert account.smtp_size_limit == 2_000_000
    most = allowance(0, account)
    assert size_problem(most, account) is None
    problem = size_problem(most + 1, account)
    assert problem is not None
    assert "once encoded for mail; your mail server (127.0.0.1)" in problem
    assert "accepts messages of 1.9\xa0MB at most" in problem
    # The most the check allows, with a text body, still goes through the real Postfix.
    queued = outbox.do_queue_message(account, built_with(account, bob, {"big.bin": b"\xff" * most}))
    outcome = outbox.send_message(queued.pk, "worker-1")
    assert outcome.state == OutgoingState.SENT, outcome.detail
    servers.wait_for_messages(bob.address, 1)


def test_an_uploaded_file_reaches_bobs_inbox_byte_for_byte(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
) -> None:
    alice, bob = mail_user(local="alice"), mail_user(local="bob")
    account = account_on(mail_servers, alice)
    client = Client()
    client.force_login(account.user)
    form = client.get(reverse("mail:compose")).context["form"]
    values = {name: form[name].value() or "" for name in form.fields if name != "attachments"}
    data = os.urandom(3 * MB + 1)
    query = urlencode({"message_id": values["message_id"], "identity": values["identity"]})
    sent_file = SimpleUploadedFile("données.bin", data, content_type="application/x-thing")
    uploaded = client.post(f"{reverse('mail:compose_upload')}?{query}", {"file": sent_file})
    assert uploaded.status_code == 200

    with mock.patch("mailbox.services.compose.send_message_task"):
        response = client.post(
            reverse("mail:compose"), {**values, "to": bob.address, "subject": "A file"}
        )
    assert response.status_code == 302
    outcome = outbox.send_message(OutgoingMessage.objects.get().pk, "worker-1")

    assert outcome.state == OutgoingState.SENT, outcome.detail
    account.refresh_from_db()
    assert account.smtp_size_limit == 25 * MB  # the shared Postfix's message_size_limit
    mail_servers.wait_for_messages(bob.address, 1)
    raw = mail_servers.messages(bob.address)[0].raw
    (info,) = mime.parse_message(raw).attachments
    assert (info.filename, info.content_type) == ("données.bin", "application/x-thing")
    assert mime.attachment_bytes(raw, info.part_id)[1] == data
