"""Replaying an account's waiting actions on its IMAP server: what the replay task calls.

Under the account's lease (so never beside a sync or another replay), over one connection, in
order: the run of actions at the head of the queue that one command can carry is claimed
(pending → running, a conditional UPDATE), sent, and settled in a short transaction
(outcomes.py). Rows left running by a replay that died are ours again under the lease and run
again, which is safe (server.py). A refusal settles its group and the queue goes on; a
connection problem stops the replay and postpones the head of the queue, so nothing behind it
overtakes it.
"""

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import MailAccount
from accounts.services.oauth_tokens import SignInRequired
from mailbox.models import Message, MessageLocation, PendingAction
from mailbox.models.actions import ActionKind, ActionState
from mailbox.protocols import errors
from mailbox.protocols.imap import ImapClient
from mailbox.services import lease
from mailbox.services.actions import outcomes, server, words
from mailbox.services.actions.plan import GROUP_LIMIT, REPLAYED_KINDS, Blocked, Step, head_group
from mailbox.services.actions.positions import Positions
from mailbox.services.actions.queue import WAITING
from mailbox.services.connections import imap_session
from mailbox.services.sync import AccountBusy

T = TypeVar("T")
REFUSALS = (errors.ActionRefused, errors.FolderMissing, errors.MessageMissing)
# Failures of the account rather than of the connection: the person has to act.
ACCOUNT_PROBLEMS = (
    errors.AuthFailed,
    errors.CertificateUntrusted,
    errors.TlsUnavailable,
    errors.ForbiddenAddress,
    errors.NameNotFound,
    SignInRequired,
)


@dataclass
class ReplayReport:
    account_id: int
    done: int = 0
    failed: int = 0
    retry_in: float | None = None  # seconds until the head of the queue may be tried again

    def as_json(self) -> dict[str, object]:
        return {
            "account_id": self.account_id,
            "done": self.done,
            "failed": self.failed,
            "retry_in": self.retry_in,
        }


def waiting_actions(account_id: int) -> QuerySet[PendingAction]:
    """The account's queue, in order (kinds recorded elsewhere, such as uploads, are not ours)."""
    return PendingAction.objects.filter(
        account_id=account_id, state__in=WAITING, kind__in=REPLAYED_KINDS
    ).order_by("pk")


def accounts_with_due_actions(limit: int = 500) -> list[int]:
    """Accounts whose queue has something due: beat's safety net for replay tasks that were
    lost (a Redis restart) or that gave up."""
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now())
    waiting = PendingAction.objects.filter(due, state__in=WAITING, kind__in=REPLAYED_KINDS)
    return list(waiting.order_by().values_list("account_id", flat=True).distinct()[:limit])


def replay_account(account_id: int, *, owner: str | None = None) -> ReplayReport:
    """Replays what waits; raises AccountBusy while a sync (or another replay) holds the lease."""
    owner = owner or f"replay-{uuid.uuid4().hex[:12]}"
    report = ReplayReport(account_id)
    head = waiting_actions(account_id).first()
    if head is None:
        return report
    if (wait := _seconds_until_due(head)) > 0:
        report.retry_in = wait
        return report
    if not lease.claim(account_id, owner):
        if MailAccount.objects.filter(pk=account_id, is_enabled=True).exists():
            raise AccountBusy(account_id)
        return report  # disabled: its changes wait until it is enabled again
    try:
        _replay(MailAccount.objects.get(pk=account_id), owner, report)
    finally:
        lease.release(account_id, owner, reschedule=False)
    return report


def _replay(account: MailAccount, owner: str, report: ReplayReport) -> None:
    try:
        with imap_session(account) as client:
            while steps := _claim_next(account.pk, report):
                _run(client, steps, report)
                if not lease.renew(account.pk, owner):
                    return  # taken over after ours expired: the new holder carries on
    except errors.MailProtocolError as exc:  # the connection, not an action: later, in order
        head = waiting_actions(account.pk).first()
        if head is not None:
            text, account_problem = words.waiting(account, exc), isinstance(exc, ACCOUNT_PROBLEMS)
            report.retry_in = outcomes.postpone(head, text, account_problem=account_problem)


def _seconds_until_due(action: PendingAction) -> float:
    if action.next_attempt_at is None:
        return 0.0
    return max((action.next_attempt_at - timezone.now()) / dt.timedelta(seconds=1), 0.0)


def _claim_next(account_id: int, report: ReplayReport) -> list[Step]:
    """The head group, claimed; heads that cannot go to the server are settled on the way."""
    while True:
        window = list(waiting_actions(account_id).select_related("location")[: GROUP_LIMIT + 1])
        if not window:
            return []
        if (wait := _seconds_until_due(window[0])) > 0:
            report.retry_in = wait
            return []
        ids = [step.action.pk for step in head_group(window, Positions.load(account_id, window))]
        PendingAction.objects.filter(pk__in=ids, state=ActionState.PENDING).update(
            state=ActionState.RUNNING
        )
        # Re-read: a merge may have changed a payload between the first read and the claim.
        claimed = list(waiting_actions(account_id).filter(pk__in=ids).select_related("location"))
        if not claimed:
            continue
        group = head_group(claimed, Positions.load(account_id, claimed))
        if group[0].blocked is None:
            return group
        _settle_blocked(group[0], report)


def _settle_blocked(step: Step, report: ReplayReport) -> None:
    if step.blocked is Blocked.NOTHING_TO_DO:
        outcomes.finish([step.action])
        report.done += 1
    elif step.blocked is not None:
        outcomes.fail([step.action], words.blocked(step.kind, step.blocked))
        report.failed += 1


def _run(client: ImapClient, steps: list[Step], report: ReplayReport) -> None:
    try:
        failed = RUNNERS[steps[0].kind](client, steps)
    except REFUSALS as exc:
        outcomes.fail([step.action for step in steps], words.refused(steps[0].kind, exc))
        report.failed += len(steps)
        return
    report.failed += failed
    report.done += len(steps) - failed


def _flags(client: ImapClient, steps: list[Step]) -> int:
    head = steps[0]
    flag, value = head.action.payload["flag"], head.action.payload["value"]
    server.store_flag(client, _known(head.folder), _uids(steps), flag, value)
    outcomes.finish([step.action for step in steps])
    return 0


def _deletes(client: ImapClient, steps: list[Step]) -> int:
    server.expunge(client, _known(steps[0].folder), _uids(steps))
    outcomes.finish_deletes([step.action for step in steps])
    return 0


def _moves(client: ImapClient, steps: list[Step]) -> int:
    """Returns how many failed (messages neither in the source nor found in the target)."""
    head = steps[0]
    target_id = head.action.payload["to_folder"]
    known = set(
        MessageLocation.objects.filter(folder_id=target_id, uid__gt=0).values_list("uid", flat=True)
    )
    results = server.move_messages(
        client, _known(head.folder), _known(head.target), _fingerprints(steps), known
    )
    failed = 0
    for step in steps:
        moved = results[_known(step.uid)]
        if moved.missing:
            outcomes.fail([step.action], words.blocked(ActionKind.MOVE, Blocked.NOT_ON_SERVER))
            failed += 1
        else:
            outcomes.finish_move(step.action, moved.uid)
    return failed


def _fingerprints(steps: list[Step]) -> dict[int, server.Fingerprint]:
    ids = [step.action.payload.get("message") for step in steps]
    messages = Message.objects.in_bulk([pk for pk in ids if pk])
    fingerprints = {}
    for step, message_id in zip(steps, ids, strict=True):
        message = messages.get(message_id)
        fingerprints[_known(step.uid)] = (
            server.Fingerprint(message.message_id, message.size, message.gmail_msgid)
            if message is not None
            else server.Fingerprint("", -1)  # content gone here: it cannot be recognised
        )
    return fingerprints


def _folder(client: ImapClient, steps: list[Step]) -> int:
    action = steps[0].action
    payload = action.payload
    if action.kind == ActionKind.CREATE_FOLDER:
        server.create(client, payload["name"])
    elif action.kind == ActionKind.RENAME_FOLDER:
        server.rename(client, payload["old_name"], payload["new_name"])
    else:
        server.delete(client, payload["name"])
    outcomes.finish([action])
    return 0


def _uids(steps: list[Step]) -> list[int]:
    return [_known(step.uid) for step in steps]


def _known(value: T | None) -> T:
    """A value that `Step.blocked` has checked is there."""
    if value is None:
        raise ValueError("a blocked step reached the server")
    return value


RUNNERS: dict[ActionKind, Callable[[ImapClient, list[Step]], int]] = {
    ActionKind.SET_FLAGS: _flags,
    ActionKind.MOVE: _moves,
    ActionKind.DELETE: _deletes,
    ActionKind.CREATE_FOLDER: _folder,
    ActionKind.RENAME_FOLDER: _folder,
    ActionKind.DELETE_FOLDER: _folder,
}
