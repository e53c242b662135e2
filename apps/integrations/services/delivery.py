"""Delivering events to webhook endpoints.

1. **Fan-out** (``outbox_dispatch_events``): each undispatched ``OutboxEvent`` becomes one
   ``WebhookDelivery`` per active endpoint subscribed to its type, with a new ``webhook_id``.
2. **Claim** (``delivery_claim``): a short transaction takes the delivery row with ``SELECT
   ... FOR UPDATE SKIP LOCKED`` and keeps it when it is pending, due, its endpoint active, and
   no earlier delivery of the same subject to the same endpoint is still pending (nor an
   earlier event of the subject still undispatched). It pushes ``next_attempt_at`` to the end
   of a lease (``WEBHOOK_LEASE_SECONDS``) and writes the attempt row: a worker that dies
   while sending leaves a delivery that is due again when the lease ends, and no two workers
   send the same attempt.
3. **Send** (``webhook_post``), outside any transaction: the URL is checked again (every
   resolved address) and the request goes to the checked address; POST JSON ``{type,
   timestamp, data}`` signed per Standard Webhooks, no redirects followed, a timeout of
   ``WEBHOOK_TIMEOUT_SECONDS``.
4. **Record** (``delivery_record``): the attempt's status code, duration, response excerpt or
   error; a 2xx is delivered; 410 Gone disables the endpoint and kills the delivery; otherwise
   the next attempt is due after 1, 2, 4, 8, 16 s (plus up to 10 % jitter; at least what
   ``Retry-After`` asks on 429 and 503), all times ``WEBHOOK_RETRY_TIME_SCALE``; the 6th
   failure makes it dead (a dead letter, for a manual retry).

The tasks (``apps/integrations/tasks.py``) chain these; ``webhooks_sweep`` (celery beat) picks up
whatever a lost task or a stopped worker left behind.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit
from uuid import uuid4

import urllib3
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from apps.core.events import EVENT_TYPES
from apps.core.models import OutboxEvent
from apps.integrations.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from apps.integrations.ssrf import UnsafeTarget, check_url

PENDING = WebhookDelivery.Status.PENDING
DELIVERED = WebhookDelivery.Status.DELIVERED
DEAD = WebhookDelivery.Status.DEAD

EXCERPT_CHARS = 500
ERROR_CHARS = 500
USER_AGENT = "b2b-platform-webhooks/1"
# a task that fires a few milliseconds before its delivery is due still claims it
CLAIM_TOLERANCE = timedelta(milliseconds=50)
INTERRUPTED = "interrupted: the worker stopped before the answer was recorded"


def new_webhook_id() -> str:
    return f"msg_{uuid4().hex}"


def max_attempts() -> int:
    return len(settings.WEBHOOK_RETRY_SCHEDULE) + 1


# --- fan-out ------------------------------------------------------------------------------------


def outbox_dispatch_events(
    *, event_ids: list[int] | None = None, older_than: datetime | None = None, limit: int = 500
) -> list[int]:
    """Fan out undispatched events (those of ``event_ids``, or every one created before
    ``older_than``, or all), oldest first, ``limit`` per transaction; events another worker is
    fanning out are skipped. Coalesced events are merged first. Returns the ids of the
    deliveries to start now: those first in line for their endpoint and subject. The others
    are started by the task that settles their predecessor (it looks for the next one after
    its own commit, and this looks after the fan-out's commit: one of the two sees the
    other)."""
    created: list[int] = []
    while True:
        with transaction.atomic():
            events = OutboxEvent.objects.filter(dispatched_at__isnull=True)
            if event_ids is not None:
                events = events.filter(pk__in=event_ids)
            if older_than is not None:
                events = events.filter(created_at__lte=older_than)
            batch = list(events.select_for_update(skip_locked=True).order_by("id")[:limit])
            if not batch:
                break
            now = timezone.now()
            carriers = _coalesce(batch, now=now)
            endpoints = list(WebhookEndpoint.objects.filter(is_active=True).order_by("id"))
            rows = [
                WebhookDelivery(
                    event=event,
                    endpoint=endpoint,
                    webhook_id=new_webhook_id(),
                    event_type=event.type,
                    subject=event.subject,
                    status=PENDING,
                    next_attempt_at=now,
                    created_at=now,
                )
                for event in carriers
                for endpoint in endpoints
                if (
                    endpoint.pk == event.endpoint_id
                    if event.endpoint_id
                    else endpoint.subscribes_to(event.type)
                )
            ]
            WebhookDelivery.objects.bulk_create(rows)
            OutboxEvent.objects.filter(pk__in=[event.pk for event in carriers]).update(
                dispatched_at=now
            )
        firsts: dict[tuple[int, str], int] = {}
        for row in rows:
            firsts.setdefault((row.endpoint_id, row.subject), row.pk)
        created.extend(_first_in_line(list(firsts.values())))
        if len(batch) < limit:
            break
    return created


_FIRST_IN_LINE = (
    f"SELECT d.id FROM {WebhookDelivery._meta.db_table} d WHERE d.id = ANY(%s) "  # noqa: S608
    f"AND NOT EXISTS (SELECT 1 FROM {WebhookDelivery._meta.db_table} o "
    "WHERE o.endpoint_id = d.endpoint_id AND o.subject = d.subject AND o.status = 'pending' "
    "AND o.event_id < d.event_id) ORDER BY d.id"
)


def _first_in_line(delivery_ids: list[int]) -> list[int]:
    if not delivery_ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_FIRST_IN_LINE, [delivery_ids])
        return [row[0] for row in cursor.fetchall()]


def _coalesce(batch: list[OutboxEvent], *, now: datetime) -> list[OutboxEvent]:
    """The events to deliver: the coalesced events of one transaction (``group``) with the
    same type and subject become the first of them, carrying their merged data; the others
    are marked dispatched, ``coalesced_into`` it."""
    groups = {event.group for event in batch if event.group is not None}
    if groups:
        seen = {event.pk for event in batch}
        batch = batch + [
            event
            for event in OutboxEvent.objects.filter(dispatched_at__isnull=True, group__in=groups)
            .select_for_update(skip_locked=True)
            .order_by("id")
            if event.pk not in seen
        ]
        batch.sort(key=lambda event: event.pk)
    together: dict[tuple, list[OutboxEvent]] = {}
    carriers: list[OutboxEvent] = []
    for event in batch:
        if event.group is None:
            carriers.append(event)
            continue
        key = (event.group, event.type, event.subject)
        if key not in together:
            together[key] = []
            carriers.append(event)
        together[key].append(event)
    for (_group, event_type, _subject), events in together.items():
        if len(events) == 1:
            continue
        carrier, others = events[0], events[1:]
        kind = EVENT_TYPES.get(event_type)
        datas = [event.data for event in events]
        carrier.data = kind.coalesce(datas) if kind else datas[-1]
        OutboxEvent.objects.filter(pk=carrier.pk).update(data=carrier.data)
        OutboxEvent.objects.filter(pk__in=[event.pk for event in others]).update(
            dispatched_at=now, coalesced_into=carrier
        )
    return carriers


# --- what may be sent now -----------------------------------------------------------------------

_DELIVERIES = WebhookDelivery._meta.db_table
_EVENTS = OutboxEvent._meta.db_table
_ENDPOINTS = WebhookEndpoint._meta.db_table
# The first pending delivery of each (endpoint, subject): the only ones the ordering rule lets
# go; those due by %s, of active endpoints.
_HEADS_DUE = (
    "SELECT h.id FROM (SELECT DISTINCT ON (endpoint_id, subject) id, endpoint_id, "  # noqa: S608
    f"next_attempt_at FROM {_DELIVERIES} WHERE status = 'pending' "
    "ORDER BY endpoint_id, subject, event_id) h "
    f"JOIN {_ENDPOINTS} e ON e.id = h.endpoint_id AND e.is_active AND NOT e.is_deleted "
    "WHERE h.next_attempt_at <= %s {and_endpoint} ORDER BY h.next_attempt_at LIMIT %s"
)


def deliveries_due(
    *, due_by: datetime, endpoint_id: int | None = None, limit: int = 1000
) -> list[int]:
    """Pending deliveries due by ``due_by`` that the ordering rule lets go now (the oldest
    pending one of each subject per endpoint), of active endpoints; oldest due first."""
    sql = _HEADS_DUE.format(and_endpoint="AND h.endpoint_id = %s" if endpoint_id else "")
    params: list = [due_by, endpoint_id, limit] if endpoint_id else [due_by, limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def deliveries_due_for_endpoint(*, endpoint_id: int, limit: int = 1000) -> list[int]:
    return deliveries_due(due_by=timezone.now(), endpoint_id=endpoint_id, limit=limit)


def delivery_next_in_line(*, endpoint_id: int, subject: str) -> int | None:
    """The oldest pending delivery of ``subject`` to the endpoint: the one an ordered
    delivery waits for."""
    return (
        WebhookDelivery.objects.filter(endpoint_id=endpoint_id, subject=subject, status=PENDING)
        .order_by("event_id")
        .values_list("pk", flat=True)
        .first()
    )


# --- claim, send, record ------------------------------------------------------------------------


_ATTEMPTS = WebhookAttempt._meta.db_table
# One statement (so one round trip, atomic in itself): lock the delivery by primary key unless
# another worker holds it (SKIP LOCKED), take it when it is pending and due, its endpoint
# active, and no earlier delivery of its subject to that endpoint is pending nor an earlier
# event of its subject waiting for its fan-out (each an index probe: integ_delivery_order,
# integ_outbox_undispatched); count the attempt and push the due time to the end of the lease;
# mark an attempt left unfinished by a dead worker; write the new attempt.
_CLAIM = (
    f"WITH claimed AS (UPDATE {_DELIVERIES} d SET attempt_count = d.attempt_count + 1, "  # noqa: S608
    "cycle_attempts = d.cycle_attempts + 1, next_attempt_at = %(lease_end)s "
    f"WHERE d.id = (SELECT id FROM {_DELIVERIES} WHERE id = %(id)s FOR UPDATE SKIP LOCKED) "
    "AND d.status = 'pending' AND d.next_attempt_at <= %(due_by)s "
    f"AND EXISTS (SELECT 1 FROM {_ENDPOINTS} e WHERE e.id = d.endpoint_id AND e.is_active "
    "AND NOT e.is_deleted) "
    f"AND NOT EXISTS (SELECT 1 FROM {_DELIVERIES} o WHERE o.endpoint_id = d.endpoint_id "
    "AND o.subject = d.subject AND o.status = 'pending' AND o.event_id < d.event_id) "
    f"AND NOT EXISTS (SELECT 1 FROM {_EVENTS} x WHERE x.dispatched_at IS NULL "
    "AND x.subject = d.subject AND x.id < d.event_id) "
    "RETURNING d.id, d.attempt_count, d.cycle_attempts, d.webhook_id, d.subject, "
    "d.event_type, d.endpoint_id, d.event_id), "
    f"interrupted AS (UPDATE {_ATTEMPTS} a SET finished_at = %(now)s, error = %(interrupted)s "
    "FROM claimed WHERE a.delivery_id = claimed.id AND a.finished_at IS NULL), "
    f"attempt AS (INSERT INTO {_ATTEMPTS} (delivery_id, number, at, response_excerpt, error) "
    "SELECT id, attempt_count, %(now)s, '', '' FROM claimed RETURNING id) "
    # what the attempt needs: the delivery, its endpoint's URL and secret, the event
    "SELECT attempt.id, c.attempt_count, c.cycle_attempts, c.webhook_id, c.subject, "
    "c.event_type, c.endpoint_id, e.url, e.secret, c.event_id, x.created_at, x.data "
    f"FROM attempt, claimed c JOIN {_ENDPOINTS} e ON e.id = c.endpoint_id "
    f"JOIN {_EVENTS} x ON x.id = c.event_id"
)


@dataclass
class Claim:
    delivery: WebhookDelivery
    attempt: WebhookAttempt


def delivery_claim(delivery_id: int) -> Claim | None:
    """Take the delivery for one attempt, or ``None`` when it is not to be sent now (not
    pending, not due, another worker has it, its endpoint is inactive, an earlier delivery of
    its subject is pending)."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM,
            {
                "id": delivery_id,
                "now": now,
                "due_by": now + CLAIM_TOLERANCE,
                "lease_end": now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS),
                "interrupted": INTERRUPTED,
            },
        )
        row = cursor.fetchone()
    if row is None:
        return None
    (attempt_id, number, cycle, webhook_id, subject, event_type, endpoint_id, url, secret) = row[:9]
    event_id, created_at, data = row[9:]
    delivery = WebhookDelivery(
        pk=delivery_id,
        attempt_count=number,
        cycle_attempts=cycle,
        webhook_id=webhook_id,
        subject=subject,
        event_type=event_type,
        endpoint=WebhookEndpoint(pk=endpoint_id, url=url, secret=secret),
        event=OutboxEvent(
            pk=event_id,
            type=event_type,
            subject=subject,
            created_at=created_at,
            data=json.loads(data) if isinstance(data, str | bytes) else data,
        ),
        status=PENDING,
    )
    attempt = WebhookAttempt(pk=attempt_id, delivery=delivery, number=number, at=now)
    return Claim(delivery=delivery, attempt=attempt)


@dataclass
class Result:
    status_code: int | None = None
    excerpt: str = ""
    error: str = ""
    retry_after: float | None = None
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def webhook_body(event: OutboxEvent) -> str:
    timestamp = event.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return json.dumps(
        {"type": event.type, "timestamp": timestamp, "data": event.data},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def webhook_headers(*, secret: str, webhook_id: str, body: str) -> dict[str, str]:
    """The Standard Webhooks headers, signed now (the timestamp is the time of this attempt,
    so a retry hours later still passes the receiver's freshness check)."""
    timestamp = datetime.fromtimestamp(int(time.time()), UTC)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, timestamp, body),
    }


def _clean_text(text: str, limit: int) -> str:
    return text.replace("\x00", "\ufffd")[:limit]


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _error_text(exc: BaseException, timeout: float) -> str:
    reason = getattr(exc, "reason", None)
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and reason is not None:
        exc = reason
    if isinstance(exc, urllib3.exceptions.NewConnectionError):  # (a ConnectTimeoutError too)
        return f"connection failed: {str(exc).rsplit(': ', 1)[-1]}"
    if isinstance(exc, urllib3.exceptions.TimeoutError | TimeoutError):
        return f"timed out after {timeout:g} s"
    return f"{type(exc).__name__}: {exc}"


def webhook_post(*, url: str, headers: dict[str, str], body: str) -> Result:
    """POST ``body`` to ``url``; never raises. The host is resolved and checked again and the
    connection made to the checked address (TLS still verifies the host name)."""
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    started = time.monotonic()
    try:
        host, port, addresses = check_url(url)
    except UnsafeTarget as exc:
        return Result(error=_clean_text(f"refused: {exc}", ERROR_CHARS))
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    address = str(addresses[0])
    default_port = 443 if parts.scheme == "https" else 80
    host_header = f"[{host}]" if ":" in host else host
    if port != default_port:
        host_header = f"{host_header}:{port}"
    pool_kwargs = {"timeout": urllib3.Timeout(total=timeout), "retries": False, "maxsize": 1}
    if parts.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address,
            port,
            server_hostname=host,
            assert_hostname=host,
            cert_reqs="CERT_REQUIRED",
            **pool_kwargs,
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, **pool_kwargs)
    try:
        response = pool.urlopen(
            "POST",
            path,
            body=body.encode(),
            headers={
                "Host": host_header,
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                **headers,
            },
            retries=False,
            redirect=False,
            assert_same_host=False,
            preload_content=False,
        )
        raw = response.read(EXCERPT_CHARS * 4)
        status = response.status
        retry_after = (
            _retry_after(response.headers.get("Retry-After")) if status in (429, 503) else None
        )
        response.release_conn()
        return Result(
            status_code=status,
            excerpt=_clean_text(raw.decode("utf-8", "replace"), EXCERPT_CHARS),
            error="" if 200 <= status < 300 else f"HTTP {status}",
            retry_after=retry_after,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        return Result(
            error=_clean_text(_error_text(exc, timeout), ERROR_CHARS),
            duration_ms=int((time.monotonic() - started) * 1000),
        )
    finally:
        pool.close()


def retry_delay(cycle_attempt: int, retry_after: float | None = None) -> float:
    """Seconds until the next attempt after failed attempt ``cycle_attempt`` (1-based)."""
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    base = float(schedule[min(cycle_attempt, len(schedule)) - 1])
    if retry_after is not None:
        base = max(base, min(retry_after, settings.WEBHOOK_RETRY_AFTER_MAX_SECONDS))
    jitter = base * random.uniform(0, settings.WEBHOOK_RETRY_JITTER)  # noqa: S311 - not crypto
    return (base + jitter) * settings.WEBHOOK_RETRY_TIME_SCALE


@dataclass
class Outcome:
    status: str
    next_attempt_at: datetime | None = None
    endpoint_disabled: bool = False


# One statement: the attempt's outcome, and the delivery's new state while it is still ours
# (pending, and no later claim after a lease ran out).
_RECORD = (
    f"WITH attempt AS (UPDATE {_ATTEMPTS} SET finished_at = %(now)s, "  # noqa: S608
    "status_code = %(status_code)s, duration_ms = %(duration_ms)s, "
    "response_excerpt = %(excerpt)s, error = %(error)s WHERE id = %(attempt)s) "
    f"UPDATE {_DELIVERIES} SET status = %(status)s, last_status_code = %(status_code)s, "
    "last_error = %(error)s, next_attempt_at = %(next_attempt_at)s, "
    "delivered_at = coalesce(%(delivered_at)s, delivered_at), "
    "dead_at = coalesce(%(dead_at)s, dead_at) "
    "WHERE id = %(delivery)s AND status = 'pending' AND attempt_count = %(number)s RETURNING id"
)


def delivery_record(claim: Claim, result: Result) -> Outcome | None:
    """Write the attempt and decide: delivered, dead, or due again later. ``None`` when the
    delivery was taken over meanwhile (a lease that ran out): the attempt is still logged."""
    now = timezone.now()
    delivery = claim.delivery
    outcome = Outcome(status=PENDING)
    if result.ok:
        outcome.status = DELIVERED
    elif result.status_code == 410 or delivery.cycle_attempts >= max_attempts():
        outcome.status = DEAD
        outcome.endpoint_disabled = result.status_code == 410
    else:
        delay = retry_delay(delivery.cycle_attempts, result.retry_after)
        outcome.next_attempt_at = now + timedelta(seconds=delay)
    with connection.cursor() as cursor:
        cursor.execute(
            _RECORD,
            {
                "now": now,
                "attempt": claim.attempt.pk,
                "status_code": result.status_code,
                "duration_ms": result.duration_ms,
                "excerpt": result.excerpt,
                "error": result.error,
                "status": outcome.status,
                "next_attempt_at": outcome.next_attempt_at,
                "delivered_at": now if outcome.status == DELIVERED else None,
                "dead_at": now if outcome.status == DEAD else None,
                "delivery": delivery.pk,
                "number": claim.attempt.number,
            },
        )
        if cursor.fetchone() is None:
            return None
    if outcome.endpoint_disabled:
        WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(
            is_active=False, disabled_reason="410 Gone from the receiver", updated_at=now
        )
    return outcome


def delivery_attempt(delivery_id: int) -> tuple[Claim, Outcome | None] | None:
    """Claim, send, record: one attempt of a delivery (``None`` when it was not to be sent)."""
    claim = delivery_claim(delivery_id)
    if claim is None:
        return None
    delivery = claim.delivery
    body = webhook_body(delivery.event)
    headers = webhook_headers(
        secret=delivery.endpoint.secret, webhook_id=delivery.webhook_id, body=body
    )
    result = webhook_post(url=delivery.endpoint.url, headers=headers, body=body)
    return claim, delivery_record(claim, result)


# --- housekeeping -------------------------------------------------------------------------------


def outbox_prune(*, older_than: datetime) -> int:
    """Delete events created before ``older_than`` that are fanned out and whose deliveries
    are all delivered (dead and pending ones stay). Returns how many events went."""
    unfinished = WebhookDelivery.objects.filter(event_id=OuterRef("pk")).filter(
        Q(status=PENDING) | Q(status=DEAD)
    )
    stale = (
        OutboxEvent.objects.filter(created_at__lt=older_than, dispatched_at__isnull=False)
        .exclude(Exists(unfinished))
        .values_list("pk", flat=True)
    )
    deleted = 0
    while True:
        ids = list(stale[:1000])
        if not ids:
            return deleted
        with transaction.atomic():
            WebhookAttempt.objects.filter(delivery__event_id__in=ids).delete()
            WebhookDelivery.objects.filter(event_id__in=ids).delete()
            OutboxEvent.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
