"""Bounded work per request: PostgreSQL's ``statement_timeout`` for web requests, lower for
dealer reads (the catalog), higher for the ERP feeds, none for commands and workers; a query
past it is cancelled by the server and the request answers 503 with ``Retry-After``."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import psycopg
import pytest
from django.db import connection

from tests.conftest import ROOT, subprocess_database_url
from tests.inventory.factories import ProductFactory

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fresh_connection():
    """Requests leave their statement_timeout on the (persistent) connection, as in production;
    a new session afterwards, so the database flush at teardown runs without a tiny one."""
    yield
    connection.close()


@pytest.fixture
def timeouts(settings):
    def set_(web=30.0, dealer_read=10.0, integration=60.0):
        settings.DB_STATEMENT_TIMEOUT = web
        settings.DB_STATEMENT_TIMEOUT_DEALER_READ = dealer_read
        settings.DB_STATEMENT_TIMEOUT_INTEGRATION = integration

    return set_


def _running(fragment: str) -> list[str]:
    """Queries of the test database that PostgreSQL is running now, seen from a connection of
    its own."""
    with psycopg.connect(subprocess_database_url(), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
            "AND state <> 'idle' AND pid <> pg_backend_pid() AND query LIKE %s",
            [f"%{fragment}%"],
        ).fetchall()
    return [row[0] for row in rows]


@pytest.mark.urls("tests.core.urls")
def test_a_query_past_the_timeout_is_cancelled_and_answers_503_with_retry_after(
    api_client, timeouts, settings
):
    timeouts(web=0.3)
    settings.DB_UNAVAILABLE_RETRY_AFTER = 7
    started = time.monotonic()
    response = api_client.get("/api/test/sleep/20")
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response["Retry-After"] == "7"
    assert response.json() == {
        "detail": "The service is busy or briefly unavailable. Try again shortly.",
        "code": "service_unavailable",
        "errors": {},
        "retry_after": 7,
    }
    assert elapsed < 10, "the request waited for the query instead of PostgreSQL cancelling it"
    assert _running("pg_sleep") == [], "PostgreSQL still runs the abandoned query"


@pytest.mark.urls("tests.core.urls")
def test_a_plain_page_outside_the_api_gets_a_plain_503(client, timeouts):
    timeouts(web=0.2)
    response = client.get("/test/sleep/20")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response["Content-Type"].startswith("text/plain")
    assert _running("pg_sleep") == []


@pytest.mark.urls("tests.core.urls")
def test_a_query_within_the_timeout_answers(api_client, timeouts):
    timeouts(web=5)
    response = api_client.get("/api/test/sleep/0.05")
    assert response.status_code == 200


@pytest.mark.urls("tests.core.urls")
def test_the_dealer_read_timeout_applies_to_views_declared_dealer_reads_only(api_client, timeouts):
    timeouts(web=3, dealer_read=0.2)
    # 0.6 s is within the web timeout ...
    assert api_client.get("/api/test/sleep/0.6").status_code == 200
    # ... not within a dealer read's, and the connection goes back to the web one afterwards
    assert api_client.get("/api/test/dealer-read-sleep/0.6").status_code == 503
    assert api_client.get("/api/test/sleep/0.6").status_code == 200


@pytest.mark.urls("tests.core.urls")
def test_the_integration_api_gets_its_own_larger_timeout(api_client, timeouts):
    timeouts(web=0.2, dealer_read=0.1, integration=5)
    assert api_client.get("/api/integration/v1/test/sleep/0.6").status_code == 200
    assert api_client.get("/api/test/sleep/0.6").status_code == 503


class TableLock:
    """An ACCESS EXCLUSIVE lock on a table, held by a connection of its own until released
    (after ``hold`` seconds at the latest): every query of that table waits for it (with
    ``mode="EXCLUSIVE"``, every write: reads go on)."""

    def __init__(self, table: str, hold: float, mode: str = "ACCESS EXCLUSIVE"):
        self.conn = psycopg.connect(subprocess_database_url())
        self.conn.execute(f"LOCK TABLE {table} IN {mode} MODE")
        self.timer = threading.Timer(hold, self.release)
        self.timer.start()

    def release(self):
        if not self.conn.closed:
            self.conn.rollback()
            self.conn.close()


def test_catalog_reads_get_the_dealer_read_timeout_and_the_erp_feed_does_not(
    dealer_client, integration_client, timeouts
):
    # given: a dealer, an ERP key, a product; web 2 s, dealer reads 0.3 s, ERP feeds 10 s
    ProductFactory(sku="LOCKED-1")
    dealer = dealer_client("viewer")
    erp = integration_client(scopes=["catalog:write"])
    timeouts(web=2, dealer_read=0.3, integration=10)
    # and: the products table locked for 3.5 s by someone else (a long migration, a batch)
    lock = TableLock("catalog_product", hold=3.5)
    try:
        # when: the dealer lists products, the catalog's query waits for the lock ...
        started = time.monotonic()
        listed = dealer.get("/api/v1/products")
        listing_took = time.monotonic() - started
        # ... and the ERP sends a product while the lock is still held
        started = time.monotonic()
        fed = erp.post(
            "/api/integration/v1/products",
            [
                {
                    "sku": "LOCKED-2",
                    "name": "Fed while locked",
                    "category": "Elektrik",
                    "unit": "piece",
                    "vat_rate": 20,
                }
            ],
            format="json",
        )
        feeding_took = time.monotonic() - started
    finally:
        lock.timer.cancel()
        lock.release()

    # then: the catalog gave up after the dealer-read timeout, well before the web one
    assert listed.status_code == 503, listed.content
    assert int(listed["Retry-After"]) > 0
    assert listed.json()["code"] == "service_unavailable"
    assert listing_took < 2
    # and: the feed waited past both (the web timeout is 2 s) and went through
    assert fed.status_code == 200, fed.json()
    assert fed.json()["created"] == 1
    assert feeding_took > 2
    assert _running("catalog_product") == []


@pytest.mark.parametrize(
    ("path", "table", "record"),
    [
        # the set-based feed: its batch was halved and each half waited out the timeout again
        (
            "/api/integration/v1/products",
            "catalog_product",
            {
                "sku": "LOCKED-3",
                "name": "N",
                "category": "Elektrik",
                "unit": "piece",
                "vat_rate": 20,
            },
        ),
        # the feed written record by record
        (
            "/api/integration/v1/customers",
            "accounts_customer",
            {"code": "ERP-LOCK", "name": "Kilitli Ltd.", "tax_number": "4540536920"},
        ),
    ],
)
def test_an_erp_batch_the_database_did_not_answer_is_a_503_to_send_again(
    integration_client, timeouts, path, table, record
):
    """A statement cancelled by the timeout refused no record: the batch answered 200 with
    every record "Rejected by the database", its Idempotency-Key replayed that, and a bigger
    batch outlived gunicorn's timeout (a 500). Now: 503 with Retry-After, nothing written, and
    the same request with the same key goes through once the database answers."""
    erp = integration_client()
    timeouts(web=2, dealer_read=0.3, integration=0.5)
    headers = {"HTTP_IDEMPOTENCY_KEY": "batch-locked-1"}
    lock = TableLock(table, hold=10, mode="EXCLUSIVE")  # reads go on, writes wait
    try:
        started = time.monotonic()
        refused = erp.post(path, [record], format="json", **headers)
        took = time.monotonic() - started
    finally:
        lock.timer.cancel()
        lock.release()

    assert refused.status_code == 503, refused.content
    assert int(refused["Retry-After"]) > 0
    assert refused.json()["code"] == "service_unavailable"
    assert took < 5, "the batch waited out the timeout more than once"
    assert _running(table) == []

    sent_again = erp.post(path, [record], format="json", **headers)
    assert sent_again.status_code == 200, sent_again.json()
    assert sent_again.json()["created"] == 1 and sent_again.json()["failed"] == 0
    assert "Idempotent-Replayed" not in sent_again


def test_management_commands_keep_the_servers_default_timeout():
    env = {
        **os.environ,
        "DATABASE_URL": subprocess_database_url(),
        "DB_STATEMENT_TIMEOUT": "0.3",
        "DB_STATEMENT_TIMEOUT_DEALER_READ": "0.1",
    }
    script = (
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('SHOW statement_timeout')\n"
        "    print(cursor.fetchone()[0])\n"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip().splitlines()[-1] == "0"


def test_gunicorn_waits_longer_than_any_statement_timeout(monkeypatch, settings):
    import runpy

    for name in (
        "GUNICORN_TIMEOUT",
        "DB_STATEMENT_TIMEOUT",
        "DB_STATEMENT_TIMEOUT_DEALER_READ",
        "DB_STATEMENT_TIMEOUT_INTEGRATION",
    ):
        monkeypatch.delenv(name, raising=False)
    config = runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))
    assert config["timeout"] > max(
        settings.DB_STATEMENT_TIMEOUT,
        settings.DB_STATEMENT_TIMEOUT_DEALER_READ,
        settings.DB_STATEMENT_TIMEOUT_INTEGRATION,
    )
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_INTEGRATION", "300")
    assert runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))["timeout"] > 300
    # the dealer reads' too (set above the others, it was not counted: gunicorn killed them)
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_DEALER_READ", "400")
    assert runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))["timeout"] > 400
    monkeypatch.setenv("GUNICORN_TIMEOUT", "60")
    with pytest.raises(RuntimeError, match="GUNICORN_TIMEOUT"):
        runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))
