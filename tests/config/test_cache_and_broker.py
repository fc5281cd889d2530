"""Redis is both the Celery broker and the Django cache, each with this run's own keys."""

import redis
from django.conf import settings
from django.core.cache import cache

from webmail.celery import app


def test_the_cache_lives_in_the_same_redis_as_the_broker() -> None:
    cache.set("cache-probe", "stored", timeout=30)
    try:
        client = redis.Redis.from_url(settings.REDIS_URL)
        keys = [key.decode() for key in client.keys("*cache-probe*")]

        assert cache.get("cache-probe") == "stored"
        assert keys and all(
            key.startswith(settings.CACHES["default"]["KEY_PREFIX"]) for key in keys
        )
        assert app.conf.broker_url == settings.REDIS_URL
    finally:
        cache.delete("cache-probe")
