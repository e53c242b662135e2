"""Shared fixtures. Tests run against real PostgreSQL and Redis (see ``./dev test``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import translation
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parent.parent


# Under pytest-xdist (``./dev test`` runs two workers) each worker has a test database of its
# own (pytest-django: test_<name>_gw0, ...) and Redis databases of its own: worker N caches in
# database 1 + 2N and queues in 2 + 2N (gw0: 1 and 2, gw1: 3 and 4, up to gw3), so one worker's
# cache.clear() (every test) or broker purge never reaches another's. A run without workers
# keeps REDIS_URL and CELERY_BROKER_URL as given (``./dev``: 15 and 14). Nothing else of the
# suite picks a Redis database (the benchmarks use 12 and 13).
XDIST_REDIS_DBS = range(1, 9)


def _redis_url_with_db(url: str, db: int) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{db}"))


def _give_this_xdist_worker_its_own_redis_databases() -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    index = int(worker.removeprefix("gw"))
    cache_db, broker_db = XDIST_REDIS_DBS.start + 2 * index, XDIST_REDIS_DBS.start + 2 * index + 1
    if broker_db not in XDIST_REDIS_DBS:
        raise pytest.UsageError(
            f"at most {len(XDIST_REDIS_DBS) // 2} xdist workers (each needs two Redis databases)"
        )
    from config.celery import app as celery_app

    cache_url = _redis_url_with_db(os.environ["REDIS_URL"], cache_db)
    broker_url = _redis_url_with_db(
        os.environ.get("CELERY_BROKER_URL") or os.environ["REDIS_URL"], broker_db
    )
    # this process (its cache connects on first use) and every process a test starts
    os.environ["REDIS_URL"] = settings.REDIS_URL = cache_url
    os.environ["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL = broker_url
    settings.CACHES["default"]["LOCATION"] = cache_url
    celery_app.conf.broker_url = broker_url


def pytest_configure(config):
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine or not os.environ.get("REDIS_URL"):
        raise pytest.UsageError(
            "The test suite runs against PostgreSQL and Redis: use `./dev test`, or set "
            "DATABASE_URL=postgres://... and REDIS_URL=redis://... yourself."
        )
    _give_this_xdist_worker_its_own_redis_databases()


def pytest_collection_modifyitems(config, items):
    # under xdist the tests that start processes (a minute or more each, the schemathesis runs)
    # go first, so that the workers end together on short tests rather than one of them
    # finishing a long one alone
    if os.environ.get("PYTEST_XDIST_WORKER"):
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)


# a fast hasher keeps the suite quick; the production hasher list is tested on its own
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fast_and_clean(settings):
    from apps.core.redis_breaker import breaker_reset

    settings.PASSWORD_HASHERS = FAST_PASSWORD_HASHERS
    breaker_reset()  # a Redis another test made unreachable is tried again
    cache.clear()
    yield
    # the test client leaves the language of a test's last request active in the thread (the
    # server activates each request's own): the next test starts in the default one again
    translation.deactivate()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def login(client: APIClient, user, password: str | None = None) -> dict:
    """Log ``user`` in through the real endpoint; the client then sends the access token."""
    from tests.factories import DEFAULT_PASSWORD

    response = client.post(
        "/api/v1/auth/token", {"email": user.email, "password": password or DEFAULT_PASSWORD}
    )
    assert response.status_code == 200, response.json()
    tokens = response.json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return tokens


@pytest.fixture
def dealer_client(db):
    """``dealer_client(role="owner", customer=None)`` -> an APIClient logged in as a new
    dealer user of that role (of ``customer``, or of a new active company). The user is on
    ``client.user``."""
    from tests.factories import DealerUserFactory

    def make(role: str = "owner", customer=None, **user_kwargs) -> APIClient:
        kwargs = {"role": role, **user_kwargs}
        if customer is not None:
            kwargs["customer"] = customer
        user = DealerUserFactory(**kwargs)
        client = APIClient()
        login(client, user)
        client.user = user
        return client

    return make


def staff_login(client, user):
    """Log ``user`` into the admin with a session that passed the two-factor step, as after
    a right code: ``user`` gets a confirmed authenticator (TOTP device) unless they have one,
    and the session names it (django-otp's session key). The one way tests sign staff in."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def totp_now(device) -> str:
    """The code an authenticator app shows now for ``device`` (a TOTP device)."""
    from django_otp.oath import totp

    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{code:0{device.digits}d}"


@pytest.fixture
def staff_client(db):
    """``staff_client(*groups)`` -> a Django test client logged into the admin as staff (two-
    factor step passed: ``staff_login``)."""
    from django.test import Client

    from tests.factories import StaffUserFactory

    def make(*groups: str, superuser: bool = False) -> Client:
        user = StaffUserFactory(groups=list(groups), is_superuser=superuser)
        client = Client()
        staff_login(client, user)
        client.user = user
        return client

    return make


@pytest.fixture
def integration_client(db):
    """``integration_client(scopes=None, allowed_ips=None)`` -> an APIClient sending a new
    API key in X-API-Key (all scopes unless given). The key row is on ``client.api_key``."""
    from apps.accounts.services.api_keys import api_key_create

    def make(scopes=None, allowed_ips=None, name="ERP connector") -> APIClient:
        api_key, raw = api_key_create(name=name, scopes=scopes, allowed_ips=allowed_ips)
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=raw)
        client.api_key = api_key
        client.raw_key = raw
        return client

    return make


@pytest.fixture
def frozen_window():
    """Freeze the clock 5 seconds into a fresh minute, so fixed-window counters cannot roll
    over in the middle of a test."""
    import datetime as dt

    import time_machine

    now = dt.datetime.now(dt.UTC).replace(second=5, microsecond=0) + dt.timedelta(minutes=1)
    with time_machine.travel(now, tick=False) as traveller:
        yield traveller


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def subprocess_database_url() -> str:
    """The URL of the test database, for a process the test starts (a worker, a server)."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def closed_port() -> int:
    """A loopback port nobody listens on (bound then released)."""
    return free_port()


@pytest.fixture(scope="session")
def s3_server():
    """A real S3-compatible server (moto) on a loopback port, for the whole session."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def paynet_simulator():
    """The Paynet simulator (tests/paynet.py) in a process of its own, for the whole session.
    Tests that need a clean slate call ``.reset()`` themselves."""
    from tests.paynet import PaynetSimulator

    simulator = PaynetSimulator().start()
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture(scope="session", autouse=True)
def _test_database_left_alone(django_db_setup, django_db_blocker):
    """At the end of the session, before the test database is dropped, end the sessions that
    still use it: a server process a test stopped (its workers leave a moment after their
    master), a thread that outlived its test. Without this the drop fails with "being accessed
    by other users" and leaves the database behind."""
    yield
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
