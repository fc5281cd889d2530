"""The Celery app: broker, serialisation, queues, routes and the beat schedule, in one place.

Mail tasks are acknowledged late and re-queued when a worker dies, so every task must be safe
to run twice (they take ids, claim work with conditional UPDATEs and upsert their results).
Sending has a queue and a worker of its own so that a long sync never delays outgoing mail.
"""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webmail.settings")

app = Celery("webmail")
app.config_from_object("django.conf:settings", namespace="CELERY")


def queue_name(name: str) -> str:
    from django.conf import settings

    return f"{settings.CELERY_QUEUE_PREFIX}{name}"


def configure(app: Celery) -> None:
    from django.conf import settings

    default, sync, send = queue_name("default"), queue_name("sync"), queue_name("send")
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        timezone=settings.TIME_ZONE,
        enable_utc=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_track_started=True,
        result_expires=24 * 60 * 60,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": settings.CELERY_VISIBILITY_TIMEOUT},
        result_backend_transport_options={"visibility_timeout": settings.CELERY_VISIBILITY_TIMEOUT},
        task_default_queue=default,
        task_queues=[Queue(default), Queue(sync), Queue(send)],
        task_routes={
            "mailbox.tasks.send.*": {"queue": send},
            "mailbox.tasks.sync.*": {"queue": sync},
        },
        # Periodic work: each entry is a fan-out task that finds due rows and enqueues per-id
        # tasks. Sync polling and the outbox sweep are added with those features.
        beat_schedule={},
    )


configure(app)
app.autodiscover_tasks()
