"""Real Celery worker processes (with their embedded beat) deliver webhooks from the test
database to a loopback receiver. The worker is killed with SIGKILL while a delivery is on the
wire, then restarted: every event still arrives, and whatever arrives twice carries the same
webhook-id (so a deduplicating receiver keeps each event once)."""

from __future__ import annotations

import time
import uuid

import pytest

from apps.core.events import event_emit
from apps.integrations.models import WebhookAttempt, WebhookDelivery
from apps.integrations.services.delivery import INTERRUPTED
from apps.integrations.services.endpoints import webhook_endpoint_create
from tests.celery_workers import Workers, worker_env

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

EVENTS = 12
# the worker's queue: this run's broker database (the test process runs its tasks eagerly and
# sends nothing there; emptied before and after), and its cache: this run's cache database
# under a key prefix of its own (tests/conftest.py gives each xdist worker its databases)
WORKER_CACHE_PREFIX = "webhook-worker-test"


@pytest.fixture
def worker(transactional_db, tmp_path):
    """``worker()`` starts a worker (2 processes and beat) on the test database; each one is
    stopped at the end. ``worker.kill(proc)`` SIGKILLs its whole process group."""
    env = worker_env(
        CACHE_KEY_PREFIX=WORKER_CACHE_PREFIX,
        WEBHOOK_ALLOW_LOOPBACK="1",
        WEBHOOK_REQUIRE_HTTPS="0",
        WEBHOOK_RETRY_TIME_SCALE="0.05",
        WEBHOOK_TIMEOUT_SECONDS="3",
        WEBHOOK_LEASE_SECONDS="4",
        WEBHOOK_SWEEP_SECONDS="0.5",
        # sub-second sweeps: the file scheduler (the database one counts whole seconds)
        CELERY_BEAT_SCHEDULER="celery.beat:PersistentScheduler",
        WEBHOOK_SWEEP_GRACE_SECONDS="0.5",
        WEBHOOK_REQUEUE_SECONDS="2",
    )
    workers = Workers(env, name="webhooks", output=False)

    def start():
        schedule = tmp_path / uuid.uuid4().hex[:8]
        return workers.start(
            "--beat", f"--schedule={schedule}", "--pool=prefork", "--concurrency=2"
        )

    start.kill = workers.kill
    try:
        yield start
    finally:
        workers.close()


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout} s")


def test_a_worker_killed_mid_delivery_loses_nothing_and_duplicates_keep_their_webhook_id(
    worker, receiver, settings
):
    # the events are left to the worker's sweeper (the test process has no broker to use)
    settings.WEBHOOK_DISPATCH_ON_COMMIT = False
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    settings.WEBHOOK_REQUIRE_HTTPS = False
    # the receiver holds the first request (it has the event) long past our kill
    server = receiver(script=[("sleep", 30)])
    _endpoint, secret = webhook_endpoint_create(url=server.url, event_types=["*"])
    for n in range(EVENTS):
        event_emit("customer.updated", {"n": n}, subject=f"customer:{n}")

    first = worker()
    held = wait_for(lambda: server.seen(), 60, "the first request")[0]

    # when the worker dies (every process of it) while that request is on the wire
    worker.kill(first)
    delivery = WebhookDelivery.objects.get(webhook_id=held.webhook_id)
    assert delivery.status == "pending"
    assert WebhookAttempt.objects.filter(delivery=delivery, finished_at__isnull=True).exists()

    # and another worker starts
    worker()
    wait_for(
        lambda: WebhookDelivery.objects.filter(status="delivered").count() == EVENTS,
        60,
        "every delivery",
    )

    # then each event was received, once per webhook-id, and every copy kept its id
    deliveries = {d.webhook_id: d for d in WebhookDelivery.objects.all()}
    processed = server.processed()
    assert set(processed) == set(deliveries)
    assert sorted(r.json["data"]["n"] for r in processed.values()) == list(range(EVENTS))
    for request in server.seen():
        expected = deliveries[request.webhook_id].event.data["n"]
        assert request.json["data"]["n"] == expected
    copies = [r for r in server.seen() if r.webhook_id == held.webhook_id]
    assert len(copies) == 2
    server.verify_all(secret)
    attempts = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("number"))
    assert attempts[0].error == INTERRUPTED
    assert attempts[-1].status_code == 200
