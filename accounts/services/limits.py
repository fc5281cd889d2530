"""Per-user limits on what touches the network on a person's behalf.

Discovery and connection tests connect to hosts a person names with a password they type,
so without a limit they would be a port scanner and a password-guessing proxy.
"""

import time

from django.conf import settings
from django.core.cache import cache


class RateLimited(Exception):
    def __init__(self, retry_after_seconds: int) -> None:
        minutes = max(1, round(retry_after_seconds / 60))
        super().__init__(
            f"Too many server lookups and connection tests. Try again in about {minutes} minute(s)."
        )
        self.retry_after_seconds = retry_after_seconds


def check_network_allowance(user_id: int) -> None:
    """Counts one discovery or connection test for this user; raises RateLimited past the limit."""
    window = 3600
    bucket = int(time.time() // window)
    key = f"net-allowance:{user_id}:{bucket}"
    cache.add(key, 0, timeout=window)
    used = cache.incr(key)
    if used > settings.MAIL_CONNECTION_TESTS_PER_HOUR:
        raise RateLimited(retry_after_seconds=window - int(time.time() % window))
