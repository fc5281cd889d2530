"""Sync through the real worker and beat's fan-out, and `manage.py syncmail`."""

import io
import json
from collections.abc import Callable

import pytest
from django.core.management import call_command

from accounts.models import MailAccount, User
from mailbox.models import MessageLocation
from mailbox.protocols.types import Security, Server
from mailbox.services import lease
from mailbox.tasks.sync import sync_account_task, sync_due_accounts
from tests.accounts.factories import make_account
from tests.harness import messages
from tests.harness.celery_worker import CeleryWorker
from tests.harness.mailservers import MailServers, MailUser


def account_for(user: MailUser, servers: MailServers, owner: str) -> MailAccount:
    e = servers.endpoints
    return make_account(
        User.objects.create_user(owner),
        user.address,
        password=user.password,
        incoming=Server(e.host, e.imaps_port, Security.TLS),
        smtp=Server(e.host, e.submissions_port, Security.TLS),
    )


@pytest.mark.django_db(transaction=True)
def test_the_worker_syncs_an_account(
    celery_worker: CeleryWorker, mail_servers: MailServers, mail_user: Callable[..., MailUser]
) -> None:
    user = mail_user()
    mail_servers.seed(user.address, [messages.plain_text(), messages.with_attachments()])
    account = account_for(user, mail_servers, "alice")

    result = sync_account_task.delay(account.pk).get(timeout=60)

    assert result["new"] == 2 and "error" not in result
    assert MessageLocation.objects.filter(folder__account=account).count() == 2


@pytest.mark.django_db
def test_the_fan_out_hands_each_due_account_out_once(
    mail_servers: MailServers, mail_user: Callable[..., MailUser], monkeypatch
) -> None:
    queued: list[int] = []
    monkeypatch.setattr(sync_account_task, "delay", queued.append)
    account = account_for(mail_user(), mail_servers, "alice")

    assert sync_due_accounts() == 1
    assert sync_due_accounts() == 0  # queued already: not again at the next sweep
    assert queued == [account.pk]
    assert lease.claim(account.pk, "the queued task")  # and the task can still take it


@pytest.mark.django_db
def test_syncmail_prints_progress_and_one_json_line_per_account(
    mail_servers: MailServers, mail_user: Callable[..., MailUser], settings, tmp_path
) -> None:
    settings.MAIL_STORAGE_DIR = tmp_path
    user = mail_user()
    mail_servers.seed(user.address, [messages.plain_text()] * 1 + [messages.html_only()])
    account_for(user, mail_servers, "alice")
    out, err = io.StringIO(), io.StringIO()

    call_command("syncmail", user.address, stdout=out, stderr=err)

    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert line["account"] == user.address
    assert line["new"] == 2 and line["messages"] == 2 and line["folders"] >= 6
    assert line["seconds"] >= 0
    assert "INBOX: 2 new" in err.getvalue()
