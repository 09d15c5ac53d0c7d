"""PartnerHub settings, all read from the environment (django-environ, optional `.env`).

Production is the default (`DEBUG` off): it refuses to start without a real
`SECRET_KEY`, and `check --deploy` fails on the demo defaults (partnerhub/checks.py).
`scripts/run` turns DEBUG on for the demo, whose defaults give a working local
install: SQLite under `var/`, django-q2's ORM broker, provider URLs pointing at the
bundled sandbox with its demo keys.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)

_DEV_SECRET_KEY = "django-insecure-partnerhub-local-development-only"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == _DEV_SECRET_KEY):
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "partnerhub.apps.PartnerHubAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Before django_q: its `qcluster` command is shadowed by ours (bounded stop).
    "partnerhub.apps.PartnerHubConfig",
    "django_q",
    "django_tables2",
    "django_filters",
    "campaigns",
    "unsubscribes",
    "pec",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

if not DEBUG:  # static files under gunicorn (runserver serves them in development)
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "partnerhub.urls"
WSGI_APPLICATION = "partnerhub.wsgi.application"
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"

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
                "django.template.context_processors.i18n",
                "partnerhub.navigation.navigation",
            ],
        },
    },
]

# --- database -----------------------------------------------------------------
# var/ holds the database, uploads and reports: owner-only, whatever the umask.
VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
if VAR_DIR.stat().st_mode & 0o077 and VAR_DIR.stat().st_uid == os.getuid():
    VAR_DIR.chmod(0o700)
DATABASES = {
    "default": env.db(
        "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'partnerhub.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Owner-only, created here or tightened; SQLite gives -wal/-shm the same mode.
    _sqlite = Path(str(DATABASES["default"]["NAME"]))
    if str(_sqlite) != ":memory:" and _sqlite.parent.is_dir():
        if not _sqlite.exists():
            _sqlite.touch(mode=0o600)
        elif _sqlite.stat().st_mode & 0o077 and _sqlite.stat().st_uid == os.getuid():
            _sqlite.chmod(0o600)
    # WAL + a busy timeout let the web server and the worker write side by side.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- background tasks (django-q2) ---------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
Q_CLUSTER: dict[str, object] = {
    "name": "partnerhub",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=600),
    "retry": env.int("Q_RETRY", default=720),  # must exceed timeout
    "max_attempts": env.int("Q_MAX_ATTEMPTS", default=3),
    "catch_up": False,
    "save_limit": 1000,
    "ack_failures": True,
    "label": _("Background tasks"),
    # Recipient imports validate on every core with a process pool, which a
    # daemonic worker process may not start.
    "daemonize_workers": False,
}
# On SIGTERM/Ctrl-C, busy workers get this long to finish their task before the
# cluster ends them (partnerhub/qcluster.py); tasks are safe to cut short.
Q_STOP_GRACE_SECONDS = env.float("Q_STOP_GRACE_SECONDS", default=20.0)
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = env.float("Q_POLL", default=0.5)

# --- cache -------------------------------------------------------------------------
# Sign-in failure counts are not cached: they are rows (partnerhub/throttle.py),
# counted atomically and shared by every process and node, with or without Redis.
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "partnerhub",
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    ),
}

# --- passwords and sessions ---------------------------------------------------
# Wrong passwords from one client before it waits LOGIN_LOCKOUT_SECONDS, doubled at
# each further failure up to the maximum (4x the limit from all clients together).
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=60)
LOGIN_LOCKOUT_MAX_SECONDS = env.int("LOGIN_LOCKOUT_MAX_SECONDS", default=3600)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=86400)
# Reverse proxies (addresses or networks) whose X-Forwarded-For names the client.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
_VALIDATORS = "django.contrib.auth.password_validation."
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": _VALIDATORS + "UserAttributeSimilarityValidator"},
    # Users can move provider credit: 12 characters at least.
    {"NAME": _VALIDATORS + "MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": _VALIDATORS + "CommonPasswordValidator"},
    {"NAME": _VALIDATORS + "NumericPasswordValidator"},
]
# A working day, and gone when the browser closes.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=10 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Fernet key of stored secrets; old keys still decrypt during a rotation.
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="")
FIELD_ENCRYPTION_OLD_KEYS = env.list("FIELD_ENCRYPTION_OLD_KEYS", default=[])

# --- i18n ---------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- static files -------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Production serves the collected files itself (WhiteNoise, hashed and compressed
# names: run `collectstatic` on each deploy); development uses runserver's finders.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "media/"

# --- providers (defaults: the bundled sandbox and its demo keys) --------------
SANDBOX_HOST = env.str("SANDBOX_HOST", default="127.0.0.1")
SANDBOX_PORT = env.int("SANDBOX_PORT", default=8099)
_SANDBOX = f"http://{SANDBOX_HOST}:{SANDBOX_PORT}"
PARTNERHUB_SANDBOX = env.bool("PARTNERHUB_SANDBOX", default=DEBUG)
MAILPARTNER_API_URL = env.str(
    "MAILPARTNER_API_URL", default=f"{_SANDBOX}/mailpartner/v1"
)
MAILPARTNER_API_KEY = env.str("MAILPARTNER_API_KEY", default="demo-mailpartner-key")
SMSPARTNER_API_URL = env.str("SMSPARTNER_API_URL", default=f"{_SANDBOX}/smspartner/v1")
SMSPARTNER_API_KEY = env.str("SMSPARTNER_API_KEY", default="demo-smspartner-key")
VOICEPARTNER_API_URL = env.str(
    "VOICEPARTNER_API_URL", default=f"{_SANDBOX}/voicepartner/v1"
)
VOICEPARTNER_API_KEY = env.str("VOICEPARTNER_API_KEY", default="demo-voicepartner-key")
PECMASSIVA_API_URL = env.str("PECMASSIVA_API_URL", default=f"{_SANDBOX}/pecmassiva")
PECMASSIVA_TOKEN = env.str("PECMASSIVA_TOKEN", default="demo-pecmassiva-token")
PROVIDER_TIMEOUT = (
    env.float("PROVIDER_CONNECT_TIMEOUT", default=3.05),
    env.float("PROVIDER_READ_TIMEOUT", default=20.0),
)
# Calls a person waits for on a page (test send, audio list): one try, this long.
PROVIDER_INTERACTIVE_TIMEOUT = env.float("PROVIDER_INTERACTIVE_TIMEOUT", default=8.0)

# --- PEC (pec app) ------------------------------------------------------------
# Seconds between two PEC Massiva requests with one token (1 req/s plus a margin).
PEC_MIN_INTERVAL_SECONDS = env.float("PEC_MIN_INTERVAL_SECONDS", default=1.2)
PEC_RATE_LIMIT_RETRIES = env.int("PEC_RATE_LIMIT_RETRIES", default=20)
# A page waits at most this long for its slot (queued sends go first).
PEC_INTERACTIVE_MAX_WAIT_SECONDS = env.float(
    "PEC_INTERACTIVE_MAX_WAIT_SECONDS", default=8.0
)
PEC_READ_ATTEMPTS = env.int("PEC_READ_ATTEMPTS", default=3)
PEC_READ_RETRY_SECONDS = env.float("PEC_READ_RETRY_SECONDS", default=1.0)
# Unit of the quota figures (the OAS says megabytes, the numbers look like KiB).
PEC_QUOTA_UNIT = env.str("PEC_QUOTA_UNIT", default="KiB")
PEC_PRICE_PER_RECIPIENT = env.str("PEC_PRICE_PER_RECIPIENT", default="0.05")
PEC_MAX_RECIPIENTS = env.int("PEC_MAX_RECIPIENTS", default=50)
PEC_MAX_ATTACHMENTS_BYTES = env.int(
    "PEC_MAX_ATTACHMENTS_BYTES", default=25 * 1024 * 1024
)
# Receipts are polled until a final state or this long after the send.
PEC_REFRESH_HORIZON_HOURS = env.float("PEC_REFRESH_HORIZON_HOURS", default=26.0)
PEC_REFRESH_FIRST_SECONDS = env.float("PEC_REFRESH_FIRST_SECONDS", default=30.0)
PEC_REFRESH_MAX_SECONDS = env.float("PEC_REFRESH_MAX_SECONDS", default=1800.0)
# Prefix of the links in the operators' alert emails (receipt problems).
PEC_SITE_URL = env.str("PEC_SITE_URL", default="http://127.0.0.1:8000")

# --- campaigns ---------------------------------------------------------------
# A worker that stops renewing its lease (killed) is taken over after this long,
# plus at most one period of the every-minute "dispatch due campaigns" task and
# one 30 s cycle of django-q2's scheduler: 120 + 60 + 30 = 210 s by default.
CAMPAIGN_DISPATCH_LEASE_SECONDS = env.int(
    "CAMPAIGN_DISPATCH_LEASE_SECONDS", default=120
)
# On PostgreSQL a batch's answer (and a refresh's statuses) is written on a second
# connection while the next batch is sent (campaigns/answer_writer.py); off: inline.
CAMPAIGN_DISPATCH_WRITE_BEHIND = env.bool(
    "CAMPAIGN_DISPATCH_WRITE_BEHIND", default=True
)
# A batch the provider refused with a transient answer (429, 5xx, "queueing
# problem") is tried this many times, waiting base * 2^n seconds (at least the
# provider's Retry-After, at most the cap) in between: about 2 minutes in all.
CAMPAIGN_SEND_ATTEMPTS = env.int("CAMPAIGN_SEND_ATTEMPTS", default=8)
CAMPAIGN_RETRY_BASE_SECONDS = env.float("CAMPAIGN_RETRY_BASE_SECONDS", default=1.0)
CAMPAIGN_RETRY_MAX_SECONDS = env.float("CAMPAIGN_RETRY_MAX_SECONDS", default=60.0)
# Hard bounces (email "not delivered") of one address before it is suppressed, with
# the reason, source "provider"; 0 turns it off. STOP flags always suppress.
UNSUBSCRIBE_AFTER_BOUNCES = env.int("UNSUBSCRIBE_AFTER_BOUNCES", default=1)
# Price of one email in euros, for Mail sub-accounts funded in euros (INFERRED from
# the provider showing a main account's balance as credits x 0.001 EUR).
CAMPAIGN_EMAIL_PRICE_EUR = env.str("CAMPAIGN_EMAIL_PRICE_EUR", default="0.001")
# A running recipient import silent this long (no heartbeat) lost its worker.
RECIPIENT_IMPORT_STALE_SECONDS = env.int("RECIPIENT_IMPORT_STALE_SECONDS", default=300)

# --- recipient imports and unsubscribes ---------------------------------------
RECIPIENT_IMPORT_MAX_BYTES = env.int(
    "RECIPIENT_IMPORT_MAX_BYTES", default=200 * 1024 * 1024
)
# Secret path segment of the SMS Partner reply webhook; empty disables it.
SMS_REPLY_WEBHOOK_TOKEN = env.str(
    "SMS_REPLY_WEBHOOK_TOKEN", default="demo-sms-reply-token" if DEBUG else ""
)

# --- email (low-credit alerts to the Admins) -----------------------------------
# Console in development; SMTP from the environment otherwise.
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="partnerhub@localhost")

# --- production hardening -----------------------------------------------------
# Trust X-Forwarded-Proto only behind a proxy that sets it (else clients could).
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"  # views that must be framed opt in per view

# Content-Security-Policy (django-csp): scripts only from our own static files, no
# inline script or handler anywhere. The email preview is a srcdoc frame, which
# inherits this policy: its remote images and CSS backgrounds are not loaded (no
# tracking pixel fires when staff preview), while its inline styles still apply.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Every handler masks keys, tokens and passwords (partnerhub/logmask.py); urllib3
# speaks only from WARNING (its DEBUG lines carry full URLs).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_secrets": {"()": "partnerhub.logmask.SecretMaskingFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["mask_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO"},
        "django.server": {"handlers": [], "level": "INFO"},
        "django.db.backends": {"level": "WARNING"},
        "django-q": {"handlers": [], "level": env.str("LOG_LEVEL", default="INFO")},
        "urllib3": {"level": "WARNING"},
    },
}
