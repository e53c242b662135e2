"""Configuration comes from environment variables only; production settings pass --deploy."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

CONFIG_VARS = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "AWS_STORAGE_BUCKET_NAME",
    "EMAIL_HOST",
    "CORS_ALLOWED_ORIGINS",
    "LOG_LEVEL",
    "STATIC_ROOT",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "RATE_LIMIT_USER",
    "RATE_LIMIT_IP",
    "RATE_LIMIT_API_KEY",
)

PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.core.files.storage import storages
from config.celery import app
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "conn_max_age": settings.DATABASES["default"]["CONN_MAX_AGE"],
    "db_options": settings.DATABASES["default"].get("OPTIONS", {}),
    "cache": settings.CACHES["default"]["BACKEND"],
    "eager": app.conf.task_always_eager,
    "broker": app.conf.broker_url,
    "storage": type(storages["default"]).__name__,
    "email": settings.EMAIL_BACKEND,
    "cors": settings.CORS_ALLOWED_ORIGINS,
    "log_level": settings.LOG_LEVEL,
    "acks_late": app.conf.task_acks_late,
    "reject_on_lost": app.conf.task_reject_on_worker_lost,
    "serializer": app.conf.task_serializer,
    "static_root": str(settings.STATIC_ROOT),
    "secure_cookies": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE],
}))
"""


def run_python(code_or_args, env_overrides, check=True):
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    env.update(env_overrides)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    args = (
        [sys.executable, *code_or_args]
        if isinstance(code_or_args, list)
        else [sys.executable, "-c", code_or_args]
    )
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=check
    )


def probe(env):
    return json.loads(run_python(PROBE, env).stdout.strip().splitlines()[-1])


def test_with_nothing_set_the_embedded_defaults_serve():
    conf = probe({})
    assert conf["engine"].endswith("sqlite3")
    assert conf["cache"].endswith("LocMemCache")
    assert conf["eager"] is True
    # an in-memory transport for the producer celery opens around eager calls (no warning
    # about a missing broker host on every task)
    assert conf["broker"] == "memory://localhost//"
    assert conf["storage"] == "FileSystemStorage"
    assert conf["email"] == "django.core.mail.backends.console.EmailBackend"
    assert conf["acks_late"] is True and conf["reject_on_lost"] is True
    assert conf["serializer"] == "json"
    assert conf["static_root"] == str(ROOT / "staticfiles")


def test_with_services_set_postgres_redis_celery_s3_and_smtp_are_used():
    conf = probe(
        {
            "DATABASE_URL": "postgres://u:p@db.internal:5432/b2b",
            "REDIS_URL": "redis://cache.internal:6379/0",
            "CELERY_BROKER_URL": "redis://cache.internal:6379/1",
            "AWS_STORAGE_BUCKET_NAME": "media",
            "AWS_S3_ENDPOINT_URL": "http://minio:9000",
            "EMAIL_HOST": "smtp.internal",
            "CORS_ALLOWED_ORIGINS": "https://portal.example.com,https://app.example.com",
            "LOG_LEVEL": "warning",
        }
    )
    assert conf["engine"].endswith("postgresql")
    assert conf["conn_max_age"] > 0  # persistent connections
    # a database cut off by the network is noticed below gunicorn's timeout
    assert conf["db_options"]["keepalives"] == 1
    idle, interval, count = (
        conf["db_options"][k]
        for k in ("keepalives_idle", "keepalives_interval", "keepalives_count")
    )
    assert idle + interval * count < 90 and conf["db_options"]["tcp_user_timeout"] <= 60_000
    assert conf["cache"].endswith("RedisCache")
    assert conf["eager"] is False
    assert conf["broker"] == "redis://cache.internal:6379/1"
    assert conf["storage"] == "S3Storage"
    assert conf["email"] == "django.core.mail.backends.smtp.EmailBackend"
    assert conf["cors"] == ["https://portal.example.com", "https://app.example.com"]
    assert conf["log_level"] == "WARNING"


def test_static_files_are_collected_where_static_root_says(tmp_path):
    # a deployment that keeps the checkout read-only collects the static files elsewhere
    target = tmp_path / "static"
    env = {"STATIC_ROOT": str(target)}
    assert probe(env)["static_root"] == str(target)
    run_python(["manage.py", "collectstatic", "--noinput", "-v", "0"], env)
    assert (target / "admin" / "css" / "base.css").is_file()
    assert (target / "favicon.svg").is_file()


def test_missing_secret_key_with_debug_off_stops_startup():
    result = run_python(["manage.py", "check"], {"DEBUG": "0"}, check=False)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_settings_pass_check_deploy():
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        {
            "DEBUG": "0",
            "SECRET_KEY": "k" * 20 + "Zx9!q" * 12,
            "ALLOWED_HOSTS": "b2b.example.com",
        },
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_malformed_variable_is_refused_with_its_name():
    result = run_python(["manage.py", "check"], {"RATE_LIMIT_USER": "lots"}, check=False)
    assert result.returncode != 0
    assert "RATE_LIMIT_USER" in result.stderr


RATES_PROBE = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]))
"""


def test_rate_limits_are_set_and_switched_off_by_their_variables():
    """DESIGN.md, Security: ``RATE_LIMIT_USER``, ``RATE_LIMIT_IP``, ``RATE_LIMIT_API_KEY``
    (``100/min``; ``off`` disables one, e.g. for a load benchmark), read from the
    environment as a deployment sets them."""
    names = ("RATE_LIMIT_USER", "RATE_LIMIT_IP", "RATE_LIMIT_API_KEY")
    defaults = json.loads(run_python(RATES_PROBE, {}).stdout.strip().splitlines()[-1])
    assert (defaults["user"], defaults["ip"], defaults["api_key"]) == (
        "100/min",
        "1000/min",
        "500/min",
    )
    env = dict(zip(names, ("off", "7/hour", "OFF"), strict=True))
    rates = json.loads(run_python(RATES_PROBE, env).stdout.strip().splitlines()[-1])
    assert (rates["user"], rates["ip"], rates["api_key"]) == (None, "7/hour", None)


@pytest.mark.django_db
def test_every_connection_plans_with_the_configured_random_page_cost(settings):
    """DB_RANDOM_PAGE_COST reaches PostgreSQL on every connection (batches look keys up by
    index probes instead of hashing whole tables)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW random_page_cost")
        assert float(cursor.fetchone()[0]) == settings.DB_RANDOM_PAGE_COST == 1.1


@pytest.mark.parametrize(
    ("env", "secure"),
    [
        ({}, [True, True]),  # behind TLS: cookies only over HTTPS
        ({"SECURE_SSL_REDIRECT": "0"}, [False, False]),  # plain HTTP on this machine (README)
        ({"SECURE_SSL_REDIRECT": "0", "SESSION_COOKIE_SECURE": "1"}, [True, False]),
        ({"SECURE_SSL_REDIRECT": "0", "CSRF_COOKIE_SECURE": "1"}, [False, True]),
    ],
)
def test_cookies_are_secure_where_the_site_is_served_over_https(env, secure):
    """With DEBUG=0 over plain HTTP (README: SECURE_SSL_REDIRECT=0 on this machine) the
    session and CSRF cookies were marked Secure: a client does not send them back over
    http, so every sign-in form answered 403 (CSRF cookie not set)."""
    base = {"DEBUG": "0", "SECRET_KEY": "k" * 60, "ALLOWED_HOSTS": "127.0.0.1"}
    assert probe({**base, **env})["secure_cookies"] == secure


@pytest.mark.parametrize(
    ("style", "start"),
    [
        ("path", "http://store.internal:9000/media-bucket/a.txt"),
        ("virtual", "http://media-bucket.store.internal:9000/a.txt"),
    ],
)
def test_the_s3_addressing_style_chooses_the_bucket_urls(style, start):
    """AWS_S3_ADDRESSING_STYLE had no effect: the client config the settings give (its
    timeouts) made django-storages leave the style to botocore."""
    code = (
        "import django; django.setup()\n"
        "from django.core.files.storage import storages\n"
        "print(storages['default'].url('a.txt'))\n"
    )
    env = {
        "AWS_STORAGE_BUCKET_NAME": "media-bucket",
        "AWS_S3_ENDPOINT_URL": "http://store.internal:9000",
        "AWS_S3_ADDRESSING_STYLE": style,
        "AWS_ACCESS_KEY_ID": "key",
        "AWS_SECRET_ACCESS_KEY": "secret",
    }
    url = run_python(code, env).stdout.strip().splitlines()[-1]
    assert url.startswith(start), url


@pytest.mark.django_db(transaction=True)
def test_a_command_given_the_metrics_directory_before_gunicorn_made_it_runs(tmp_path):
    """The image set PROMETHEUS_MULTIPROC_DIR for every process, and only gunicorn's start
    made the directory: migrate, the worker and beat crashed on their first query
    (django-prometheus counts connections into it). Settings make it."""
    from tests.conftest import subprocess_database_url  # here: the test database's address

    directory = tmp_path / "not-yet" / "prometheus"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": subprocess_database_url(),
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
    }
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.db import connection; connection.ensure_connection(); print('ok')",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok") and directory.is_dir()


def test_the_e_mailed_links_start_with_the_sites_public_address():
    """Reset and verification links defaulted to loopback whatever DEALER_PORTAL_URL said: a
    deployment that set the site's address still e-mailed http://127.0.0.1:8000 links."""
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("PASSWORD_RESET_URL",)},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEALER_PORTAL_URL": "https://b2b.example.com/",
    }
    env.pop("REGISTRATION_VERIFY_URL", None)
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.PASSWORD_RESET_URL); print(s.REGISTRATION_VERIFY_URL)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.split() == [
        "https://b2b.example.com/portal/password/reset/",
        "https://b2b.example.com/portal/verify-email/",
    ]


SQLITE_WRITERS = """
import json, threading, time, django
django.setup()
from django.db import connection, transaction

with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE IF NOT EXISTS tally (n integer)")
    cursor.execute("INSERT INTO tally VALUES (0)")
barrier, failures = threading.Barrier(4), []

def write():
    try:
        barrier.wait(timeout=30)
        for _ in range(3):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT n FROM tally")  # read, then write: as a cart or an order
                n = cursor.fetchone()[0]
                time.sleep(0.02)
                cursor.execute("UPDATE tally SET n = %s", [n + 1])
    except Exception as exc:
        failures.append(repr(exc))
    finally:
        connection.close()

threads = [threading.Thread(target=write) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(timeout=60)
with connection.cursor() as cursor:
    cursor.execute("SELECT n FROM tally")
    print(json.dumps({"failures": failures, "n": cursor.fetchone()[0]}))
"""


def test_the_demos_sqlite_writers_wait_for_each_other(tmp_path):
    """The zero-setup demo's SQLite: a transaction that reads and then writes, as a cart or an
    order does, waits for another writer instead of failing at once with "database is
    locked" (a 503: with 3 dealers at once, 2 of 12 cart writes failed)."""
    database = tmp_path / "demo.sqlite3"
    result = json.loads(
        run_python(SQLITE_WRITERS, {"DATABASE_URL": f"sqlite:///{database}"})
        .stdout.strip()
        .splitlines()[-1]
    )
    assert result == {"failures": [], "n": 12}
