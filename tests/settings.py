"""Settings for the test suite: the real settings module, fed test values.

Every run gets its own Redis database number, queue names, cache prefix and test database
name (keyed by WEBMAIL_TEST_RUN_ID, inherited by the Celery worker the tests start), so two
suites running at once on one machine never take each other's tasks or rows.
"""

import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

RUN_ID = os.environ.setdefault("WEBMAIL_TEST_RUN_ID", str(os.getpid()))
RUN_DIR = Path(
    os.environ.setdefault(
        "WEBMAIL_TEST_RUN_DIR", os.path.join(tempfile.gettempdir(), f"webmail-test-{RUN_ID}")
    )
)
RUN_DIR.mkdir(parents=True, exist_ok=True)


def _redis_url_for_run(url: str) -> str:
    # Databases 1-15 (0 is left to whatever else uses this Redis).
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{1 + int(RUN_ID) % 15}"))


os.environ.setdefault(
    "SECRET_KEY", "test-only-secret-key-that-is-long-enough-0123456789-abcdefghij"
)
os.environ.setdefault("MAIL_ENCRYPTION_KEYS", "dGVzdC1vbmx5LWVuY3J5cHRpb24ta2V5LTAxMjM0NTY=")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SESSION_COOKIE_SECURE", "false")
os.environ.setdefault("CSRF_COOKIE_SECURE", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DATA_DIR", str(RUN_DIR / "data"))
os.environ.setdefault("STATIC_ROOT", str(RUN_DIR / "static"))
(RUN_DIR / "static").mkdir(exist_ok=True)
os.environ["REDIS_URL"] = _redis_url_for_run(
    os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
)
os.environ.setdefault("CELERY_KEY_PREFIX", f"test{RUN_ID}.")
os.environ.setdefault("CACHE_KEY_PREFIX", f"test{RUN_ID}")
# Delays the product has, shrunk so the suite stays fast.
os.environ.setdefault("MAIL_SYNC_INTERVAL_SECONDS", "2")
os.environ.setdefault("MAIL_SYNC_LEASE_SECONDS", "10")
os.environ.setdefault("MAIL_NETWORK_TIMEOUT_SECONDS", "5")
os.environ.setdefault("MAIL_UNDO_SEND_SECONDS", "0")
os.environ.setdefault("MAIL_SEND_RETRY_BASE_SECONDS", "1")
os.environ.setdefault("MAIL_SEND_RETRY_FOR_HOURS", "0.01")
os.environ.setdefault("MAIL_SEND_LEASE_SECONDS", "10")
os.environ.setdefault("CELERY_TASK_TIME_LIMIT", "120")
# Every test server listens on loopback.
os.environ.setdefault("MAIL_ALLOW_PRIVATE_HOSTS", "true")
os.environ.setdefault("MAIL_DISCOVERY_TIMEOUT_SECONDS", "4")
os.environ.setdefault("MAIL_PROBE_TIMEOUT_SECONDS", "2")

from webmail.settings import *  # noqa: E402,F403
from webmail.settings import DATABASES  # noqa: E402

_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so that the Celery worker process sees the same database.
    _db["TEST"] = {"NAME": str(RUN_DIR / "test.sqlite3")}
else:
    _db["TEST"] = {"NAME": f"test_webmail_{RUN_ID}"}
# The worker the tests start is told which test database pytest-django created.
if os.environ.get("WEBMAIL_TEST_WORKER_DB"):
    _db["NAME"] = os.environ["WEBMAIL_TEST_WORKER_DB"]

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# Serve static files straight from the source folders (no collectstatic in tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Counts the requests the live server is serving, so a test's teardown can wait for them
# (tests/harness/quiesce.py).
MIDDLEWARE = ["tests.harness.quiesce.count_requests", *MIDDLEWARE]  # noqa: F405
