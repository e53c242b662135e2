"""The one settings module. Everything is configured by environment variables.

With no variable set the embedded defaults serve: SQLite file, local-memory cache,
local file storage under ``media/``, Celery tasks run eagerly, console e-mail.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab as _crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from apps.core.redis_breaker import BreakerConnection  # redis only, no Django models
from config.env import env_bool, env_float, env_int, env_list, env_rate, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Core -------------------------------------------------------------------------------------

# DEBUG defaults to on so that a fresh clone runs with no configuration at all; every
# deployment (Dockerfile, compose.yaml) sets DEBUG=0.
DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off a secret key must come from the environment "
            "(e.g. SECRET_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(64))'))."
        )
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# the portal's forms get a portal page in its language; the admin keeps Django's
CSRF_FAILURE_VIEW = "apps.portal.views.csrf_failure"

INSTALLED_APPS = [
    "apps.core.admin_site.BackOfficeAdminConfig",  # django.contrib.admin, hardened site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    # third party
    "django_prometheus",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "guardian",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "auditlog",
    "storages",
    "import_export",
    # the back office's two-factor sign-in: authenticator apps (TOTP) and recovery codes
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_cotton.apps.SimpleAppConfig",  # the portal's components (templates/cotton/)
    "django_celery_results",  # task results in the database (the job dashboard)
    "django_celery_beat",  # the beat schedule in the database (DatabaseScheduler)
    # ours
    "apps.core",
    "apps.accounts",
    "apps.catalog",
    "apps.inventory",
    "apps.pricing",
    "apps.campaigns",
    "apps.integrations",
    "apps.notifications",
    "apps.orders",
    "apps.finance",
    "apps.returns",
    "apps.quotes",
    "apps.backoffice",  # the back office's start page and work queues (top layer)
    "apps.portal",  # the dealer portal (top layer: pages on the domain services)
    "django_htmx",
    "apps.demo",  # seed_demo and its data builders (top layer: nothing imports it)
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "apps.core.middleware.HeadMiddleware",  # a HEAD's answer without the body, last of all
    "apps.core.middleware.RequestIDMiddleware",
    # Django's HTML error pages on /api/ (unknown URLs, a Host not allowed) in JSON
    "apps.core.middleware.ApiErrorsInJsonMiddleware",
    # statement_timeout per request; 503 + Retry-After when the database refuses
    "apps.core.middleware.DatabaseMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    # sessions, the session user and messages: for the admin and the other browser pages;
    # skipped on the token APIs (/api/v1/, /api/integration/v1/), which use none of them
    "apps.core.middleware.BrowserSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",  # DRF's views are exempt (no cookie auth)
    "apps.core.middleware.BrowserAuthenticationMiddleware",
    # request.user.is_verified(): the session passed the two-factor step (django-otp); staff
    # who need it see no admin page but the two-factor steps until then
    "django_otp.middleware.OTPMiddleware",
    "apps.accounts.middleware.StaffTwoFactorMiddleware",
    "apps.core.middleware.BrowserMessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.middleware.ApiMiddleware",
    "apps.core.audit.AuditMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            # django-cotton compiles <c-name> tags (templates/cotton/name.html) first; cached
            # as Django does by default (reloaded when a template changes under runserver)
            "loaders": [
                (
                    "django.template.loaders.cached.Loader",
                    [
                        "django_cotton.cotton_loader.Loader",
                        "django.template.loaders.filesystem.Loader",
                        "django.template.loaders.app_directories.Loader",
                    ],
                )
            ],
            "builtins": ["django_cotton.templatetags.cotton"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "apps.accounts.backends.LockoutModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # django-guardian: no anonymous user row
GUARDIAN_RAISE_403 = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Database ---------------------------------------------------------------------------------

# django-prometheus counts every database connection into PROMETHEUS_MULTIPROC_DIR when it is
# set: a process given it before gunicorn made it (migrate, the worker, beat) crashed on its
# first query with FileNotFoundError
if env_str("PROMETHEUS_MULTIPROC_DIR", ""):
    Path(env_str("PROMETHEUS_MULTIPROC_DIR")).mkdir(parents=True, exist_ok=True)

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=0)
if _db["ENGINE"] == "django.db.backends.postgresql":
    _db["ENGINE"] = "django_prometheus.db.backends.postgresql"
    # persistent connections, checked before reuse
    _db["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60)
    _db["CONN_HEALTH_CHECKS"] = True
    _db.setdefault("OPTIONS", {})["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 5)
    # a database cut off by the network (no reset, no answer) is noticed by TCP keepalives
    # within DB_KEEPALIVES_IDLE + 3 x 10 s (60 s), below gunicorn's timeout, and a write the
    # server never acknowledges after DB_TCP_USER_TIMEOUT ms: the request answers 503 instead
    # of its worker being killed silently
    _db["OPTIONS"] |= {
        "keepalives": 1,
        "keepalives_idle": env_int("DB_KEEPALIVES_IDLE", 30),
        "keepalives_interval": 10,
        "keepalives_count": 3,
        "tcp_user_timeout": env_int("DB_TCP_USER_TIMEOUT", 30000),
    }
    # The planner's cost of a random page read, relative to a sequential one (the server's
    # default 4.0 is for spinning disks): on SSD or a cached working set (1.1 is the usual
    # value) a batch of 5,000 keys is looked up by index probes, not by hashing whole tables.
    # 0 keeps the server's setting.
    DB_RANDOM_PAGE_COST = env_float("DB_RANDOM_PAGE_COST", 1.1)
    if DB_RANDOM_PAGE_COST > 0:
        _db["OPTIONS"]["options"] = f"-c random_page_cost={DB_RANDOM_PAGE_COST:g}"
    _db["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME")}
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["ENGINE"] = "django_prometheus.db.backends.sqlite3"
    # a transaction takes the write lock when it begins (IMMEDIATE) and waits up to 20 s for
    # it: one that read first and wrote later failed at once, "database is locked", when
    # another held it (2 of 12 cart writes by 3 users at once answered 503)
    _db.setdefault("OPTIONS", {}).update(timeout=20, transaction_mode="IMMEDIATE")
DATABASES = {"default": _db}
# the demo's SQLite builds the catalog's covering indexes without their INCLUDE columns (which
# only PostgreSQL plans with): not worth a warning on every start
SILENCED_SYSTEM_CHECKS = ["models.W040"] if _db["ENGINE"].endswith("sqlite3") else []
# auth.W004: the e-mail (USERNAME_FIELD) is unique among the live accounts, in any case, by a
# conditional constraint (a removed user's row keeps its address); the sign-in looks the live
# account up first (LockoutModelBackend, UserManager.get_by_natural_key)
SILENCED_SYSTEM_CHECKS += ["auth.W004"]

# Bounded work per web request (PostgreSQL statement_timeout, seconds; 0 = none), set by
# apps.core.middleware.DatabaseMiddleware: a query running longer is cancelled by the server
# and the request answers 503 with Retry-After. Celery tasks and management commands keep the
# server's default. gunicorn's timeout (config/gunicorn.conf.py) stays above all three.
DB_STATEMENT_TIMEOUT = env_float("DB_STATEMENT_TIMEOUT", 30.0)  # every web request
DB_STATEMENT_TIMEOUT_DEALER_READ = env_float("DB_STATEMENT_TIMEOUT_DEALER_READ", 10.0)  # catalog
DB_STATEMENT_TIMEOUT_INTEGRATION = env_float("DB_STATEMENT_TIMEOUT_INTEGRATION", 60.0)  # ERP
# CONN_HEALTH_CHECKS probes a reused connection only when it has been idle this long (seconds;
# 0 = before every request, Django's own behaviour): under load no request pays the round trip
DB_HEALTH_CHECK_AFTER_IDLE = env_float("DB_HEALTH_CHECK_AFTER_IDLE", 1.0)
# Retry-After (seconds) of the 503 answered when the database refuses or a query times out
DB_UNAVAILABLE_RETRY_AFTER = env_int("DB_UNAVAILABLE_RETRY_AFTER", 5)

# --- Cache ------------------------------------------------------------------------------------

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_prometheus.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "TIMEOUT": 300,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "b2b"),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
                # a Redis that failed to answer is not waited for again for a few seconds
                "CONNECTION_POOL_KWARGS": {"connection_class": BreakerConnection},
                # a Redis outage degrades caching and rate limits, it does not fail requests
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django_prometheus.cache.backends.locmem.LocMemCache",
            "LOCATION": "b2b-default",
        }
    }

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# the breaker logs one line when Redis stops answering (apps/core/redis_breaker.py), not a
# traceback per cache call it skips
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = False

# --- Celery -----------------------------------------------------------------------------------

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
# Without a broker, tasks run in-process (eagerly): the zero-setup default.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", CELERY_BROKER_URL is None)
CELERY_TASK_EAGER_PROPAGATES = True
# tasks run in-process store their results too (the zero-setup demo's job dashboard)
CELERY_TASK_STORE_EAGER_RESULT = env_bool("CELERY_TASK_STORE_EAGER_RESULT", False)
# Task results go to the database (django-celery-results) with the task's name, arguments and
# worker (result_extended), for the back office's job dashboard, which sends a failed task again
# with its arguments. The high-volume tasks (outbox dispatch, webhook delivery and sweep,
# notification sends, heartbeat, price index sync) say ignore_result=True: no row per run, but
# their failures are stored all the same. Results are deleted CELERY_RESULT_EXPIRES_DAYS after
# they finished, by beat's "celery.backend_cleanup" (CELERY_BEAT_SCHEDULE below).
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "django-db")
if CELERY_RESULT_BACKEND == "django-db":  # the same tables, retried on a lost connection
    CELERY_RESULT_BACKEND = "apps.core.celery_results:DatabaseBackend"
CELERY_RESULT_BACKEND_ALWAYS_RETRY = True
# retries of a result's write (0.5 s doubling to 10 s, each wait drawn between 0 and that:
# Celery's full jitter) before it is given up: 24 wait about 100 s in all (70-130 s), so a
# database restart of a minute is outlived (12 waited 0-85 s, about 40: one of 30 s was not)
CELERY_RESULT_BACKEND_MAX_RETRIES = env_int("CELERY_RESULT_BACKEND_MAX_RETRIES", 24)
CELERY_RESULT_BACKEND_BASE_SLEEP_BETWEEN_RETRIES_MS = 500
CELERY_RESULT_BACKEND_MAX_SLEEP_BETWEEN_RETRIES_MS = 10_000
CELERY_RESULT_EXTENDED = True
CELERY_TASK_IGNORE_RESULT = False
CELERY_TASK_STORE_ERRORS_EVEN_IF_IGNORED = True
CELERY_TASK_TRACK_STARTED = True  # a stored task's start time (its runtime in the dashboard)
CELERY_RESULT_EXPIRES = timedelta(days=env_int("CELERY_RESULT_EXPIRES_DAYS", 14))
# the back office's "Failed jobs" queue: failed tasks of this many last days not yet retried
JOB_FAILED_QUEUE_DAYS = env_int("JOB_FAILED_QUEUE_DAYS", 7)
# beat reads its schedule from the database (django-celery-beat; config/beat.py), where staff
# see, disable and run periodic tasks; CELERY_BEAT_SCHEDULE is loaded into it whenever beat
# starts, so settings stay the one definition. It counts whole seconds (at least 1).
CELERY_BEAT_SCHEDULER = env_str("CELERY_BEAT_SCHEDULER", "config.beat:DatabaseScheduler")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A broker that accepts connections and never answers (a stopped or frozen Redis, a half-open
# path) must cost a request seconds, not gunicorn's timeout: every socket read and connect is
# bounded, and a publish is tried twice at most. A publish that fails after a commit is logged
# and the work waits in the database (the outbox, QueuedTask) for beat's sweeps.
CELERY_BROKER_SOCKET_TIMEOUT = env_float("CELERY_BROKER_SOCKET_TIMEOUT", 2.0)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_timeout": CELERY_BROKER_SOCKET_TIMEOUT,
    "socket_connect_timeout": CELERY_BROKER_SOCKET_TIMEOUT,
    "socket_keepalive": True,
}
CELERY_BROKER_CONNECTION_TIMEOUT = CELERY_BROKER_SOCKET_TIMEOUT
# after a publish the broker did not take, a process refuses publishes at once this long (the
# work waits in the database for the sweeps): a hung broker costs one request, not each one
CELERY_BROKER_BREAK_SECONDS = env_float("CELERY_BROKER_BREAK_SECONDS", 30.0)
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "core-heartbeat": {"task": "core.heartbeat", "schedule": 60.0},
    "core-idempotency-purge": {"task": "core.idempotency_purge", "schedule": 24 * 3600.0},
    # expired task results (CELERY_RESULT_EXPIRES); the name is celery's own default entry's
    "celery.backend_cleanup": {
        "task": "celery.backend_cleanup",
        "schedule": _crontab(minute=0, hour=4),
        "options": {"expires": 12 * 3600},
    },
}
# An Idempotency-Key whose first request neither committed nor failed cleanly (its process
# died) is taken over by a repeat after this many seconds.
IDEMPOTENCY_STALE_SECONDS = env_int("IDEMPOTENCY_STALE_SECONDS", 120)

# --- Files ------------------------------------------------------------------------------------

MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "/media/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]

AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
if AWS_STORAGE_BUCKET_NAME:
    AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL")  # MinIO, moto, Ceph, R2 ...
    AWS_S3_REGION_NAME = env_str("AWS_S3_REGION_NAME", "eu-central-1")
    AWS_ACCESS_KEY_ID = env_str("AWS_ACCESS_KEY_ID")
    AWS_SECRET_ACCESS_KEY = env_str("AWS_SECRET_ACCESS_KEY")
    AWS_S3_ADDRESSING_STYLE = env_str("AWS_S3_ADDRESSING_STYLE", "path")
    AWS_QUERYSTRING_AUTH = True
    AWS_DEFAULT_ACL = None
    AWS_S3_FILE_OVERWRITE = False
    from botocore.config import Config as _BotoConfig

    AWS_S3_CLIENT_CONFIG = _BotoConfig(
        connect_timeout=env_int("AWS_S3_CONNECT_TIMEOUT", 3),
        read_timeout=env_int("AWS_S3_READ_TIMEOUT", 10),
        # one retry: a store that does not answer fails the request in seconds (a 503).
        # botocore tries a read that timed out once more than max_attempts says (measured
        # against a port that accepts and never answers: 1 -> two tries, 2 -> three)
        retries={"max_attempts": 1, "mode": "standard"},
        # given a client config, django-storages no longer applies its addressing style itself
        s3={"addressing_style": AWS_S3_ADDRESSING_STYLE},
    )
    _default_storage = {"BACKEND": "storages.backends.s3.S3Storage"}
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": MEDIA_URL},
    }
# files under MEDIA_ROOT served by the app at MEDIA_URL (product images, banners): on by default
# without a bucket, so a one-server deployment shows its images; off where the front web server
# serves MEDIA_ROOT itself. Invoice files sit in unguessable folders and are only linked through
# the API's checks.
MEDIA_SERVE = env_bool("MEDIA_SERVE", not AWS_STORAGE_BUCKET_NAME)
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- E-mail -----------------------------------------------------------------------------------

EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "B2B Platform <no-reply@example.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# where a dealer writes back: the Reply-To of every e-mail, and the address the e-mails that
# ask a dealer to get in touch name (empty: the sender is a no-reply address, so they say
# "contact your sales representative" and a reply goes nowhere useful)
SUPPORT_EMAIL = env_str("SUPPORT_EMAIL", "")

# --- Auth -------------------------------------------------------------------------------------

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # complexity: a letter and a digit or symbol (DESIGN.md)
    {"NAME": "apps.accounts.validators.PasswordComplexityValidator"},
]

PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3600)  # seconds a reset link lives
# seconds a new company user's invitation link lives (it opens the same page as a reset link)
INVITATION_TIMEOUT = env_int("INVITATION_TIMEOUT", 7 * 86400)
# the site's public address, which every e-mailed link starts with (the portal's pages, the
# back office's for staff): a deployment sets it, or its e-mails link to loopback
DEALER_PORTAL_URL = env_str("DEALER_PORTAL_URL", "http://127.0.0.1:8000/")
_SITE = DEALER_PORTAL_URL.rstrip("/")
# where the dealer portal's reset page is; the e-mailed link is
# {PASSWORD_RESET_URL}?uid=...&token=...
PASSWORD_RESET_URL = env_str("PASSWORD_RESET_URL", f"{_SITE}/portal/password/reset/")
# a self-registration's owner confirms the e-mail address through
# {REGISTRATION_VERIFY_URL}?uid=...&token=..., valid REGISTRATION_VERIFY_TIMEOUT seconds; an
# unconfirmed registration older than that frees its e-mail and tax number for a new one
REGISTRATION_VERIFY_URL = env_str("REGISTRATION_VERIFY_URL", f"{_SITE}/portal/verify-email/")
REGISTRATION_VERIFY_TIMEOUT = env_int("REGISTRATION_VERIFY_TIMEOUT", 3 * 86400)
# reset e-mails sent to one address at most this often (more requests still answer 202)
PASSWORD_RESET_PER_ADDRESS = env_rate("PASSWORD_RESET_PER_ADDRESS", "3/h")
CELERY_BEAT_SCHEDULE["accounts-registrations-expired-remove"] = {
    "task": "accounts.registrations_expired_remove",
    "schedule": 24 * 3600.0,
}

# Lockout: an account locks after LOCKOUT_ACCOUNT_FAILURES failed logins, an IP address only
# after LOCKOUT_IP_FAILURES (a dealer's office shares one address), both for LOCKOUT_MINUTES.
LOCKOUT_ACCOUNT_FAILURES = env_int("LOCKOUT_ACCOUNT_FAILURES", 5)
LOCKOUT_IP_FAILURES = env_int("LOCKOUT_IP_FAILURES", 50)
LOCKOUT_MINUTES = env_int("LOCKOUT_MINUTES", 15)

# Two-factor sign-in to the back office (docs/back-office.md): required for superusers and for
# staff in these groups (comma-separated group names); other staff may turn it on. A wrong code
# counts as a failed login (the lockout above). OTP_TOTP_ISSUER names the account in the app.
STAFF_TWO_FACTOR_GROUPS = env_list("STAFF_TWO_FACTOR_GROUPS", ["Super Admin", "Finance Manager"])
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "B2B back office")
# django-otp's device screens are unregistered (apps/accounts/admin/two_factor.py); should they
# come back, they never show a secret or a QR code
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# versions of the documents a dealer consents to at registration
TERMS_VERSION = env_str("TERMS_VERSION", "2026-01")
KVKK_VERSION = env_str("KVKK_VERSION", "2026-01")

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,  # our login service records it
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env_str("JWT_SIGNING_KEY", SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "sub",
    # a fingerprint of the password hash in every token: a password change (reset, back
    # office, manage.py changepassword) ends every token issued before it
    "CHECK_REVOKE_TOKEN": True,
}

# --- Time, language, money --------------------------------------------------------------------

USE_TZ = True  # stored in UTC
TIME_ZONE = "Europe/Istanbul"  # displayed in the admin; the API always speaks UTC
USE_I18N = True
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("tr", _("Turkish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# the dealer portal's language until a dealer picks one (the API answers by Accept-Language)
PORTAL_LANGUAGE_CODE = env_str("PORTAL_LANGUAGE_CODE", "tr")
# the language a dealer or staff member chose is kept for a year, not until the browser closes
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"
CURRENCY = "TRY"

# The distributor, as its invoices and statements print it (the PDFs the platform renders).
COMPANY_NAME = env_str("COMPANY_NAME", "B2B Distribution A.Ş.")
COMPANY_ADDRESS = env_str("COMPANY_ADDRESS", "Organize Sanayi Bölgesi 1. Cadde No: 1, İstanbul")
COMPANY_TAX_OFFICE = env_str("COMPANY_TAX_OFFICE", "Büyük Mükellefler")
COMPANY_TAX_NUMBER = env_str("COMPANY_TAX_NUMBER", "1234567890")
COMPANY_LOGO = env_str("COMPANY_LOGO", str(BASE_DIR / "static" / "favicon.svg"))  # a file path

# --- API --------------------------------------------------------------------------------------

API_PAGE_SIZE = 20
API_MAX_PAGE_SIZE = 100
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 20 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
# the portal's quick-order preview posts a SKU and a quantity for each of up to 1,000 lines
# (``apps.orders.services.cart.MAX_IMPORT_ROWS``); Django's default of 1,000 fields stopped
# it at about 500 with its bare 400
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2 * 1000 + 100

RATE_LIMIT_USER = env_rate("RATE_LIMIT_USER", "100/min")
RATE_LIMIT_IP = env_rate("RATE_LIMIT_IP", "1000/min")
RATE_LIMIT_API_KEY = env_rate("RATE_LIMIT_API_KEY", "500/min")
# anonymous calls of the auth endpoints (login, register, verify, reset; not refresh, logout)
RATE_LIMIT_AUTH_IP = env_rate("RATE_LIMIT_AUTH_IP", "20/min")

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["apps.core.api.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["apps.core.api.parsers.SafeJSONParser"],
    # an answer whatever Accept says; ?format= is an endpoint's own parameter, not DRF's
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "apps.core.api.negotiation.LenientContentNegotiation",
    "URL_FORMAT_OVERRIDE": None,
    # the dealer API's authentication; the integration API sets its own (X-API-Key)
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.accounts.authentication.DealerJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.PageNumberPagination",
    "PAGE_SIZE": API_PAGE_SIZE,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "apps.core.throttling.IPRateThrottle",
        "apps.core.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "ip": RATE_LIMIT_IP,
        "user": RATE_LIMIT_USER,
        "api_key": RATE_LIMIT_API_KEY,
    },
    "NUM_PROXIES": env_int("TRUSTED_PROXY_COUNT", 0),
    "EXCEPTION_HANDLER": "apps.core.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "apps.core.schema.AutoSchema",
    # OPTIONS describes views without a serializer_class too, instead of a 500
    "DEFAULT_METADATA_CLASS": "apps.core.api.metadata.Metadata",
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "B2B Dealer Commerce Platform API",
    "DESCRIPTION": (
        "Dealer API under `/api/v1/` (Bearer JWT) and integration API under "
        "`/api/integration/v1/` (header `X-API-Key`). Money is a decimal string in TRY; times "
        "are ISO 8601 UTC. Errors: `{detail, code, errors}`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/(v1|integration/v1)",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CustomerStatusEnum": "apps.accounts.models.CustomerStatus",
        "OrderStatusEnum": "apps.orders.models.OrderStatus",
        "ErpCustomerStatusEnum": "apps.integrations.api.serializers.ERP_CUSTOMER_STATUSES",
        "WebhookDeliveryStatusEnum": "apps.integrations.api.webhooks.DELIVERY_STATUSES",
        "InvoiceStatusEnum": "apps.finance.selectors.InvoiceStatus.CHOICES",
        "CardPaymentStatusEnum": "apps.finance.models.CardPayment.Status",
        "ReturnStatusEnum": "apps.returns.models.ReturnStatus",
        "QuoteStatusEnum": "apps.quotes.models.QuoteStatus",
        "ReturnDecisionEnum": "apps.integrations.api.returns.DECISION_CHOICES",
    },
    # Swagger UI and Redoc assets are served by us, not from a CDN
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # and nothing else from another host: no validator badge (validator.swagger.io); Redoc's
    # template (templates/drf_spectacular/redoc.html) loads no web fonts
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_UI_SETTINGS": {
        "theme": {
            "typography": {
                "fontFamily": 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
                "headings": {"fontFamily": 'system-ui, -apple-system, "Segoe UI", sans-serif'},
            }
        }
    },
}

# The OpenAPI schema, Swagger UI and Redoc: public, or (0) for staff signed in to the admin only.
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", True)

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/.*$"
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After", "ETag"]

# --- Security (production) --------------------------------------------------------------------

# No SECURE_PROXY_SSL_HEADER: Django would believe X-Forwarded-Proto from anyone who reaches
# gunicorn. gunicorn believes it only from FORWARDED_ALLOW_IPS (config/gunicorn.conf.py) and
# then sets the request's scheme (wsgi.url_scheme), which Django reads.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# health checks and metrics are scraped over plain HTTP inside the cluster
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
# cookies only over HTTPS wherever the site is (plain HTTP is redirected); a trial over plain
# HTTP (SECURE_SSL_REDIRECT=0, README) gets cookies its clients send back over http
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", SECURE_SSL_REDIRECT)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", SECURE_SSL_REDIRECT)
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# /metrics: a scraper sends "Authorization: Bearer <METRICS_TOKEN>" or comes from an address in
# METRICS_ALLOWED_IPS (CIDRs; "none": token only). Default: anyone with DEBUG on, else loopback.
METRICS_TOKEN = env_str("METRICS_TOKEN", "") or ""
METRICS_ALLOWED_IPS = env_list(
    "METRICS_ALLOWED_IPS", ["0.0.0.0/0", "::/0"] if DEBUG else ["127.0.0.1/32", "::1/128"]
)
if [value.lower() for value in METRICS_ALLOWED_IPS] == ["none"]:
    METRICS_ALLOWED_IPS = []
for _network in METRICS_ALLOWED_IPS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(
            f"METRICS_ALLOWED_IPS: {_network!r} is not an address or network (CIDR)."
        ) from _exc

# --- Logging ----------------------------------------------------------------------------------

LOG_LEVEL = (env_str("LOG_LEVEL", "INFO") or "INFO").upper()
LOG_FORMAT = env_str("LOG_FORMAT", "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "apps.core.logging.RequestIDFilter"},
        "client_mistakes": {"()": "apps.core.logging.ClientMistakeFilter"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # ISO 8601, UTC
        },
        "plain": {
            "()": "apps.core.logging.UTCFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",  # the platform's log; stderr is for crashes
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id", "client_mistakes"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own handlers (a console one under DEBUG, printing every 403's traceback to
        # stderr, and mail to ADMINS) are replaced: its lines go through the one handler above
        "django": {"handlers": [], "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        "django.server": {"level": "WARNING" if not DEBUG else "INFO", "propagate": True},
        # PDF rendering: its progress steps and font subsetting are not news
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- Domain settings --------------------------------------------------------------------------

RETURN_WINDOW_DAYS = env_int("RETURN_WINDOW_DAYS", 14)
# a statement as a PDF holds at most this many entries (WeasyPrint lays a page of 40 out in
# about 0.2 s of CPU; 10,000 ran past the web timeout): more is a 400 that points to the CSV
STATEMENT_PDF_MAX_ENTRIES = env_int("STATEMENT_PDF_MAX_ENTRIES", 1000)

# Payment reminders: each morning at PAYMENT_REMINDER_HOUR (Europe/Istanbul, UTC+3 all year)
# for open invoices due within PAYMENT_REMINDER_DAYS_BEFORE days, and overdue ones.
PAYMENT_REMINDER_DAYS_BEFORE = env_int("PAYMENT_REMINDER_DAYS_BEFORE", 3)
PAYMENT_REMINDER_HOUR = env_int("PAYMENT_REMINDER_HOUR", 9)
CELERY_BEAT_SCHEDULE["quotes-expire"] = {
    # sent quotes past their validity date expire (Europe/Istanbul days)
    "task": "quotes.expire",
    "schedule": 3600.0,
}
CELERY_BEAT_SCHEDULE["finance-payment-reminders"] = {
    "task": "finance.payment_reminders",
    "schedule": _crontab(minute=0, hour=(PAYMENT_REMINDER_HOUR - 3) % 24),  # in UTC
}
# Balance confirmations (mutabakat): the dealer answers within BALANCE_CONFIRMATION_DAYS, else
# the balance counts as accepted; in a quarter's first BALANCE_CONFIRMATION_QUARTERLY_DAYS days
# every active dealer with a ledger is asked for the previous quarter's end (0: staff only).
BALANCE_CONFIRMATION_DAYS = env_int("BALANCE_CONFIRMATION_DAYS", 30)
BALANCE_CONFIRMATION_QUARTERLY_DAYS = env_int("BALANCE_CONFIRMATION_QUARTERLY_DAYS", 7)
CELERY_BEAT_SCHEDULE["finance-confirmations-deem-accepted"] = {
    "task": "finance.confirmations_deem_accepted",
    "schedule": _crontab(minute=30, hour=0),
}
CELERY_BEAT_SCHEDULE["finance-confirmations-quarterly"] = {
    "task": "finance.confirmations_quarterly",
    "schedule": _crontab(minute=0, hour=(PAYMENT_REMINDER_HOUR - 3) % 24),
}
# Card payments (docs/payments.md): 3-D Secure through CARD_PAYMENT_PROVIDER. The bank sends
# the dealer's browser back to PAYMENT_RETURN_BASE_URL + /api/v1/payments/callback/<provider>.
CARD_PAYMENT_PROVIDER = env_str("CARD_PAYMENT_PROVIDER", "paynet")
PAYMENT_RETURN_BASE_URL = env_str("PAYMENT_RETURN_BASE_URL", "http://127.0.0.1:8000")
# a card order not paid within this many minutes is cancelled (its stock released)
CARD_PAYMENT_TIMEOUT_MINUTES = env_int("CARD_PAYMENT_TIMEOUT_MINUTES", 60)
# payments still pending after this many minutes are settled by asking the gateway
CARD_PAYMENT_RECONCILE_MINUTES = env_int("CARD_PAYMENT_RECONCILE_MINUTES", 15)
# who hears of a gateway answer that does not match its payment (empty: Finance Managers)
PAYMENT_ALERT_EMAILS = env_list("PAYMENT_ALERT_EMAILS", [])
# Paynet (apps/integrations/payments/paynet.py): live https://api.paynet.com.tr, test
# https://pts-api.paynet.com.tr; the default is the loopback simulator of ./dev demo
# (manage.py paynet_simulator), which accepts any secret key it was started with.
PAYNET_BASE_URL = env_str("PAYNET_BASE_URL", "http://127.0.0.1:8765")
PAYNET_SECRET_KEY = env_str("PAYNET_SECRET_KEY", "sck_simulator")
PAYNET_AGENT_ID = env_str("PAYNET_AGENT_ID", "")
PAYNET_DOMAIN = env_str("PAYNET_DOMAIN", "")  # default: PAYMENT_RETURN_BASE_URL's host
PAYNET_TIMEOUT = env_float("PAYNET_TIMEOUT", 20.0)  # seconds per call
PAYNET_CHARGE_ATTEMPTS = env_int("PAYNET_CHARGE_ATTEMPTS", 3)  # tds_charge tries on timeouts
CELERY_BEAT_SCHEDULE["finance-card-payments-reconcile"] = {
    "task": "finance.card_payments_reconcile",
    "schedule": 300.0,
}
INTEGRATION_MAX_BATCH = env_int("INTEGRATION_MAX_BATCH", 5000)

# Outbound webhooks (apps/integrations): the outbox, Standard Webhooks signatures, retries.
WEBHOOK_ALLOW_LOOPBACK = env_bool("WEBHOOK_ALLOW_LOOPBACK", False)
# the demo's loopback webhook receiver (./dev demo sets it): seed_demo subscribes an endpoint
DEMO_WEBHOOK_URL = env_str("DEMO_WEBHOOK_URL", "")
WEBHOOK_REQUIRE_HTTPS = env_bool("WEBHOOK_REQUIRE_HTTPS", not DEBUG)
WEBHOOK_TIMEOUT_SECONDS = env_float("WEBHOOK_TIMEOUT_SECONDS", 5.0)
# seconds before attempts 2..6; the 6th failure dead-letters the delivery
WEBHOOK_RETRY_SCHEDULE = (1, 2, 4, 8, 16)
WEBHOOK_RETRY_JITTER = 0.1  # up to +10 % on each wait
# every wait (and Retry-After) is multiplied by this: 1 in production, e.g. 0.05 in tests
WEBHOOK_RETRY_TIME_SCALE = env_float("WEBHOOK_RETRY_TIME_SCALE", 1.0)
WEBHOOK_RETRY_AFTER_MAX_SECONDS = env_int("WEBHOOK_RETRY_AFTER_MAX_SECONDS", 3600)
# a worker that dies while sending: its attempt is given to another after this long
WEBHOOK_LEASE_SECONDS = env_float("WEBHOOK_LEASE_SECONDS", WEBHOOK_TIMEOUT_SECONDS + 10)
# celery beat runs the sweeper this often; it sends what is overdue by more than the grace
WEBHOOK_SWEEP_SECONDS = env_float("WEBHOOK_SWEEP_SECONDS", 5.0)
WEBHOOK_SWEEP_GRACE_SECONDS = env_float("WEBHOOK_SWEEP_GRACE_SECONDS", 5.0)
# a fan-out / delivery task marked queued but not started this long (lost) no longer stops
# another from being queued
WEBHOOK_REQUEUE_SECONDS = env_int("WEBHOOK_REQUEUE_SECONDS", 120)
# fan out each transaction's events as soon as it commits (else only the sweeper does)
WEBHOOK_DISPATCH_ON_COMMIT = env_bool("WEBHOOK_DISPATCH_ON_COMMIT", True)
WEBHOOK_RETENTION_DAYS = env_int("WEBHOOK_RETENTION_DAYS", 30)
# endpoints one API key may keep: every endpoint costs each event a delivery (and a slow one a
# worker's time), so a key cannot subscribe without bound
WEBHOOK_ENDPOINTS_PER_KEY = env_int("WEBHOOK_ENDPOINTS_PER_KEY", 10)
# a worker claims up to this many due deliveries in one transaction (one per subject per
# endpoint), sends them over keep-alive connections, records them in one statement
WEBHOOK_BATCH_SIZE = env_int("WEBHOOK_BATCH_SIZE", 20)
# a batch's deliveries to different endpoints are sent side by side, this many at a time (each
# endpoint's in order): a receiver that does not answer holds up only its own
WEBHOOK_SEND_THREADS = env_int("WEBHOOK_SEND_THREADS", 8)
# a delivery task sends batches until none is due or this long has passed (then another goes on)
WEBHOOK_PUMP_SECONDS = env_float("WEBHOOK_PUMP_SECONDS", 30.0)
# an endpoint host's DNS answer is reused this long per worker process (its addresses are
# checked on every attempt); 0: resolved before every attempt
WEBHOOK_DNS_CACHE_SECONDS = env_float("WEBHOOK_DNS_CACHE_SECONDS", 10.0)
# a keep-alive connection idle this long is closed rather than used again
WEBHOOK_KEEPALIVE_SECONDS = env_float("WEBHOOK_KEEPALIVE_SECONDS", 4.0)
CELERY_BEAT_SCHEDULE["integrations-webhooks-sweep"] = {
    "task": "integrations.webhooks_sweep",
    "schedule": WEBHOOK_SWEEP_SECONDS,
    "options": {"expires": max(WEBHOOK_SWEEP_SECONDS, 1.0)},
}
CELERY_BEAT_SCHEDULE["integrations-outbox-prune"] = {
    "task": "integrations.outbox_prune",
    "schedule": 24 * 3600.0,
}

# The dealer product list caches its total count per filter combination this long (seconds);
# 0 counts on every request. A page's rows are always exact.
CATALOG_COUNT_CACHE_SECONDS = env_int("CATALOG_COUNT_CACHE_SECONDS", 10)
# The price index (apps/pricing/index.py): beat brings it up to date with campaign windows,
# price windows and whole-catalog changes this often (seconds).
PRICE_INDEX_SYNC_SECONDS = env_float("PRICE_INDEX_SYNC_SECONDS", 30.0)
CELERY_BEAT_SCHEDULE["pricing-price-index-sync"] = {
    "task": "pricing.price_index_sync",
    "schedule": PRICE_INDEX_SYNC_SECONDS,
    "options": {"expires": PRICE_INDEX_SYNC_SECONDS},
}

# Tasks queued durably (apps/core/task_queue.py: password-reset requests, thumbnails) whose
# send after the commit failed (the broker was down) are sent by beat's sweep, every
# QUEUED_TASK_SWEEP_SECONDS, once QUEUED_TASK_GRACE_SECONDS old.
QUEUED_TASK_GRACE_SECONDS = env_int("QUEUED_TASK_GRACE_SECONDS", 30)
# a task the broker took but that has not run this long (a Redis restarted without its data, a
# worker killed with it in hand) is sent again: well beyond a busy queue's wait
QUEUED_TASK_LOST_SECONDS = env_int("QUEUED_TASK_LOST_SECONDS", 900)
QUEUED_TASK_SWEEP_SECONDS = env_float("QUEUED_TASK_SWEEP_SECONDS", 30.0)
CELERY_BEAT_SCHEDULE["core-queued-tasks-sweep"] = {
    "task": "core.queued_tasks_sweep",
    "schedule": QUEUED_TASK_SWEEP_SECONDS,
    "options": {"expires": QUEUED_TASK_SWEEP_SECONDS},
}

# Notifications still queued this long after their transaction committed (the broker was
# down then) are queued again by beat's sweep, every NOTIFICATION_SWEEP_SECONDS. A second
# send of one whose first task is only late (a backlog) finds it sent and skips it (the task
# locks the row), so a dealer's order e-mail need not wait ten minutes after an outage.
NOTIFICATION_SWEEP_GRACE_SECONDS = env_int("NOTIFICATION_SWEEP_GRACE_SECONDS", 120)
NOTIFICATION_SWEEP_SECONDS = env_float("NOTIFICATION_SWEEP_SECONDS", 60.0)
# A notification whose task ran out of retries while the mail server or SMS gateway was down
# is sent again by the same sweep this long after, then after twice as long each time, for a
# day from its creation (5 min: 8 more rounds)
NOTIFICATION_RESEND_SECONDS = env_int("NOTIFICATION_RESEND_SECONDS", 300)
CELERY_BEAT_SCHEDULE["notifications-sweep"] = {
    "task": "notifications.sweep",
    "schedule": NOTIFICATION_SWEEP_SECONDS,
    "options": {"expires": NOTIFICATION_SWEEP_SECONDS},
}

# SMS (apps/notifications/sms.py): "console" prints them; "http" posts JSON to SMS_API_URL;
# "netgsm" uses NetGSM's REST API; or a dotted path to a backend class.
SMS_BACKEND = env_str("SMS_BACKEND", "console")
SMS_API_URL = env_str("SMS_API_URL", "")
SMS_API_USER = env_str("SMS_API_USER", "")
SMS_API_KEY = env_str("SMS_API_KEY", "")
SMS_SENDER = env_str("SMS_SENDER", "B2B")
SMS_TIMEOUT_SECONDS = env_float("SMS_TIMEOUT_SECONDS", 10.0)

# Dealer-facing stock: below LOW_STOCK_THRESHOLD available units the status is "low_stock";
# above STOCK_DISPLAY_CAP the exact number is hidden and the cap is shown ("100+"); 0 = never
# hidden.
LOW_STOCK_THRESHOLD = env_int("LOW_STOCK_THRESHOLD", 10)
STOCK_DISPLAY_CAP = env_int("STOCK_DISPLAY_CAP", 100)

# Product images: accepted formats and the largest upload, and the thumbnail box.
PRODUCT_IMAGE_MAX_BYTES = env_int("PRODUCT_IMAGE_MAX_BYTES", 5 * 1024 * 1024)
PRODUCT_IMAGE_FORMATS = ["JPEG", "PNG", "WEBP"]
PRODUCT_THUMBNAIL_SIZE = (320, 320)

# Health check timeouts (seconds) for the broker and storage probes.
HEALTH_CHECK_TIMEOUT = env_int("HEALTH_CHECK_TIMEOUT", 3)
