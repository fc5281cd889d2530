from celery import shared_task


@shared_task(name="mailbox.tasks.health.ping")
def ping(payload: str) -> dict[str, str | int]:
    """Echoes its argument with what the worker sees of the database.

    Operators (and the tests) use it to prove that a worker is consuming the queue and is
    connected to the same database as the web app.
    """
    from django.contrib.auth import get_user_model
    from django.db import connection

    return {
        "echo": payload,
        "database": str(connection.settings_dict["NAME"]),
        "users": get_user_model().objects.count(),
    }
