"""The dealer API with its broker or its Redis down: a real web server (gunicorn) on the test
database, pointed at a loopback port where nothing listens, answered over HTTP.

- Broker down: an order is placed (201) and committed once; the same request again with its
  Idempotency-Key replays it; the failed after-commit step is logged with the request id;
  ``/health/ready`` names the broker; and once a broker answers on that port again, a real
  Celery worker's sweeper delivers the order's event to a webhook receiver, once.
- Redis down: ``me``, ``products`` and ``orders`` keep serving (cache misses go to the
  database), an order replays by its key, rate limits still refuse (counted per process),
  login lockout still locks (counted from the failed logins in the database), and
  ``/health/ready`` names the cache.
- The database refusing (nothing listening, or no connection left for us): every request that
  needs it answers 503 with ``Retry-After`` in the error format, never a 500; ``/health/live``
  still answers and ``/health/ready`` names the database.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken

from apps.accounts.models import Address, AuthEvent
from apps.core.models import OutboxEvent, QueuedTask
from apps.integrations.services.endpoints import webhook_endpoint_create
from apps.orders.models import Order
from apps.pricing.models import Price, PriceList
from tests.conftest import ROOT, closed_port, free_port, subprocess_database_url, wait_for_port
from tests.factories import AddressFactory, CustomerFactory, DealerUserFactory
from tests.integrations.receiver import Receiver
from tests.inventory.factories import ProductFactory, StockLevelFactory, WarehouseFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "Dealer-pass-2026!"
REDIS_SERVER = shutil.which("redis-server")


class Web:
    """A gunicorn process serving the project; ``call`` sends one request to it."""

    def __init__(self, proc: subprocess.Popen, port: int, log: Path):
        self.proc, self.port, self.log = proc, port, log

    def call(self, method: str, path: str, body=None, headers=None, token=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=data, method=method
        )
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                status, raw, answer_headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, raw, answer_headers = error.code, error.read(), error.headers
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode(errors="replace")
        return status, payload, answer_headers

    def login(self, email: str) -> str:
        status, body, _headers = self.call(
            "POST", "/api/v1/auth/token", {"email": email, "password": PASSWORD}
        )
        assert status == 200, body
        return body["access"]

    def log_lines(self) -> list[dict]:
        lines = []
        for line in self.log.read_text().splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
        return lines


WEB_APP_NAME = "b2b-web-under-test"


@pytest.fixture
def web(transactional_db, tmp_path):
    started: list[subprocess.Popen] = []

    def start(**overrides: str) -> Web:
        port = free_port()
        log = tmp_path / f"web-{port}.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": subprocess_database_url(),
            "DB_CONN_MAX_AGE": "0",
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            "WEBHOOK_ALLOW_LOOPBACK": "1",
            "HEALTH_CHECK_TIMEOUT": "1",
            # libpq names the server's sessions, so a test ends those and no other
            "PGAPPNAME": WEB_APP_NAME,
            **overrides,
        }
        with log.open("w") as out:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    f"--bind=127.0.0.1:{port}",
                    "--workers=1",
                    "--timeout=60",
                    "config.wsgi:application",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        started.append(proc)
        wait_for_port(port, timeout=30)
        return Web(proc, port, log)

    yield start
    for proc in started:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def shop(settings):
    """A dealer owner who can log in (Argon2, as the server hashes), a priced product in
    stock and the company's addresses."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    customer = CustomerFactory(tier="B", credit_limit=Decimal("100000.00"))
    AddressFactory(customer=customer, type=Address.Type.SHIPPING, is_default=True)
    AddressFactory(customer=customer, type=Address.Type.BILLING, is_default=True)
    owner = DealerUserFactory(role="owner", customer=customer, password=PASSWORD)
    product = ProductFactory(sku="DOWN-1", vat_rate=20)
    Price.objects.create(
        price_list=PriceList.objects.get(code="LIST"), product=product, amount=Decimal("100")
    )
    StockLevelFactory(product=product, warehouse=WarehouseFactory(code="IST"), on_hand=50)
    return customer, owner


ORDER = {"payment_method": "on_account", "items": [{"sku": "DOWN-1", "quantity": 2}]}


def _place_twice(web: Web, token: str, request_id: str) -> str:
    key = f"key-{uuid.uuid4().hex}"
    headers = {"Idempotency-Key": key, "X-Request-ID": request_id}
    status, first, _h = web.call("POST", "/api/v1/orders", ORDER, headers, token=token)
    assert status == 201, first
    status, again, answer_headers = web.call("POST", "/api/v1/orders", ORDER, headers, token=token)
    assert status == 201, again
    assert again["number"] == first["number"]
    assert answer_headers["Idempotent-Replayed"] == "true"
    return first["number"]


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.skipif(REDIS_SERVER is None, reason="needs redis-server to bring the broker back")
def _worker(tmp_path, broker_url: str, **overrides: str) -> subprocess.Popen:
    """A real Celery worker with beat on the test database, sweeping every half second."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": subprocess_database_url(),
        "DB_CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "WEBHOOK_ALLOW_LOOPBACK": "1",
        "WEBHOOK_REQUIRE_HTTPS": "0",
        "WEBHOOK_SWEEP_SECONDS": "0.5",
        # sub-second sweeps: the file scheduler (the database one counts whole seconds)
        "CELERY_BEAT_SCHEDULER": "celery.beat:PersistentScheduler",
        "WEBHOOK_SWEEP_GRACE_SECONDS": "0.5",
        "QUEUED_TASK_SWEEP_SECONDS": "0.5",
        "QUEUED_TASK_GRACE_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        **overrides,
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--beat",
            f"--schedule={tmp_path / 'beat'}",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            f"--hostname=down-{uuid.uuid4().hex[:8]}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop(*processes: subprocess.Popen | None) -> None:
    """Stop a worker and a broker this test started (a worker may not have been)."""
    for process in processes:
        if process is not None:
            process.terminate()
            process.wait(timeout=20)


def _redis_server(port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_with_the_broker_down_an_order_is_placed_once_replays_and_its_event_arrives_later(
    web, shop, tmp_path
):
    # given: a webhook subscriber, and a web server whose broker port has nothing on it
    customer, owner = shop
    receiver = Receiver().start()
    endpoint, _secret = webhook_endpoint_create(url=receiver.url, event_types=["order.created"])
    broker_port = closed_port()
    broker_url = f"redis://127.0.0.1:{broker_port}/0"
    server = web(CELERY_BROKER_URL=broker_url)
    token = server.login(owner.email)

    # when: an order is placed and the same request is sent again with its key
    number = _place_twice(server, token, request_id="rid-broker-down-1")

    # then: one committed order, its event waiting in the outbox, the failure logged
    assert Order.objects.filter(customer=customer).count() == 1
    assert Order.objects.get(customer=customer).number == number
    event = OutboxEvent.objects.get(type="order.created")
    assert event.data["number"] == number
    after_commit_lines = [
        line for line in server.log_lines() if line.get("logger") == "apps.after_commit"
    ]
    assert after_commit_lines, server.log.read_text()[-3000:]
    assert all(line.get("request_id") == "rid-broker-down-1" for line in after_commit_lines)
    # an outage's step is told in a line, not as an error with a traceback for each commit
    assert {line["level"] for line in after_commit_lines} == {"WARNING"}
    assert not any("exc_info" in line for line in after_commit_lines)
    status, ready, _h = server.call("GET", "/health/ready")
    assert status == 503
    assert ready["failed"] == ["broker"]
    # and: a password-reset request waits durably for the broker too (202, the task kept)
    status, _body, _h = server.call("POST", "/api/v1/auth/password-reset", {"email": owner.email})
    assert status == 202
    assert list(QueuedTask.objects.values_list("name", flat=True)) == [
        "accounts.password_reset_send"
    ]

    # when: a broker answers on that port again and a worker (with beat) runs
    broker = _redis_server(broker_port)
    worker = None
    try:
        wait_for_port(broker_port)
        worker = _worker(tmp_path, broker_url)
        # then: the sweeper delivers the order's event, once
        kept = _wait_for(lambda: receiver.processed(), 60, "the order.created delivery")
        time.sleep(1.0)  # a duplicate would arrive within the next sweeps
        kept = receiver.processed()
        assert len(kept) == 1
        (delivered,) = kept.values()
        assert delivered.json["type"] == "order.created"
        assert delivered.json["data"]["number"] == number
        status, _ready, _h = server.call("GET", "/health/ready")
        assert status == 200
        # and: the sweep sent the password-reset request, once: the owner's link went out
        _wait_for(
            lambda: AuthEvent.objects.filter(kind="password_reset_requested", user=owner).exists(),
            30,
            "the password-reset request",
        )
        _wait_for(lambda: not QueuedTask.objects.exists(), 10, "the queued task's row to go")
        assert AuthEvent.objects.filter(kind="password_reset_requested", user=owner).count() == 1
    finally:
        _stop(worker, broker)
        receiver.stop()
    assert endpoint.pk


def test_a_queued_task_the_broker_lost_is_sent_again_and_runs_once(web, shop, tmp_path):
    """The broker took a password-reset request, then restarted without its data before a
    worker took it: the task's row stays until the task has run, so the sweep sends it again
    (the row went as soon as the broker took it: the owner's link never went out)."""
    import redis  # here: the broker's own client, to lose its queue

    _customer, owner = shop
    broker_port = free_port()
    broker = _redis_server(broker_port)
    worker = None
    try:
        wait_for_port(broker_port)
        broker_url = f"redis://127.0.0.1:{broker_port}/0"
        server = web(CELERY_BROKER_URL=broker_url)
        status, _body, _h = server.call(
            "POST", "/api/v1/auth/password-reset", {"email": owner.email}
        )
        assert status == 202
        row = QueuedTask.objects.get()
        assert row.name == "accounts.password_reset_send" and row.sent_at is not None
        redis.Redis(port=broker_port).flushall()  # the broker loses what it held

        worker = _worker(tmp_path, broker_url, QUEUED_TASK_LOST_SECONDS="1")

        _wait_for(
            lambda: AuthEvent.objects.filter(kind="password_reset_requested", user=owner).exists(),
            60,
            "the password-reset request sent again",
        )
        _wait_for(lambda: not QueuedTask.objects.exists(), 10, "the queued task's row to go")
        time.sleep(2.0)  # a second send would come within the next sweeps
        assert AuthEvent.objects.filter(kind="password_reset_requested", user=owner).count() == 1
    finally:
        _stop(worker, broker)


def test_with_redis_down_the_dealer_api_serves_from_the_database(web, shop):
    # given: a web server whose cache (and rate-limit store) port has nothing on it
    customer, owner = shop
    server = web(
        REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0",
        CELERY_BROKER_URL="",
        CELERY_TASK_ALWAYS_EAGER="1",
    )
    token = server.login(owner.email)

    # then: reads and an order work, the order replays by its key
    status, me, _h = server.call("GET", "/api/v1/me", token=token)
    assert status == 200, me
    status, products, _h = server.call("GET", "/api/v1/products", token=token)
    assert status == 200, products
    assert [item["sku"] for item in products["results"]] == ["DOWN-1"]
    assert products["results"][0]["price"]["unit_net"] == "100.0000"
    number = _place_twice(server, token, request_id="rid-redis-down-1")
    assert list(Order.objects.filter(customer=customer).values_list("number", flat=True)) == [
        number
    ]
    status, detail, _h = server.call("GET", f"/api/v1/orders/{number}", token=token)
    assert status == 200 and detail["status"] == "confirmed"

    # and: /health/ready names the cache
    status, ready, _h = server.call("GET", "/health/ready")
    assert status == 503
    assert ready["failed"] == ["cache"]


class SilentServer:
    """A TCP server on loopback that accepts connections and never answers (a hung Redis, a
    half-open network path); it counts the commands that reach it."""

    def __init__(self):
        import socket
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.received = 0
        self.held = []
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        import select

        self.sock.settimeout(0.1)
        while not self._stop:
            try:
                peer, _address = self.sock.accept()
                self.held.append(peer)
            except OSError:
                pass
            readable = [c for c in self.held if c.fileno() >= 0]
            try:  # ``stop`` may close a socket meanwhile
                for peer in select.select(readable, [], [], 0.05)[0] if readable else []:
                    if peer.recv(65536):
                        self.received += 1
            except (OSError, ValueError):
                continue

    def stop(self):
        self._stop = True
        for peer in self.held:
            peer.close()
        self.sock.close()


def test_with_redis_hung_requests_do_not_wait_on_it_call_after_call(web, shop):
    """Redis accepts connections and never answers: the first cache call waits out the
    socket timeout, then the cache's connections refuse at once for a few seconds (the
    breaker), so the next requests send Redis nothing and answer from the database."""
    _customer, owner = shop
    silent = SilentServer()
    try:
        server = web(
            REDIS_URL=f"redis://127.0.0.1:{silent.port}/0",
            CELERY_BROKER_URL="",
            CELERY_TASK_ALWAYS_EAGER="1",
        )
        token = server.login(owner.email)  # trips the breaker (and waits for it once)
        reached = silent.received
        assert reached >= 1

        for _request in range(3):
            status, products, _h = server.call("GET", "/api/v1/products", token=token)
            assert status == 200, products
            assert [item["sku"] for item in products["results"]] == ["DOWN-1"]

        assert silent.received == reached  # nothing more was sent to the hung Redis
        warnings = [line for line in server.log_lines() if line.get("logger") == "apps.redis"]
        assert len(warnings) == 1 and "did not answer" in warnings[0]["message"]
        assert not [line for line in server.log_lines() if line.get("level") == "ERROR"]
    finally:
        silent.stop()


def test_with_the_broker_hung_requests_answer_in_seconds_and_ready_names_it(web, shop):
    """The broker accepts connections and never answers (a stopped or frozen Redis): a
    request whose commit queues a task answers its 201 or 202 in seconds, not after
    gunicorn's timeout with a 500 for a change it made; readiness names the broker."""
    customer, owner = shop
    silent = SilentServer()
    try:
        server = web(CELERY_BROKER_URL=f"redis://127.0.0.1:{silent.port}/0")
        token = server.login(owner.email)
        started = time.monotonic()
        number = _place_twice(server, token, request_id="rid-broker-hung")
        assert time.monotonic() - started < 25, "waited on the hung broker"
        assert silent.received >= 1  # it was asked
        # then: the process does not ask it again for a while (CELERY_BROKER_BREAK_SECONDS):
        # the next requests that publish after their commit pay nothing for it
        started = time.monotonic()
        second = {"payment_method": "on_account", "items": [{"sku": "DOWN-1", "quantity": 1}]}
        status, _body, _h = server.call("POST", "/api/v1/orders", second, token=token)
        assert status == 201
        status, _body, _h = server.call(
            "POST", "/api/v1/auth/password-reset", {"email": owner.email}
        )
        assert status == 202
        assert time.monotonic() - started < 2.5, "each request waited on the hung broker"
        status, ready, _h = server.call("GET", "/health/ready")
        assert (status, ready["failed"]) == (503, ["broker"])
        assert Order.objects.filter(customer=customer, number=number).exists()
        assert OutboxEvent.objects.filter(type="order.created").count() == 2
        assert QueuedTask.objects.filter(name="accounts.password_reset_send").count() == 1
    finally:
        silent.stop()


def test_with_redis_down_login_lockout_still_locks_from_the_database(web, shop):
    _customer, owner = shop
    server = web(
        REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0",
        CELERY_BROKER_URL="",
        CELERY_TASK_ALWAYS_EAGER="1",
        LOCKOUT_ACCOUNT_FAILURES="3",
    )
    bad = {"email": owner.email, "password": "wrong-password-1"}
    codes = [server.call("POST", "/api/v1/auth/token", bad)[1]["code"] for _ in range(3)]
    assert codes == ["invalid_credentials"] * 3
    # the right password is refused now: the account is locked
    status, body, headers = server.call(
        "POST", "/api/v1/auth/token", {"email": owner.email, "password": PASSWORD}
    )
    assert status == 401, body
    assert body["code"] == "account_locked"
    assert int(headers["Retry-After"]) > 0


def test_with_redis_down_rate_limits_still_refuse(web, shop):
    _customer, owner = shop
    server = web(
        REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0",
        CELERY_BROKER_URL="",
        CELERY_TASK_ALWAYS_EAGER="1",
        RATE_LIMIT_USER="5/hour",
    )
    token = server.login(owner.email)
    statuses = [server.call("GET", "/api/v1/me", token=token)[0] for _ in range(7)]
    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429, 429]


# as in production: an error in a middleware (the portal's session) reaches handler500
WITHOUT_DEBUG = {
    "DEBUG": "0",
    "SECRET_KEY": settings.SECRET_KEY,  # the tokens below are signed with it
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
}


def _assert_database_refusal(server: Web) -> None:
    token = AccessToken()
    token["sub"] = "1"  # signed with the server's key: the user lookup is what fails
    for method, path, body, bearer in [
        ("GET", "/api/v1/products", None, str(token)),
        ("GET", "/api/v1/me", None, str(token)),
        ("POST", "/api/v1/auth/token", {"email": "a@example.com", "password": "x"}, None),
    ]:
        status, answer, headers = server.call(method, path, body, token=bearer)
        assert status == 503, (path, answer)
        assert int(headers["Retry-After"]) > 0
        assert answer["code"] == "service_unavailable"
        assert set(answer) >= {"detail", "code", "errors"}
    status, _body, _h = server.call("GET", "/health/live")
    assert status == 200
    status, ready, headers = server.call("GET", "/health/ready")
    assert status == 503 and int(headers["Retry-After"]) > 0
    assert "database" in ready["failed"]
    # a portal page says it in the portal's language (Turkish), whatever the browser asks
    status, page, headers = server.call(  # a signed-in dealer's page: its session is read
        "GET", "/portal/orders/", headers={"Accept": "text/html", "Cookie": "sessionid=" + "x" * 32}
    )
    assert status == 503 and int(headers["Retry-After"]) > 0
    assert "Hizmet" in page and "The service" not in page, page
    errors = [line for line in server.log_lines() if line.get("status_code") == 500]
    assert errors == []
    # one warning line per refused request, no error traceback from django.request
    assert not [line for line in server.log_lines() if line.get("logger") == "django.request"]
    warnings = [line for line in server.log_lines() if "database unavailable" in line["message"]]
    assert len(warnings) >= 3  # one per API request above


def test_with_the_database_down_requests_answer_503_with_retry_after(web):
    server = web(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed_port()}/nowhere",
        DB_CONNECT_TIMEOUT="2",
        **WITHOUT_DEBUG,
        CELERY_BROKER_URL="",
        CELERY_TASK_ALWAYS_EAGER="1",
    )
    _assert_database_refusal(server)


def test_with_no_database_connection_left_requests_answer_503(web):
    # a role allowed no connection at all: PostgreSQL answers "too many connections"
    database = connection.settings_dict["NAME"]
    role = f"{database}_full"[:63]
    with connection.cursor() as cursor:
        cursor.execute(f'DROP ROLE IF EXISTS "{role}"')
        cursor.execute(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 0')
    try:
        server = web(
            **WITHOUT_DEBUG,
            DATABASE_URL=f"postgres://{role}@127.0.0.1:5432/{database}",
            CELERY_BROKER_URL="",
            CELERY_TASK_ALWAYS_EAGER="1",
        )
        _assert_database_refusal(server)
        assert any(
            "too many connections" in line.get("message", "") for line in server.log_lines()
        ), server.log.read_text()[-2000:]
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP ROLE IF EXISTS "{role}"')


def _terminate_server_connections() -> int:
    """End the web server's sessions of the test database, as a database restart or a failover
    would; only those: this worker's other sessions (the live server other tests share) live
    on."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND application_name = %s",
            [WEB_APP_NAME],
        )
        return cursor.fetchone()[0]


@pytest.mark.parametrize(
    ("idle_seconds", "first_status"),
    [
        ("0", 200),  # health-checked before every request: the dead connection is replaced
        ("600", 503),  # it answered a moment ago: one 503 with Retry-After, then replaced
    ],
)
def test_a_persistent_connection_lost_costs_at_most_one_503(web, shop, idle_seconds, first_status):
    _customer, owner = shop
    server = web(
        DB_CONN_MAX_AGE="60",
        DB_HEALTH_CHECK_AFTER_IDLE=idle_seconds,
        CELERY_BROKER_URL="",
        CELERY_TASK_ALWAYS_EAGER="1",
    )
    token = server.login(owner.email)
    assert server.call("GET", "/api/v1/me", token=token)[0] == 200
    assert _terminate_server_connections() >= 1

    status, body, headers = server.call("GET", "/api/v1/me", token=token)
    assert status == first_status, body
    if status == 503:
        assert body["code"] == "service_unavailable"
        assert int(headers["Retry-After"]) > 0
    assert [server.call("GET", "/api/v1/me", token=token)[0] for _ in range(3)] == [200] * 3
