"""Webhooks sent in batches: one claim transaction for many deliveries (one per subject per
endpoint, in event order), workers claiming at the same time never share a delivery, keep-alive
connections are reused, a batch gives back what it cannot send in time, and the DNS answer is
reused only for a bounded time while its addresses are checked every time."""

from __future__ import annotations

import socket
import threading
import time
from collections import defaultdict

import pytest
from django.db import connection

from apps.core.events import event_emit
from apps.integrations import ssrf
from apps.integrations.models import WebhookAttempt, WebhookDelivery
from apps.integrations.services.delivery import (
    Result,
    connections_close,
    deliveries_claim,
    deliveries_record,
    deliveries_send,
    deliveries_send_due,
    outbox_dispatch_events,
)
from apps.integrations.ssrf import UnsafeTarget, check_url
from tests.conftest import closed_port

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _fresh_connections():
    connections_close()
    ssrf.resolve_cache_clear()
    yield
    connections_close()
    ssrf.resolve_cache_clear()


def emit_all(events: list[tuple[str, int]]) -> None:
    """``(subject, n)`` events, fanned out (nothing sent yet)."""
    for subject, n in events:
        event_emit("customer.updated", {"n": n}, subject=subject)
    outbox_dispatch_events()


def numbers(claims) -> list[tuple[str, int]]:
    by_id = dict(
        WebhookDelivery.objects.filter(pk__in=[c.delivery.pk for c in claims]).values_list(
            "pk", "event__data__n"
        )
    )
    return sorted((c.delivery.subject, by_id[c.delivery.pk]) for c in claims)


def test_a_batch_takes_the_first_delivery_of_each_subject_and_the_next_after_it_is_recorded(
    receiver, make_endpoint
):
    server = receiver()
    _endpoint, secret = make_endpoint(server.url)
    emit_all([("A", 1), ("B", 2), ("A", 3), ("C", 4), ("A", 5), ("B", 6)])

    first = deliveries_claim(limit=100)

    # one per subject, the oldest; each counted, leased, with its attempt row
    assert numbers(first) == [("A", 1), ("B", 2), ("C", 4)]
    assert WebhookAttempt.objects.filter(finished_at__isnull=True).count() == 3
    assert deliveries_claim(limit=100) == []  # the next ones wait for these

    deliveries_send(first)
    second = deliveries_claim(limit=100)
    assert numbers(second) == [("A", 3), ("B", 6)]
    deliveries_send(second)
    third = deliveries_claim(limit=100)
    assert numbers(third) == [("A", 5)]
    deliveries_send(third)
    assert deliveries_claim(limit=100) == []

    assert WebhookDelivery.objects.filter(status="delivered").count() == 6
    sent = [r.json["data"]["n"] for r in server.seen()]
    assert sent.index(1) < sent.index(3) < sent.index(5) and sent.index(2) < sent.index(6)
    server.verify_all(secret)


def test_a_batch_limit_and_one_endpoint(receiver, make_endpoint):
    one, _ = make_endpoint(receiver().url)
    other, _ = make_endpoint(receiver().url)
    emit_all([(f"S{n}", n) for n in range(5)])

    claims = deliveries_claim(limit=3, endpoint_id=other.pk)

    assert len(claims) == 3 and {c.delivery.endpoint_id for c in claims} == {other.pk}
    assert len(deliveries_claim(limit=100, skip_endpoints=[other.pk])) == 5  # all of `one`
    assert {c.delivery.endpoint_id for c in deliveries_claim(limit=100)} == {other.pk}
    assert one.pk != other.pk


@pytest.mark.django_db(transaction=True)
def test_workers_claiming_at_the_same_time_never_get_the_same_delivery(
    receiver, fast_webhooks, settings
):
    """Real threads, each with its own PostgreSQL connection, claim and record batches at
    once until everything is delivered: each delivery is claimed exactly once, and each
    subject's deliveries are claimed one at a time, in the order of their events."""
    from apps.integrations.services.endpoints import webhook_endpoint_create

    settings.WEBHOOK_DISPATCH_ON_COMMIT = False
    server = receiver()
    webhook_endpoint_create(url=server.url, event_types=["*"])
    subjects, per_subject = 40, 5
    emit_all([(f"customer:{n % subjects}", n) for n in range(subjects * per_subject)])
    total = subjects * per_subject
    assert WebhookDelivery.objects.count() == total

    claimed: list[tuple[int, str, int, int]] = []  # (sequence, subject, event id, delivery)
    in_flight: dict[str, int] = {}
    overlaps: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def work():
        try:
            start.wait()
            idle = 0
            while idle < 3:
                claims = deliveries_claim(limit=7)
                if not claims:
                    idle += 1
                    continue
                idle = 0
                with lock:
                    for claim in claims:
                        subject = claim.delivery.subject
                        if subject in in_flight:
                            overlaps.append(subject)
                        in_flight[subject] = claim.delivery.pk
                        claimed.append(
                            (len(claimed), subject, claim.delivery.event.pk, claim.delivery.pk)
                        )
                with lock:
                    for claim in claims:
                        in_flight.pop(claim.delivery.subject, None)
                deliveries_record([(claim, Result(status_code=204)) for claim in claims])
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    deliveries = [c[3] for c in claimed]
    assert len(deliveries) == len(set(deliveries)) == total  # each once, none twice
    assert overlaps == []  # never two of one subject in flight
    by_subject = defaultdict(list)
    for _seq, subject, event_id, _delivery in sorted(claimed):
        by_subject[subject].append(event_id)
    assert all(events == sorted(events) for events in by_subject.values())
    assert WebhookDelivery.objects.filter(status="delivered").count() == total
    assert WebhookAttempt.objects.count() == total
    assert server.seen() == []  # recorded only: nothing was sent here


def test_keep_alive_connections_are_reused(receiver, make_endpoint):
    server = receiver(keep_alive=True)
    _endpoint, secret = make_endpoint(server.url)
    emit_all([(f"customer:{n}", n) for n in range(30)])

    pumped = deliveries_send_due(limit=10)

    assert pumped.sent == pumped.delivered == 30
    assert len(server.seen()) == 30
    assert len(server.connections()) < 30
    assert len(server.connections()) == 1  # one process, one endpoint: one connection
    server.verify_all(secret)


def test_a_receiver_that_closes_each_connection_still_gets_everything(receiver, make_endpoint):
    server = receiver()  # HTTP/1.0: closes after each answer
    make_endpoint(server.url)
    emit_all([(f"customer:{n}", n) for n in range(5)])

    assert deliveries_send_due().delivered == 5
    assert len(server.connections()) == 5


def test_each_event_is_encoded_once_for_all_its_endpoints(receiver, make_endpoint):
    servers = [receiver(), receiver()]
    secrets = [make_endpoint(server.url)[1] for server in servers]
    emit_all([("customer:A", 1)])

    deliveries_send_due()

    bodies = [server.seen()[0].body for server in servers]
    assert bodies[0] == bodies[1]
    assert servers[0].seen()[0].webhook_id != servers[1].seen()[0].webhook_id
    for server, secret in zip(servers, secrets, strict=True):
        server.verify_all(secret)


def test_a_batch_releases_what_it_cannot_send_within_its_lease(receiver, make_endpoint, settings):
    # lease 1.6 s, timeout 0.5 s: after 0.1 s a batch sends nothing more
    settings.WEBHOOK_LEASE_SECONDS = 1.6
    server = receiver(script=[("sleep", 0.3)])  # the first answer takes 0.3 s
    make_endpoint(server.url)
    emit_all([(f"customer:{n}", n) for n in range(3)])

    batch = deliveries_send(deliveries_claim(limit=10))

    assert len(batch.sent) == 1 and batch.released == 2
    released = WebhookDelivery.objects.filter(status="pending")
    assert released.count() == 2
    # taken back: no attempt counted or logged, due again now
    assert {d.attempt_count for d in released} == {0}
    assert WebhookAttempt.objects.filter(delivery__in=released).count() == 0
    assert deliveries_send_due().delivered == 2
    assert len(server.processed()) == 3


def test_an_endpoint_that_does_not_answer_holds_its_other_deliveries_of_the_batch(
    make_endpoint,
):
    endpoint, _secret = make_endpoint(f"http://127.0.0.1:{closed_port()}/hooks")
    emit_all([(f"customer:{n}", n) for n in range(4)])

    batch = deliveries_send(deliveries_claim(limit=10))

    assert len(batch.sent) == 1 and batch.released == 3
    assert batch.failing_endpoints == {endpoint.pk}
    tried = WebhookDelivery.objects.get(attempt_count=1)
    assert tried.last_error.startswith("connection failed")
    held = WebhookDelivery.objects.exclude(pk=tried.pk)
    assert {d.attempt_count for d in held} == {0}
    assert {d.next_attempt_at for d in held} == {tried.next_attempt_at}  # its back-off


def test_a_receiver_that_times_out_does_not_hold_up_the_other_endpoints(
    receiver, make_endpoint, settings
):
    """Each endpoint's deliveries go in order, different endpoints' side by side: the healthy
    receivers had to wait for the silent one's timeout, batch after batch, while it retried."""
    settings.WEBHOOK_TIMEOUT_SECONDS = 1.0
    silent = receiver(default=("sleep", 3))  # takes each event, answers after the timeout
    make_endpoint(silent.url)  # first: its deliveries come first in the batch
    healthy = [receiver(keep_alive=True) for _ in range(2)]
    secrets = [make_endpoint(server.url)[1] for server in healthy]
    emit_all([("customer:A", 1), ("customer:B", 2)])
    claims = deliveries_claim(limit=10)
    assert len(claims) == 6
    started = time.monotonic()

    batch = deliveries_send(claims)

    took = time.monotonic() - started
    for server, secret in zip(healthy, secrets, strict=True):
        assert sorted(r.json["data"]["n"] for r in server.processed().values()) == [1, 2]
        assert all(r.at - started < 0.8 for r in server.seen()), [
            r.at - started for r in server.seen()
        ]
        server.verify_all(secret)
    assert 1.0 <= took < 2.0  # one timeout, not one per endpoint or delivery
    # the silent one: its first delivery timed out, its second held back for its retry
    assert len(silent.seen()) == 1 and batch.released == 1
    assert len(batch.sent) == 5
    assert WebhookDelivery.objects.filter(status="delivered").count() == 4


def test_the_dns_answer_is_reused_only_for_its_time_and_checked_every_time(monkeypatch, settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    answers = ["127.0.0.1"]
    calls = []

    def getaddrinfo(host, port, *args, **kwargs):
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[0], port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    clock = [1000.0]
    monkeypatch.setattr(ssrf.time, "monotonic", lambda: clock[0])
    url = "http://hooks.example.test/x"

    assert str(check_url(url, resolve_ttl=10)[2][0]) == "127.0.0.1"
    answers[0] = "10.0.0.7"  # the DNS answer changes (rebinding to a private address)
    clock[0] += 9
    assert str(check_url(url, resolve_ttl=10)[2][0]) == "127.0.0.1"  # within the bound
    assert len(calls) == 1
    settings.WEBHOOK_ALLOW_LOOPBACK = False  # the rules apply at once to a cached answer
    with pytest.raises(UnsafeTarget, match="loopback"):
        check_url(url, resolve_ttl=10)
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    clock[0] += 2  # past the bound: resolved again, and the new address is refused
    with pytest.raises(UnsafeTarget, match="private"):
        check_url(url, resolve_ttl=10)
    with pytest.raises(UnsafeTarget, match="private"):
        check_url(url)  # without a cache: always resolved
    assert len(calls) == 3


def test_a_lease_as_short_as_the_timeout_still_sends_one_delivery_per_batch(
    receiver, make_endpoint, settings
):
    settings.WEBHOOK_LEASE_SECONDS = settings.WEBHOOK_TIMEOUT_SECONDS  # no time for a second
    server = receiver()
    make_endpoint(server.url)
    emit_all([(f"customer:{n}", n) for n in range(3)])

    batch = deliveries_send(deliveries_claim(limit=10))
    assert len(batch.sent) == 1 and batch.released == 2

    assert deliveries_send_due(limit=10).delivered == 2  # one a batch, until none is due
    assert len(server.processed()) == 3


@pytest.mark.django_db(transaction=True)
def test_commits_share_a_queued_fan_out_task(receiver, make_endpoint):
    from django.core.cache import cache
    from django.db import transaction

    from apps.core.models import OutboxEvent
    from apps.integrations.tasks import DISPATCH_QUEUED_KEY, outbox_dispatch

    server = receiver()
    make_endpoint(server.url)
    cache.set(DISPATCH_QUEUED_KEY, 1)  # a fan-out task is queued, not started yet
    try:
        for n in range(3):
            with transaction.atomic():
                event_emit("customer.updated", {"n": n}, subject=f"customer:{n}")
        # no task of their own: the queued one will take them
        assert OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == 3
        assert server.seen() == []

        assert outbox_dispatch() == 3  # that task: every undispatched event, then delivered

        assert cache.get(DISPATCH_QUEUED_KEY) is None
        assert sorted(r.json["data"]["n"] for r in server.seen()) == [0, 1, 2]
        with transaction.atomic():  # nothing queued now: this commit's own task runs
            event_emit("customer.updated", {"n": 3}, subject="customer:3")
        assert len(server.seen()) == 4
    finally:
        cache.delete(DISPATCH_QUEUED_KEY)
