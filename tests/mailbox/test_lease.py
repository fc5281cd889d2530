"""One sync per account at a time, with a lease in the database."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import MailAccount, User
from mailbox.services import lease
from tests.accounts.factories import make_account

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


@pytest.fixture
def account() -> MailAccount:
    return make_account(User.objects.create_user("alice"), "alice@example.test")


def test_only_one_worker_gets_the_lease(account: MailAccount) -> None:
    assert lease.claim(account.pk, "worker-a")
    assert not lease.claim(account.pk, "worker-b")
    assert lease.renew(account.pk, "worker-a")
    assert not lease.renew(account.pk, "worker-b")


def test_an_expired_lease_is_taken_over(account: MailAccount) -> None:
    lease.claim(account.pk, "worker-a")
    MailAccount.objects.filter(pk=account.pk).update(
        sync_lease_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )

    assert lease.claim(account.pk, "worker-b")
    assert not lease.renew(account.pk, "worker-a")  # the dead worker, back: it must stop


def test_release_schedules_the_next_poll(account: MailAccount, settings) -> None:  # type: ignore[no-untyped-def]
    settings.MAIL_SYNC_INTERVAL_SECONDS = 120
    lease.claim(account.pk, "worker-a")

    lease.release(account.pk, "worker-a")

    account.refresh_from_db()
    assert account.sync_lease_owner == "" and account.sync_lease_expires_at is None
    assert 110 < (account.next_sync_at - timezone.now()).total_seconds() <= 120
    assert account.pk not in lease.due_account_ids()


def test_due_accounts_are_enabled_free_and_due(account: MailAccount) -> None:
    other = make_account(account.user, "alice@other.test")
    disabled = make_account(account.user, "off@example.test")
    MailAccount.objects.filter(pk=disabled.pk).update(is_enabled=False)
    lease.claim(other.pk, "worker-a")

    assert lease.due_account_ids() == [account.pk]
    assert not lease.claim(disabled.pk, "worker-a")


def test_an_account_whose_queued_sync_was_lost_is_handed_out_again(
    account: MailAccount, settings
) -> None:  # type: ignore[no-untyped-def]
    """Redis restarted (or a worker died) with the sync task still queued: nothing ran."""
    settings.MAIL_SYNC_LEASE_SECONDS = 60
    assert lease.take_due() == [account.pk]
    assert lease.take_due() == []  # still queued, as far as anybody knows

    held_until = MailAccount.objects.get(pk=account.pk).next_sync_at
    assert 50 < (held_until - timezone.now()).total_seconds() <= 60
    MailAccount.objects.filter(pk=account.pk).update(
        next_sync_at=timezone.now() - dt.timedelta(seconds=1)  # the hold has passed
    )

    assert lease.take_due() == [account.pk]
