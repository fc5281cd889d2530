"""`manage.py check_redis`: one clear line when Redis (broker and cache) cannot be reached.

The run script and the container entrypoint call it before starting anything, so a missing
Redis is reported as what it is rather than as a traceback from deep inside Celery.
"""

import sys
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
from django.conf import settings
from django.core.management.base import BaseCommand


def redis_problem(url: str, timeout: float = 3.0) -> str | None:
    """None when Redis answers PING at `url`, else a one-line description of what is wrong."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    except ValueError as exc:
        return f"REDIS_URL is not a Redis URL: {exc}"
    try:
        client.ping()
    except redis.exceptions.AuthenticationError:
        return "Redis refused the password in REDIS_URL"
    except (redis.exceptions.RedisError, OSError) as exc:
        return (str(exc).splitlines() or [type(exc).__name__])[0]
    finally:
        client.close()
    return None


def without_password(url: str) -> str:
    parts = urlsplit(url)
    if not parts.password:
        return url
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{parts.hostname}{port}"))


class Command(BaseCommand):
    help = "Checks that Redis (the Celery broker and the cache) answers at REDIS_URL."

    def handle(self, *args: Any, **options: Any) -> None:
        url = without_password(settings.REDIS_URL)
        problem = redis_problem(settings.REDIS_URL)
        if problem:
            self.stderr.write(
                f"Redis is not reachable at {url} ({problem}). Start it "
                "(for example: redis-server --daemonize yes) or set REDIS_URL in .env."
            )
            sys.exit(1)
        self.stdout.write(f"Redis answers at {url}.")
