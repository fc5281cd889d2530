"""The POP3 sync against the real Dovecot: every message once, exact bytes, local folders."""

import datetime as dt
import hashlib
import poplib
from collections.abc import Callable
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.models import MailAccount, User
from mailbox import storage
from mailbox.models import Folder, Message, MessageLocation, Pop3Uidl, RawBlob
from mailbox.protocols.errors import MailProtocolError
from mailbox.protocols.types import Protocol, Security, Server
from mailbox.services.sync.account import SyncReport
from mailbox.services.sync.pop3 import STREAM_THRESHOLD, sync_pop3_account
from mailbox.services.sync.pop3_store import ensure_local_folders, store_download
from tests.accounts.factories import make_account
from tests.harness import messages
from tests.harness.faultproxy import FaultProxy
from tests.harness.mailservers import MailServers, MailUser

pytestmark = pytest.mark.django_db

LOCAL_ROLES = {"inbox", "sent", "drafts", "trash", "junk", "archive"}


@pytest.fixture(autouse=True)
def storage_dir(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    settings.MAIL_STORAGE_DIR = tmp_path
    return tmp_path


@pytest.fixture
def user(mail_user: Callable[..., MailUser]) -> MailUser:
    return mail_user()


def pop3_account(
    servers: MailServers, user: MailUser, port: int, security: Security = Security.TLS
) -> MailAccount:
    e = servers.endpoints
    return make_account(
        User.objects.create_user("alice"),
        user.address,
        password=user.password,
        incoming=Server(e.host, port, security),
        smtp=Server(e.host, e.submissions_port, Security.TLS),
        protocol=Protocol.POP3,
    )


def sync(account: MailAccount, heartbeat: Callable[[], None] = lambda: None) -> SyncReport:
    report = SyncReport(account=account.email)
    sync_pop3_account(account, report, heartbeat)
    return report


def sha(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def stored_hashes(account: MailAccount) -> list[str]:
    return sorted(Message.objects.filter(account=account).values_list("sha256", flat=True))


def numbered(count: int, body_lines: int = 300) -> list[bytes]:
    """Distinct plain messages of a few kilobytes each."""
    return [
        messages.plain_text(
            messages.Envelope(subject=f"Report {n}", message_id=f"<report.{n}@example.test>"),
            body="".join(f"line {i} of report {n}\n" for i in range(body_lines)),
        )
        for n in range(count)
    ]


def big_message(megabytes: int = 5) -> bytes:
    """Past the streaming threshold, with a long line and lines that start with a dot."""
    head = messages.plain_text().split(b"\r\n\r\n", 1)[0]
    body = b".dot\r\n..dots\r\n" + b"y" * 5000 + b"\r\n" + (b"z" * 998 + b"\r\n") * 1000
    return head + b"\r\n\r\n" + body * megabytes


@pytest.mark.parametrize(
    ("port_name", "security"),
    [("pop3s_port", Security.TLS), ("pop3_port", Security.STARTTLS)],
)
def test_first_sync_downloads_every_message_once_with_its_exact_bytes(
    mail_servers: MailServers, user: MailUser, port_name: str, security: Security
) -> None:
    corpus = list(messages.every_kind().values())
    mail_servers.seed(user.address, corpus)
    account = pop3_account(mail_servers, user, getattr(mail_servers.endpoints, port_name), security)
    beats: list[None] = []

    report = sync(account, lambda: beats.append(None))

    assert report.new == len(corpus) == report.messages
    assert report.folder_reports["INBOX"].new == len(corpus) and len(beats) == 1  # one batch
    assert stored_hashes(account) == sorted(sha(raw) for raw in corpus)
    newest_first = Message.objects.filter(account=account).order_by("pk")
    assert [m.sha256 for m in newest_first] == [sha(raw) for raw in reversed(corpus)]
    seeded = {sha(raw): raw for raw in corpus}
    assert all(storage.read_raw(m.raw_path) == seeded[m.sha256] for m in newest_first)
    inbox = Folder.objects.get(account=account, role="inbox")
    locations = MessageLocation.objects.filter(folder=inbox)
    assert {(loc.uid, loc.is_seen) for loc in locations} == {(0, False)}
    assert inbox.message_count == inbox.unread_count == len(corpus)
    assert Pop3Uidl.objects.filter(account=account, message__isnull=False).count() == len(corpus)
    thread_ids = {
        m.thread_id for m in newest_first if m.message_id.startswith("<offsite-planning.")
    }
    assert len(thread_ids) == 1 and None not in thread_ids
    assert Message.objects.get(account=account, subject="Invoice and diagram").has_attachments
    assert [m.raw for m in mail_servers.messages(user.address)] == corpus  # left on the server


def test_local_folders_exist_and_are_created_once(
    mail_servers: MailServers, user: MailUser
) -> None:
    account = pop3_account(mail_servers, user, mail_servers.endpoints.pop3s_port)

    sync(account)
    ensure_local_folders(account)

    folders = Folder.objects.filter(account=account)
    assert {f.role for f in folders} == LOCAL_ROLES and len(folders) == len(LOCAL_ROLES)
    assert all(f.is_local for f in folders)
    assert Folder.objects.get(account=account, role="inbox").name == "INBOX"


def test_a_second_sync_downloads_only_new_mail(mail_servers: MailServers, user: MailUser) -> None:
    first, second, third = numbered(3)
    mail_servers.seed(user.address, [first, second])
    account = pop3_account(mail_servers, user, mail_servers.endpoints.pop3s_port)
    sync(account)
    mail_servers.seed(user.address, [third])

    report = sync(account)

    assert report.new == 1 and report.messages == 3
    assert stored_hashes(account) == sorted(sha(raw) for raw in (first, second, third))
    assert sync(account).new == 0


def test_a_message_deleted_here_does_not_come_back(
    mail_servers: MailServers, user: MailUser
) -> None:
    kept, deleted = numbered(2)
    mail_servers.seed(user.address, [kept, deleted])
    account = pop3_account(mail_servers, user, mail_servers.endpoints.pop3s_port)
    sync(account)
    Message.objects.get(account=account, sha256=sha(deleted)).delete()

    report = sync(account)

    assert report.new == 0
    assert stored_hashes(account) == [sha(kept)]
    assert Pop3Uidl.objects.filter(account=account).count() == 2  # the row outlives the message


def test_a_replayed_download_changes_nothing(mail_servers: MailServers, user: MailUser) -> None:
    account = pop3_account(mail_servers, user, mail_servers.endpoints.pop3s_port)
    inbox = next(f for f in ensure_local_folders(account) if f.role == "inbox")
    raw = messages.plain_text()

    assert store_download(inbox, "uidl-1", raw) is True
    assert store_download(inbox, "uidl-1", raw) is False

    assert Message.objects.filter(account=account).count() == 1
    assert MessageLocation.objects.filter(folder=inbox).count() == 1


def test_a_big_message_is_streamed_with_its_exact_bytes(
    mail_servers: MailServers, user: MailUser
) -> None:
    raw = big_message()
    assert len(raw) > STREAM_THRESHOLD
    mail_servers.seed(user.address, [raw])
    account = pop3_account(mail_servers, user, mail_servers.endpoints.pop3s_port)

    sync(account)

    message = Message.objects.get(account=account)
    assert message.sha256 == sha(raw) and message.size == len(raw)
    assert storage.read_raw(message.raw_path) == raw


@pytest.mark.parametrize("big", [False, True], ids=["small", "streamed"])
def test_an_interrupted_sync_leaves_no_half_message_and_the_next_completes(
    mail_servers: MailServers,
    user: MailUser,
    fault_proxy: Callable[..., FaultProxy],
    storage_dir: Path,
    big: bool,
) -> None:
    corpus = numbered(4)
    if big:
        corpus[2] = big_message()
    mail_servers.seed(user.address, corpus)
    e = mail_servers.endpoints
    proxy = fault_proxy(e.host, e.pop3s_port, tls="implicit")
    account = pop3_account(mail_servers, user, proxy.port)
    # Greeting, sign-in and both listings take well under 500 bytes; then the newest message
    # whole and half of the next one (message numbers 4 and 3).
    proxy.cut_after(500 + len(corpus[3]) + len(corpus[2]) // 2)

    with pytest.raises(MailProtocolError):
        sync(account)

    assert proxy.faults_fired == 1
    assert stored_hashes(account) == [sha(corpus[3])]
    assert list(
        Pop3Uidl.objects.filter(account=account).values_list("message__sha256", flat=True)
    ) == [sha(corpus[3])]
    files = len(list(storage_dir.rglob("*.eml.zst")))
    blobs = RawBlob.objects.filter(account=account).count()
    assert files + blobs == 1  # the cut message left no raw copy behind
    assert [p for p in storage_dir.rglob("*") if p.is_file() and p.suffix != ".zst"] == []

    proxy.pass_through()
    report = sync(account)

    assert report.new == 3
    assert stored_hashes(account) == sorted(sha(raw) for raw in corpus)
    uidls = list(Pop3Uidl.objects.filter(account=account).values_list("uidl", flat=True))
    assert len(uidls) == len(set(uidls)) == len(corpus)
    for message in Message.objects.filter(account=account):
        assert sha(storage.read_raw(message.raw_path)) == message.sha256


def test_old_messages_are_deleted_from_the_server_and_kept_here(
    mail_servers: MailServers, user: MailUser, settings
) -> None:
    old, recent = numbered(2)
    mail_servers.seed(user.address, [old, recent])
    account = pop3_account(mail_servers, user, mail_servers.endpoints.pop3s_port)
    sync(account)
    downloaded = timezone.now() - dt.timedelta(days=10)
    old_row = Pop3Uidl.objects.get(account=account, message__sha256=sha(old))
    Pop3Uidl.objects.filter(pk=old_row.pk).update(downloaded_at=downloaded)
    settings.MAIL_POP3_DELETE_AFTER_DAYS = 7

    sync(account)

    assert [m.raw for m in mail_servers.messages(user.address)] == [recent]
    assert stored_hashes(account) == sorted([sha(old), sha(recent)])
    old_row.refresh_from_db()
    assert old_row.deleted_on_server_at is not None
    assert Pop3Uidl.objects.get(message__sha256=sha(recent)).deleted_on_server_at is None
    assert Folder.objects.get(account=account, role="inbox").messages_on_server == 1
    assert sync(account).new == 0


def test_mail_deleted_from_the_server_elsewhere_stays_here(
    mail_servers: MailServers, user: MailUser
) -> None:
    first, second = numbered(2)
    mail_servers.seed(user.address, [first, second])
    account = pop3_account(mail_servers, user, mail_servers.endpoints.pop3s_port)
    sync(account)
    other = poplib.POP3_SSL(
        mail_servers.endpoints.host,
        mail_servers.endpoints.pop3s_port,
        context=mail_servers.ssl_context(),
    )
    other.user(user.login)
    other.pass_(user.password)
    other.dele(1)
    other.quit()

    report = sync(account)

    assert report.new == 0 and report.messages == 2
    gone = Pop3Uidl.objects.get(account=account, message__sha256=sha(first))
    assert gone.deleted_on_server_at is not None


def test_the_same_bytes_twice_on_the_server_are_one_content_in_two_places(
    mail_servers: MailServers, user: MailUser
) -> None:
    raw = messages.plain_text()
    mail_servers.seed(user.address, [raw, raw])
    account = pop3_account(mail_servers, user, mail_servers.endpoints.pop3s_port)

    report = sync(account)

    assert report.new == 2
    message = Message.objects.get(account=account)
    assert MessageLocation.objects.filter(message=message).count() == 2
    assert set(Pop3Uidl.objects.filter(account=account).values_list("message", flat=True)) == {
        message.pk
    }


def test_sync_account_takes_the_pop3_path(mail_servers, mail_user, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from mailbox.services.sync import sync_account

    settings.MAIL_STORAGE_DIR = tmp_path
    user = mail_user()
    mail_servers.seed(user.address, [messages.plain_text(), messages.html_only()])
    e = mail_servers.endpoints
    account = make_account(
        User.objects.create_user("pop-person"),
        user.address,
        password=user.password,
        incoming=Server(e.host, e.pop3s_port, Security.TLS),
        protocol=Protocol.POP3,
    )

    report = sync_account(account.pk)

    assert report.error == "" and report.new == 2
    assert Message.objects.filter(account=account).count() == 2
