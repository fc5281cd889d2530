"""The Celery app: broker, serialisation, queues, routes and the beat schedule, in one place.

Mail tasks are acknowledged late and re-queued when a worker dies, so every task must be safe
to run twice (they take ids, claim work with conditional UPDATEs and upsert their results).
Sending has a queue and a worker of its own so that a long sync never delays outgoing mail.
Broker settings that come from the environment (URL, visibility timeout, key prefix) are in
webmail/settings.py under CELERY_*.
"""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webmail.settings")

DEFAULT_QUEUE = "default"
SYNC_QUEUE = "sync"
SEND_QUEUE = "send"
SYNC_SWEEP_SECONDS = 15.0
SEND_SWEEP_SECONDS = 10.0

app = Celery("webmail")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    enable_utc=True,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_track_started=True,
    result_expires=24 * 60 * 60,
    broker_connection_retry_on_startup=True,
    beat_sync_every=1,  # the schedule file's age is beat's healthcheck (docker-compose.yml)
    task_default_queue=DEFAULT_QUEUE,
    task_queues=[Queue(DEFAULT_QUEUE), Queue(SYNC_QUEUE), Queue(SEND_QUEUE)],
    task_routes={
        "mailbox.tasks.send.*": {"queue": SEND_QUEUE},
        "mailbox.tasks.sync.*": {"queue": SYNC_QUEUE},
    },
    # Periodic work: each entry is a fan-out task that finds due rows and enqueues per-id
    # tasks; how often each account is polled is its own interval, checked at every sweep.
    beat_schedule={
        "sync-due-accounts": {
            "task": "mailbox.tasks.sync.sync_due_accounts",
            "schedule": SYNC_SWEEP_SECONDS,
        },
        # A safety net: actions are replayed as soon as they are made; this catches the ones
        # whose task was lost or whose retry waits longer than a countdown should.
        "replay-due-actions": {
            "task": "mailbox.tasks.actions.replay_due_actions",
            "schedule": 60.0,
        },
        # The outbox lives in the database (no long countdowns on Redis): this claims due
        # messages and settles those of workers that died.
        "send-due-messages": {
            "task": "mailbox.tasks.send.send_due",
            "schedule": SEND_SWEEP_SECONDS,
        },
    },
)


app.autodiscover_tasks()
