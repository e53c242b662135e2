"""Delivering events to real HTTP receivers on loopback: signatures (checked with the
`standardwebhooks` verifier), the retry schedule, Retry-After, dead letters and manual retry,
410 Gone, ordering per subject, no redirects, the SSRF check at delivery time.

Tasks run in-process here; the sweeper (what celery beat runs) is called in a loop with no
grace period, so every wait of the schedule is real (scaled by 0.1)."""

from __future__ import annotations

import io
import itertools
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from apps.core.events import event_emit
from apps.core.models import OutboxEvent
from apps.integrations.models import WebhookAttempt, WebhookDelivery
from apps.integrations.services.delivery import outbox_dispatch_events
from apps.integrations.services.endpoints import webhook_delivery_retry, webhook_endpoint_update
from apps.integrations.tasks import webhooks_sweep
from tests.conftest import closed_port
from tests.integrations.conftest import SCALE, TIMEOUT, sweep_until

pytestmark = [pytest.mark.django_db]

SCHEDULE = [1, 2, 4, 8, 16]
JITTER = 0.1
SLACK = 0.25  # the sweeper loop, the database, the receiver thread


def emit(subject="customer:DEMO001", n=1, event_type="customer.updated"):
    return event_emit(event_type, {"code": subject.split(":")[-1], "n": n}, subject=subject)


def attempts_of(delivery) -> list[WebhookAttempt]:
    return list(WebhookAttempt.objects.filter(delivery=delivery).order_by("number"))


def finished(delivery_id):
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    return delivery if delivery.status != WebhookDelivery.Status.PENDING else None


def gaps(attempts) -> list[float]:
    """Seconds from the end of each attempt to the start of the next."""
    return [
        (later.at - earlier.finished_at).total_seconds()
        for earlier, later in itertools.pairwise(attempts)
    ]


def assert_waited(gap: float, base: float):
    assert base * SCALE - 0.01 <= gap <= base * SCALE * (1 + JITTER) + SLACK, (gap, base)


def test_a_flaky_receiver_gets_the_event_exactly_once_signed_and_on_schedule(
    receiver, make_endpoint
):
    # given an endpoint whose receiver is down (connection refused) ...
    port = closed_port()
    endpoint, secret = make_endpoint(f"http://127.0.0.1:{port}/hooks")
    event = emit()
    sweep_until(lambda: WebhookAttempt.objects.filter(finished_at__isnull=False).exists())
    # ... then up: 429 with Retry-After, a 500, a timeout (it keeps the event), then 200
    server = receiver(
        script=[(429, {"Retry-After": "3"}), 500, ("sleep", TIMEOUT + 0.4)], port=port
    )

    # when the sweeper runs until the delivery is settled
    delivery = WebhookDelivery.objects.get(event=event, endpoint=endpoint)
    sweep_until(lambda: finished(delivery.pk))

    # then it is delivered, and the deduplicating receiver has the event once
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    requests = server.seen()
    assert len(requests) == 4  # 429, 500, timeout, 200 (the first never connected)
    assert {r.webhook_id for r in requests} == {delivery.webhook_id}
    assert list(server.processed()) == [delivery.webhook_id]
    server.verify_all(secret)  # raises on a bad signature or timestamp
    body = requests[-1].json
    assert body["type"] == "customer.updated"
    assert body["data"] == {"code": "DEMO001", "n": 1}
    assert body["timestamp"].endswith("Z")
    assert requests[-1].headers["content-type"] == "application/json"

    # and the attempt log matches the schedule
    attempts = attempts_of(delivery)
    assert [a.status_code for a in attempts] == [None, 429, 500, None, 200]
    assert attempts[0].error.startswith("connection failed")
    assert attempts[3].error == f"timed out after {TIMEOUT:g} s"
    assert attempts[3].duration_ms >= TIMEOUT * 1000 * 0.9
    assert attempts[1].response_excerpt == '{"error": "not now"}'
    waited = gaps(attempts)
    assert_waited(waited[0], 1)
    assert_waited(waited[1], 3)  # Retry-After: 3 beats the schedule's 2
    assert_waited(waited[2], 4)
    assert_waited(waited[3], 8)


def test_an_always_failing_receiver_dead_letters_after_six_attempts_then_manual_retry(
    receiver, make_endpoint
):
    server = receiver(default=500)
    _endpoint, secret = make_endpoint(server.url)
    event = emit()
    delivery = sweep_until(lambda: WebhookDelivery.objects.filter(event=event).first())
    started = time.monotonic()

    sweep_until(lambda: finished(delivery.pk))

    elapsed = time.monotonic() - started
    delivery.refresh_from_db()
    assert delivery.status == "dead" and delivery.dead_at is not None
    attempts = attempts_of(delivery)
    assert [a.status_code for a in attempts] == [500] * 6
    for gap, base in zip(gaps(attempts), SCHEDULE, strict=True):
        assert_waited(gap, base)
    assert sum(SCHEDULE) * SCALE <= elapsed <= sum(SCHEDULE) * SCALE * 1.1 + 2
    assert len(server.seen()) == 6 and server.processed() == {}

    # when the receiver recovers and the dead letter is retried by hand
    server.default = 200
    webhook_delivery_retry(delivery=delivery)
    sweep_until(lambda: finished(delivery.pk))

    # then it arrives once, with the same webhook-id, freshly signed
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.manual_retries == 1
    assert [r.webhook_id for r in server.seen()] == [delivery.webhook_id] * 7
    assert list(server.processed()) == [delivery.webhook_id]
    server.verify_all(secret)
    assert [a.status_code for a in attempts_of(delivery)] == [500] * 6 + [200]


def test_retry_webhooks_command_resends_dead_deliveries_of_one_endpoint(
    receiver, make_endpoint, settings
):
    settings.WEBHOOK_RETRY_TIME_SCALE = 0.01
    failing = receiver(default=500)
    other = receiver(default=500)
    endpoint, _secret = make_endpoint(failing.url)
    make_endpoint(other.url)
    emit()
    sweep_until(lambda: WebhookDelivery.objects.filter(status="dead").count() == 2, timeout=20)
    failing.default = 200

    out = io.StringIO()
    call_command(
        "retry_webhooks", "--endpoint", str(endpoint.pk), "--since", "2020-01-01", stdout=out
    )

    assert out.getvalue().strip().splitlines() == ["1 dead delivery sent again."]
    sweep_until(lambda: WebhookDelivery.objects.filter(status="delivered").exists())
    assert len(failing.processed()) == 1
    assert WebhookDelivery.objects.get(endpoint=endpoint).status == "delivered"
    assert WebhookDelivery.objects.exclude(endpoint=endpoint).get().status == "dead"


def test_a_deleted_endpoints_dead_deliveries_are_gone_with_it(
    receiver, make_endpoint, settings, staff_client
):
    """Nothing can be sent again to a deleted endpoint: its dead deliveries left the work
    queue at 1 for ever, the command called them "could not be retried" on every run, and
    the outbox kept their events."""
    from apps.core.work_queues import WORK_QUEUES
    from apps.integrations.services.delivery import outbox_prune
    from apps.integrations.services.endpoints import webhook_endpoint_delete

    settings.WEBHOOK_RETRY_TIME_SCALE = 0.01
    live, gone = receiver(default=500), receiver(default=500)
    make_endpoint(live.url)
    deleted, _secret = make_endpoint(gone.url)
    emit()
    sweep_until(lambda: WebhookDelivery.objects.filter(status="dead").count() == 2, timeout=20)
    webhook_endpoint_delete(endpoint=deleted)
    dead = WebhookDelivery.objects.filter(WORK_QUEUES["webhooks"].condition)
    assert dead.count() == 1
    page = staff_client("Super Admin").get(
        "/admin/integrations/webhookdelivery/?status__exact=dead"
    )
    assert page.status_code == 200 and page.context["cl"].result_count == 1
    live.default = 200

    out = io.StringIO()
    call_command("retry_webhooks", stdout=out)

    assert out.getvalue().strip().splitlines() == ["1 dead delivery sent again."]
    sweep_until(lambda: WebhookDelivery.objects.filter(status="delivered").exists())
    assert outbox_prune(older_than=timezone.now() + timedelta(hours=1)) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--endpoint", "999999"], "no webhook endpoint 999999"),
        (["--since", "yesterday"], "not an ISO 8601 date or time"),
        # well-formed but impossible: a one-line reason, not a traceback
        (["--since", "2026-13-01"], "not an ISO 8601 date or time"),
        (["--since", "2026-02-30"], "not an ISO 8601 date or time"),
        (["--since", "2026-01-01T25:00"], "not an ISO 8601 date or time"),
        (["--since", "9999-12-31T23:00:00-05:00"], "not an ISO 8601 date or time"),
        # an unset variable in a script must not mean "every dead delivery"
        (["--since", ""], "not an ISO 8601 date or time"),
    ],
)
def test_retry_webhooks_command_refuses_bad_arguments(db, args, message):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=message):
        call_command("retry_webhooks", *args)


def test_retry_webhooks_command_since_skips_older_dead_letters(receiver, make_endpoint, settings):
    settings.WEBHOOK_RETRY_TIME_SCALE = 0.01
    server = receiver(default=500)
    make_endpoint(server.url)
    emit()
    sweep_until(lambda: WebhookDelivery.objects.filter(status="dead").exists(), timeout=20)
    out = io.StringIO()
    later = (timezone.now() + timedelta(minutes=1)).isoformat()
    call_command("retry_webhooks", "--since", later, stdout=out)
    assert out.getvalue().strip() == "0 dead deliveries sent again."


def test_410_gone_disables_the_endpoint_and_kills_the_delivery(receiver, make_endpoint):
    server = receiver(default=410)
    endpoint, _secret = make_endpoint(server.url)
    event = emit()

    delivery = sweep_until(
        lambda: WebhookDelivery.objects.filter(event=event).exclude(status="pending").first()
    )

    endpoint.refresh_from_db()
    assert delivery.status == "dead" and len(server.seen()) == 1
    assert endpoint.is_active is False and "410" in endpoint.disabled_reason
    emit(n=2)
    sweep_until(lambda: OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == 0)
    assert WebhookDelivery.objects.count() == 1  # an inactive endpoint gets nothing new


def test_one_subject_is_delivered_in_order_while_others_go_ahead(receiver, make_endpoint):
    # the first event of customer:A fails twice; the second must wait for it
    failures = {1: 2}

    def decide(body):
        n = body["data"]["n"]
        if failures.get(n):
            failures[n] -= 1
            return 500
        return 200

    server = receiver(default=decide)
    make_endpoint(server.url)
    first = emit("customer:A", 1)
    second = emit("customer:A", 2)
    other = emit("customer:B", 3)

    sweep_until(lambda: WebhookDelivery.objects.filter(status="delivered").count() == 3)

    order = [(r.json["data"]["n"], r.status) for r in server.seen()]
    assert order[0] == (1, 500)
    delivered = [n for n, status in order if status == 200]
    assert delivered.index(1) < delivered.index(2)
    # customer:B did not wait for customer:A's retries
    assert delivered.index(3) < delivered.index(1)
    assert [e.pk for e in (first, second, other)] == sorted(e.pk for e in (first, second, other))


def test_a_dead_letter_stops_blocking_its_subject(receiver, make_endpoint, settings):
    settings.WEBHOOK_RETRY_TIME_SCALE = 0.01
    server = receiver(script=[500] * 6)
    make_endpoint(server.url)
    emit("customer:A", 1)
    emit("customer:A", 2)

    sweep_until(lambda: WebhookDelivery.objects.filter(status="delivered").exists(), timeout=20)

    assert WebhookDelivery.objects.get(event__data__n=1).status == "dead"
    assert [r.json["data"]["n"] for r in server.seen()] == [1] * 6 + [2]


def test_redirects_are_not_followed(receiver, make_endpoint):
    target = receiver()
    server = receiver(default=("redirect", target.url))
    make_endpoint(server.url)
    event = emit()

    sweep_until(lambda: WebhookAttempt.objects.filter(status_code=302).exists())

    assert target.seen() == []
    assert WebhookDelivery.objects.get(event=event).status == "pending"  # retried later


def test_the_address_is_checked_again_at_delivery_time(receiver, make_endpoint, settings):
    server = receiver()
    make_endpoint(server.url)  # saved while loopback was allowed
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    event = emit()

    sweep_until(lambda: WebhookAttempt.objects.filter(finished_at__isnull=False).exists())

    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None
    assert attempt.error == "refused: 127.0.0.1 is a loopback address."
    assert server.seen() == []
    assert WebhookDelivery.objects.get(event=event).status == "pending"


def test_an_event_goes_only_to_endpoints_subscribed_to_its_type(receiver, make_endpoint):
    stock = receiver()
    customers = receiver()
    make_endpoint(stock.url, event_types=["stock.changed"])
    make_endpoint(customers.url, event_types=["customer.updated", "customer.registered"])
    emit()

    sweep_until(lambda: WebhookDelivery.objects.filter(status="delivered").exists())

    assert stock.seen() == [] and len(customers.seen()) == 1


def test_an_internationalised_host_is_sent_to_in_its_ascii_form(receiver, make_endpoint):
    """A host name typed in letters beyond Latin-1 (``işyeri.com.tr``; here full-width
    ``localhost``, as the tests reach only loopback) was accepted, then made every send raise:
    the whole batch's answers were lost, and the other endpoints got the same event again and
    again. Its ASCII form goes into the Host header; the others are delivered once."""
    healthy, idn = receiver(), receiver()
    make_endpoint(healthy.url)
    make_endpoint(f"http://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54:{idn.port}/hooks")
    emit()

    sweep_until(lambda: WebhookDelivery.objects.filter(status="delivered").count() == 2)

    assert len(healthy.seen()) == 1 and len(idn.seen()) == 1
    assert idn.seen()[0].headers["host"] == f"localhost:{idn.port}"


def test_an_internationalised_host_is_read_as_browsers_read_it():
    """IDNA 2008 with UTS 46: ``faß.de`` is ``xn--fa-hia.de``; Python's IDNA 2003 codec made
    it ``fass.de``, another owner's domain, where the signed events would have gone."""
    from apps.integrations.ssrf import UnsafeTarget, check_url

    with pytest.raises(UnsafeTarget) as unresolved:  # no DNS in the tests: the name it asked
        check_url("http://fa\u00df.de/hooks")
    assert "xn--fa-hia.de" in str(unresolved.value) and "fass.de" not in str(unresolved.value)


def test_a_rolled_back_transaction_emits_nothing(receiver, make_endpoint):
    server = receiver()
    make_endpoint(server.url)

    with pytest.raises(RuntimeError), transaction.atomic():
        emit()
        raise RuntimeError("the change fails")

    assert OutboxEvent.objects.count() == 0
    webhooks_sweep()
    assert WebhookDelivery.objects.count() == 0 and server.seen() == []


@pytest.mark.django_db(transaction=True)
def test_an_event_is_delivered_when_its_transaction_commits(receiver, fast_webhooks):
    """No sweeper here: the commit itself starts the fan-out and the delivery."""
    from apps.integrations.services.endpoints import webhook_endpoint_create

    server = receiver()
    _endpoint, secret = webhook_endpoint_create(url=server.url, event_types=["*"])

    with transaction.atomic():
        event = emit()
        assert server.seen() == []  # nothing leaves before the commit

    assert len(server.seen()) == 1
    server.verify_all(secret)
    assert WebhookDelivery.objects.get(event=event).status == "delivered"


def test_a_disabled_endpoint_keeps_its_deliveries_until_it_is_active_again(receiver, make_endpoint):
    server = receiver()
    endpoint, _secret = make_endpoint(server.url)
    emit()
    outbox_dispatch_events()  # the delivery exists ...
    webhook_endpoint_update(endpoint=endpoint, data={"is_active": False})  # ... then: paused
    webhooks_sweep()
    assert server.seen() == []
    assert WebhookDelivery.objects.get().status == "pending"

    webhook_endpoint_update(endpoint=endpoint, data={"is_active": True})
    sweep_until(lambda: server.seen())
    assert WebhookDelivery.objects.get().status == "delivered"


def test_a_new_endpoint_gets_the_events_written_after_it_not_before(
    make_endpoint, settings, django_capture_on_commit_callbacks
):
    """Events written while no worker fanned them out (seeding, a broker outage) are not the
    history of an endpoint created afterwards: its subscription starts with it."""
    settings.WEBHOOK_DISPATCH_ON_COMMIT = False  # the fan-out below is the first
    with django_capture_on_commit_callbacks(execute=True):
        earlier = event_emit("customer.updated", {"code": "OLD"}, subject="customer:OLD")
    endpoint, _secret = make_endpoint(f"http://127.0.0.1:{closed_port()}/hooks")
    with django_capture_on_commit_callbacks(execute=True):
        later = event_emit("customer.updated", {"code": "NEW"}, subject="customer:NEW")

    outbox_dispatch_events()

    delivered = set(
        WebhookDelivery.objects.filter(endpoint=endpoint).values_list("event", flat=True)
    )
    assert delivered == {later.pk}
    assert OutboxEvent.objects.get(pk=earlier.pk).dispatched_at is not None


def test_a_revoked_or_expired_keys_endpoints_receive_nothing_more(receiver, make_endpoint):
    """A retired or leaked connector key stops opening the API and stops receiving data: its
    subscriptions get no new deliveries and their waiting ones are not sent; the admin's
    endpoints (no key) and a working key's go on."""
    from apps.accounts.services.api_keys import api_key_create, api_key_revoke

    revoked_key, _raw = api_key_create(name="retired")
    expired_key, _raw = api_key_create(name="expired")
    live_key, _raw = api_key_create(name="live")
    servers = {name: receiver() for name in ("revoked", "expired", "live", "admin")}
    make_endpoint(servers["revoked"].url, api_key=revoked_key)
    make_endpoint(servers["expired"].url, api_key=expired_key)
    make_endpoint(servers["live"].url, api_key=live_key)
    make_endpoint(servers["admin"].url)
    emit(subject="customer:A")
    outbox_dispatch_events()  # a delivery waits for each endpoint ...
    api_key_revoke(api_key=revoked_key)  # ... when the keys stop working
    expired_key.expires_at = timezone.now() - timedelta(seconds=1)
    expired_key.save(update_fields=["expires_at"])
    emit(subject="customer:B")

    sweep_until(lambda: len(servers["live"].seen()) == 2 and len(servers["admin"].seen()) == 2)
    webhooks_sweep()

    assert servers["revoked"].seen() == [] and servers["expired"].seen() == []
    waiting = WebhookDelivery.objects.filter(endpoint__api_key__in=[revoked_key, expired_key])
    assert sorted(waiting.values_list("status", flat=True)) == ["pending", "pending"]
