"""Settings, all from the environment (see .env.example for every variable).

Values are read with django-environ from the process environment and, when present, from a
`.env` file next to manage.py. Bad or missing production values raise ImproperlyConfigured at
start rather than failing later in a request.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# WEBMAIL_ENV_FILE names another file (the run script and its test use it).
environ.Env.read_env(env.str("WEBMAIL_ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)


def env_secret(name: str, default: str | None = None) -> str | None:
    """A secret from NAME, or from the file named by NAME_FILE (docker secrets)."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path} cannot be read: {exc}") from exc
    return env.str(name, default=default)


DEBUG = env.bool("DEBUG", default=False)

# Development falls back to throwaway keys; production must set its own.
_DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105 (DEBUG only)
SECRET_KEY = env_secret("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else None)
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (see .env.example).")

# Fernet keys for stored mail passwords and tokens: the first encrypts, all of them decrypt,
# so a key can be rotated by putting the new one first.
_DEV_ENCRYPTION_KEY = "ZGV2LW9ubHktaW5zZWN1cmUta2V5LWNoYW5nZS1tZSE="
MAIL_ENCRYPTION_KEYS = [
    key.strip()
    for key in (
        env_secret("MAIL_ENCRYPTION_KEYS", default=_DEV_ENCRYPTION_KEY if DEBUG else "") or ""
    ).split(",")
    if key.strip()
]
if not MAIL_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "MAIL_ENCRYPTION_KEYS must be set when DEBUG is off (see .env.example for how to make one)."
    )
for _key in MAIL_ENCRYPTION_KEYS:
    try:
        Fernet(_key)
    except ValueError as exc:
        raise ImproperlyConfigured(
            "MAIL_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 base64 bytes)."
        ) from exc

SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
_site = urlsplit(SITE_URL)
if _site.scheme not in ("http", "https") or not _site.hostname:
    raise ImproperlyConfigured(f"SITE_URL must be an http(s) URL, not {SITE_URL!r}.")

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS",
    default=["127.0.0.1", "localhost", _site.hostname] if DEBUG else [_site.hostname],
)
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS", default=[f"{_site.scheme}://{_site.netloc}"]
)

# Behind a reverse proxy: trust its X-Forwarded-Proto, and take the client IP from
# X-Forwarded-For only when the request comes from one of these proxy addresses.
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
TRUSTED_PROXY_IPS = env.list("TRUSTED_PROXY_IPS", default=[])

INSTALLED_APPS = [
    # The admin; its site asks staff who have a TOTP device for a code (accounts/admin_site.py).
    "accounts.apps_admin.WebmailAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "webmail",  # project-wide management commands (check_redis)
    "accounts",
    "mailbox",
]

MIDDLEWARE = [
    "webmail.middleware.TrustedProxyClientIpMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "webmail.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified()
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.UserTimeZoneMiddleware",
    "accounts.middleware.TwoFactorSetupMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into our lockout page
]

ROOT_URLCONF = "webmail.urls"
WSGI_APPLICATION = "webmail.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

DATA_DIR = Path(env.str("DATA_DIR", default=str(BASE_DIR / "data")))
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'webmail.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while a worker writes; the timeout rides out short write locks.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            # Python keeps a connection's last 128 prepared statements by default. The sync's
            # multi-row INSERTs and long IN lists change length from batch to batch, each length
            # a new statement of up to a few hundred KB, so a sync's memory grew with the folder
            # (+10 MB from 10,000 to 50,000 messages) until 128 were held. 16 still holds the ten
            # or so that every sync batch repeats; a web request opens its own connection.
            "cached_statements": 16,
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="webmail"),
    }
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security: on by default whenever DEBUG is off -------------------------------------------
_secure = not DEBUG
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_secure)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=_secure)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=_secure)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if _secure else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=_secure)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Preloading is hard to undo and binds every subdomain: an operator's explicit choice, so its
# absence is not a deployment warning here.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# The container healthcheck calls /healthz over plain HTTP from inside the container.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# "same-origin", not "no-referrer", for the app's pages: under no-referrer a browser serialises
# the origin of a non-GET request as null (Fetch standard), so Chromium sends `Origin: null` on
# our own form posts and CSRF protection refuses them. A cross-origin request (a link clicked
# in a mail, an image) still gets no Referer at all; the message frame sets no-referrer itself.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
# No page of the app may be framed; the message frame alone allows its own origin.
X_FRAME_OPTIONS = "DENY"
# The app's pages run only their own files: no inline script or style, no other origin, no
# plugins, no <base>; images may also be data: URLs. Set by
# webmail.middleware.ContentSecurityPolicyMiddleware on every response that has no policy of
# its own (the message frame and attachments set stricter ones).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "frame-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ]
)
# Hide sensitive variables and POST fields in error reports even with DEBUG on.
DEFAULT_EXCEPTION_REPORTER_FILTER = "webmail.debug.AlwaysSafeExceptionReporterFilter"

# --- Signing in: sessions, lockouts, two-factor sign-in, password-reset mail -------------------
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=7 * 24 * 60 * 60)
ACCOUNTS_OPEN_SIGNUP = env.bool("ACCOUNTS_OPEN_SIGNUP", default=False)
# Everybody must set up two-factor sign-in (an admin can also require it per user).
ACCOUNTS_REQUIRE_TWO_FACTOR = env.bool("ACCOUNTS_REQUIRE_TWO_FACTOR", default=False)
# How long the code step of a two-factor sign-in waits after the right password.
ACCOUNTS_SIGN_IN_CODE_SECONDS = 5 * 60
PASSWORD_RESET_TIMEOUT = 60 * 60


def _at_least_one(name: str, value: int) -> int:
    if value < 1:
        raise ImproperlyConfigured(f"{name} must be 1 or more, not {value}.")
    return value


# Lockout per (user name, client IP) by django-axes, counted in the cache: somebody failing
# elsewhere never locks a person out. The client IP is REMOTE_ADDR, which
# TrustedProxyClientIpMiddleware sets from X-Forwarded-For for trusted proxies only.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out pair before any password check
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = _at_least_one(
    "ACCOUNTS_LOCKOUT_FAILURES", env.int("ACCOUNTS_LOCKOUT_FAILURES", default=5)
)
AXES_COOLOFF_TIME = timedelta(
    seconds=_at_least_one(
        "ACCOUNTS_LOCKOUT_SECONDS", env.int("ACCOUNTS_LOCKOUT_SECONDS", default=15 * 60)
    )
)
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "accounts.auth_throttle.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.auth_throttle.lockout_response"
AXES_ENABLE_ADMIN = False  # attempts live in the cache: axes' admin tables would stay empty
AXES_VERBOSE = False  # its start-up banner would break the one-line messages of our commands

# Slowdown per user name, from any IP (accounts/auth_throttle.py): after this many failures in
# a day, each further failure closes the name for a window that doubles, up to the maximum.
# Browsers that signed in as that name before ("known devices") are not slowed.
ACCOUNTS_SLOWDOWN_AFTER_FAILURES = _at_least_one(
    "ACCOUNTS_SLOWDOWN_AFTER_FAILURES", env.int("ACCOUNTS_SLOWDOWN_AFTER_FAILURES", default=10)
)
ACCOUNTS_SLOWDOWN_BASE_SECONDS = _at_least_one(
    "ACCOUNTS_SLOWDOWN_BASE_SECONDS", env.int("ACCOUNTS_SLOWDOWN_BASE_SECONDS", default=5)
)
ACCOUNTS_SLOWDOWN_MAX_SECONDS = _at_least_one(
    "ACCOUNTS_SLOWDOWN_MAX_SECONDS", env.int("ACCOUNTS_SLOWDOWN_MAX_SECONDS", default=15 * 60)
)
ACCOUNTS_SLOWDOWN_MEMORY_SECONDS = 24 * 60 * 60
ACCOUNTS_KNOWN_DEVICE_DAYS = 90

# Two-factor sign-in with TOTP apps (django-otp); the admin never shows a device's key.
OTP_TOTP_ISSUER = _site.hostname
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Password-reset mail goes through the operator's SMTP server, EMAIL_URL such as
# smtp+tls://user:password@smtp.example.com:587 (STARTTLS) or smtp+ssl://...:465 (TLS).
# Unset in production, the reset page says mail is not set up instead of failing.
_email_url = env_secret("EMAIL_URL", default="consolemail://" if DEBUG else "")
EMAIL_IS_CONFIGURED = bool(_email_url)
try:
    _email = environ.Env.email_url_config(_email_url) if _email_url else {}
except ImproperlyConfigured:
    # Never echo the value: it holds the SMTP password.
    raise ImproperlyConfigured("EMAIL_URL is not a mail URL (see .env.example).") from None
EMAIL_BACKEND = _email.get("EMAIL_BACKEND", "django.core.mail.backends.dummy.EmailBackend")
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
EMAIL_PORT = _email.get("EMAIL_PORT") or (465 if EMAIL_USE_SSL else 587 if EMAIL_USE_TLS else 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"webmail@{_site.hostname}")

# --- Mail: storage, limits and every delay the product has (tests shrink them) ----------------
MAIL_STORAGE_DIR = Path(env.str("MAIL_STORAGE_DIR", default=str(DATA_DIR / "messages")))
MAIL_MAX_UPLOAD_MB = env.int("MAIL_MAX_UPLOAD_MB", default=25)
MAIL_MAX_MESSAGE_MB = env.int("MAIL_MAX_MESSAGE_MB", default=50)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
MAIL_SYNC_INTERVAL_SECONDS = env.int("MAIL_SYNC_INTERVAL_SECONDS", default=120)
MAIL_SYNC_LEASE_SECONDS = env.int("MAIL_SYNC_LEASE_SECONDS", default=300)
# A sync with at least MAIL_SYNC_PARSE_POOL_MIN messages to read parses them in this many
# helper processes beside the worker (0: in the worker itself).
MAIL_SYNC_PARSERS = env.int("MAIL_SYNC_PARSERS", default=1)
MAIL_SYNC_PARSE_POOL_MIN = env.int("MAIL_SYNC_PARSE_POOL_MIN", default=500)
# A listing that adds at least this many messages has PostgreSQL's statistics refreshed after
# its first batch, when they predate most of the rows (mailbox/services/sync/statistics.py).
MAIL_SYNC_ANALYZE_MIN_ROWS = env.int("MAIL_SYNC_ANALYZE_MIN_ROWS", default=1000)
MAIL_NETWORK_TIMEOUT_SECONDS = env.float("MAIL_NETWORK_TIMEOUT_SECONDS", default=30.0)
MAIL_UNDO_SEND_SECONDS = env.int("MAIL_UNDO_SEND_SECONDS", default=10)
MAIL_SEND_RETRY_BASE_SECONDS = env.int("MAIL_SEND_RETRY_BASE_SECONDS", default=60)
MAIL_SEND_RETRY_FOR_HOURS = env.float("MAIL_SEND_RETRY_FOR_HOURS", default=48.0)
# The outbox: how long a worker's claim on a message lasts (longer than sending one takes).
MAIL_SEND_LEASE_SECONDS = env.int("MAIL_SEND_LEASE_SECONDS", default=300)
# The outbox sweep takes up to this many due messages at once (each account's over one session).
MAIL_SEND_BATCH = env.int("MAIL_SEND_BATCH", default=200)
# Compose saves the draft this many seconds after the person stops typing.
MAIL_DRAFT_SAVE_SECONDS = env.float("MAIL_DRAFT_SAVE_SECONDS", default=5.0)
MAIL_DNS_SERVER = env.str("MAIL_DNS_SERVER", default="")
# POP3 accounts: delete mail from the server this many days after it was downloaded (unset:
# leave it there, the default).
MAIL_POP3_DELETE_AFTER_DAYS = env.int("MAIL_POP3_DELETE_AFTER_DAYS", default=None)
# Mail servers on loopback, private or link-local addresses are refused unless this is on
# (a self-hoster's own mail server on the LAN; the test suite).
MAIL_ALLOW_PRIVATE_HOSTS = env.bool("MAIL_ALLOW_PRIVATE_HOSTS", default=False)
MAIL_DISCOVERY_TIMEOUT_SECONDS = env.float("MAIL_DISCOVERY_TIMEOUT_SECONDS", default=8.0)
MAIL_PROBE_TIMEOUT_SECONDS = env.float("MAIL_PROBE_TIMEOUT_SECONDS", default=4.0)
# Discovery and connection tests a user may run per hour (they are not a port scanner).
MAIL_CONNECTION_TESTS_PER_HOUR = env.int("MAIL_CONNECTION_TESTS_PER_HOUR", default=30)
# Opening a folder asks for its sync at once, at most once per folder in this many seconds.
MAIL_OPEN_SYNC_MIN_SECONDS = env.int("MAIL_OPEN_SYNC_MIN_SECONDS", default=30)
# How often an open message list asks for new mail, and the sidebar for its counts.
MAIL_LIST_POLL_SECONDS = _at_least_one(
    "MAIL_LIST_POLL_SECONDS", env.int("MAIL_LIST_POLL_SECONDS", default=30)
)
# How long a signed link to a message's frame (and its inline images) works. The frame has an
# opaque origin, so it is fetched without the session: the signed path is its credential.
MAIL_FRAME_TOKEN_SECONDS = _at_least_one(
    "MAIL_FRAME_TOKEN_SECONDS", env.int("MAIL_FRAME_TOKEN_SECONDS", default=60 * 60)
)

# --- OAuth 2.0 sign-in for Google and Microsoft mail accounts ----------------------------------
# Endpoints and scopes come from the data file (key "oauth"); each entry names the two settings
# below that hold the operator's registration. A provider whose id or secret is empty is not
# offered: its accounts are set up with passwords (app passwords) instead.
OAUTH_PROVIDERS_FILE = BASE_DIR / "accounts" / "discovery" / "providers.json"
OAUTH_GOOGLE_CLIENT_ID = env.str("OAUTH_GOOGLE_CLIENT_ID", default="")
OAUTH_GOOGLE_CLIENT_SECRET = env_secret("OAUTH_GOOGLE_CLIENT_SECRET", default="") or ""
OAUTH_MICROSOFT_CLIENT_ID = env.str("OAUTH_MICROSOFT_CLIENT_ID", default="")
OAUTH_MICROSOFT_CLIENT_SECRET = env_secret("OAUTH_MICROSOFT_CLIENT_SECRET", default="") or ""

# --- Celery (the app, its queues and beat schedule live in webmail/celery.py) -----------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
# Prefixes every Redis key of the broker (queues included), so two deployments or two test
# runs can share one Redis without taking each other's tasks.
CELERY_KEY_PREFIX = env.str("CELERY_KEY_PREFIX", default="")
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
# An unacknowledged task is redelivered after this long: keep it above the longest task.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * 60 * 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "global_keyprefix": CELERY_KEY_PREFIX,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_TIMEZONE = TIME_ZONE

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
