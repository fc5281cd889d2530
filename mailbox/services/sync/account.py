"""A whole account synced once: lease, connection, folders, per-folder sync, bookkeeping.

Network I/O never runs inside a transaction: each batch is applied in its own short one.
A failure is recorded where the person and the admin see it (the account's `last_error`,
the folder's) and the next poll waits longer after each failure in a row, so a wrong password
never turns into hammering the server.
"""

import logging
import time
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from accounts.models import MailAccount
from accounts.services.connection import describe
from accounts.services.mail_accounts import AccountSettings
from accounts.services.oauth_tokens import SignInRequired, TokenUnavailable
from mailbox.models import Folder
from mailbox.protocols import errors
from mailbox.protocols.imap import ImapClient
from mailbox.protocols.imap_folders import enable_extensions, list_folders
from mailbox.protocols.types import Protocol
from mailbox.services import lease
from mailbox.services.connections import imap_session
from mailbox.services.sync.folders import store_folder_list
from mailbox.services.sync.imap_folder import FolderReport, sync_folder
from mailbox.services.sync.pop3 import sync_pop3_account

logger = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 6 * 60 * 60


class LeaseLost(Exception):
    """Another worker took the account over (ours expired): stop at once."""


class AccountBusy(Exception):
    """Another worker is syncing this account right now."""


# Failures recorded on the account rather than raised; the OAuth ones carry words for the person.
SYNC_FAILURES = (errors.MailProtocolError, LeaseLost, SignInRequired, TokenUnavailable)


@dataclass
class SyncReport:
    account: str
    folders: int = 0
    messages: int = 0
    new: int = 0
    seconds: float = 0.0
    error: str = ""
    folder_reports: dict[str, FolderReport] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        line: dict[str, object] = {
            "account": self.account,
            "folders": self.folders,
            "messages": self.messages,
            "new": self.new,
            "seconds": round(self.seconds, 3),
        }
        if self.error:
            line["error"] = self.error
        return line


def sync_account(account_id: int, *, owner: str | None = None, bodies: bool = True) -> SyncReport:
    """One full sync of an account, if its lease is free; raises AccountBusy otherwise."""
    owner = owner or f"sync-{uuid.uuid4().hex[:12]}"
    if not lease.claim(account_id, owner):
        raise AccountBusy(account_id)
    account = MailAccount.objects.get(pk=account_id)
    report = SyncReport(account=account.email)
    started = time.monotonic()
    try:
        if account.incoming_protocol == Protocol.POP3:
            sync_pop3_account(account, report, _heartbeat(account.pk, owner))
        else:
            _sync_imap(account, report, owner, bodies=bodies)
    except SYNC_FAILURES as exc:
        report.error = _record_failure(account, exc)
    else:
        _record_success(account)
    finally:
        report.seconds = time.monotonic() - started
        lease.release(account_id, owner, next_sync_in=_next_poll(account))
    return report


def sync_folder_now(folder_id: int, *, owner: str) -> dict[str, object]:
    """One folder, now (a person opened it); the account's poll schedule stays as it is."""
    folder = Folder.objects.select_related("account").get(pk=folder_id)
    account = folder.account
    if not lease.claim(account.pk, owner):
        raise AccountBusy(account.pk)
    try:
        with imap_session(account) as client:
            enable_extensions(client)
            folder_report = sync_folder(client, folder, _heartbeat(account.pk, owner))
    except SYNC_FAILURES as exc:
        return {"folder_id": folder_id, "error": _record_failure(account, exc)}
    finally:
        lease.release(account.pk, owner, reschedule=False)
    return {"folder_id": folder_id, "new": folder_report.new}


def _heartbeat(account_id: int, owner: str):  # type: ignore[no-untyped-def]
    def heartbeat() -> None:
        if not lease.renew(account_id, owner):
            raise LeaseLost(account_id)

    return heartbeat


def _sync_imap(account: MailAccount, report: SyncReport, owner: str, *, bodies: bool) -> None:
    heartbeat = _heartbeat(account.pk, owner)
    with imap_session(account) as client:
        enable_extensions(client)
        folders = store_folder_list(account, list_folders(client))
        report.folders = len(folders)
        for folder in folders:
            folder_report = _sync_one(client, folder, heartbeat, bodies=bodies)
            report.folder_reports[folder.name] = folder_report
            report.new += folder_report.new
            heartbeat()
    report.messages = sum(f.message_count for f in Folder.objects.filter(account=account))


def _sync_one(client: ImapClient, folder: Folder, heartbeat, *, bodies: bool) -> FolderReport:  # type: ignore[no-untyped-def]
    try:
        return sync_folder(client, folder, heartbeat, bodies=bodies)
    except errors.FolderMissing as exc:  # deleted elsewhere between LIST and SELECT
        folder.last_error = str(exc)
        folder.save(update_fields=["last_error"])
        return FolderReport()


def _record_success(account: MailAccount) -> None:
    account.last_sync_at = timezone.now()
    account.last_error = ""
    account.sync_failures = 0
    account.save(update_fields=["last_sync_at", "last_error", "sync_failures"])


def _record_failure(account: MailAccount, exc: Exception) -> str:
    if isinstance(exc, errors.MailProtocolError):
        text = describe("incoming", exc, AccountSettings.of(account)).message
    elif isinstance(exc, SignInRequired | TokenUnavailable):
        text = str(exc)
    else:
        text = "Another worker took over this account's sync."
    logger.warning("sync of account %s failed: %s", account.pk, type(exc).__name__)
    account.last_error = text
    account.last_error_at = timezone.now()
    account.sync_failures = min(account.sync_failures + 1, 30)
    account.save(update_fields=["last_error", "last_error_at", "sync_failures"])
    return text


def _next_poll(account: MailAccount) -> float:
    interval = account.sync_interval_seconds or settings.MAIL_SYNC_INTERVAL_SECONDS
    return min(interval * 2**account.sync_failures, max(interval, MAX_BACKOFF_SECONDS))
