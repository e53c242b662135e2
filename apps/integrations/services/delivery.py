"""Delivering events to webhook endpoints.

1. **Fan-out** (``outbox_dispatch_events``): each undispatched ``OutboxEvent`` becomes one
   ``WebhookDelivery`` per active endpoint subscribed to its type, with a new ``webhook_id``.
2. **Claim** (``deliveries_claim``): one short transaction takes a batch of up to
   ``WEBHOOK_BATCH_SIZE`` deliveries with ``SELECT ... FOR UPDATE SKIP LOCKED``: those pending,
   due, of an active endpoint, and first in line for their subject at their endpoint (no
   earlier delivery of the same subject to the same endpoint still pending, nor an earlier
   event of the subject still undispatched), oldest due first; so a batch holds at most one
   delivery per (endpoint, subject), and the next one of a subject is claimed once this one
   is recorded. Each claimed delivery gets its attempt counted, its attempt row written and
   ``next_attempt_at`` pushed to the end of a lease (``WEBHOOK_LEASE_SECONDS``): a worker that
   dies while sending leaves deliveries that are due again when the lease ends, and no two
   workers send the same attempt. A claimed delivery the batch does not get to send in time
   is released (its attempt taken back) before its lease ends.
3. **Send** (``webhook_post``), outside any transaction, each endpoint's deliveries one after
   the other and different endpoints' side by side (``WEBHOOK_SEND_THREADS``): the URL is
   checked again (every resolved address; the DNS answer may be reused for
   ``WEBHOOK_DNS_CACHE_SECONDS``) and the request goes to the checked address, over this
   process's keep-alive connection to it; POST JSON ``{type, timestamp, data}`` (encoded once
   per event) signed per Standard Webhooks, no redirects followed, a timeout of
   ``WEBHOOK_TIMEOUT_SECONDS``.
4. **Record** (``deliveries_record``, one statement per batch): each attempt's status code,
   duration, response excerpt or error; a 2xx is delivered; 410 Gone disables the endpoint
   and kills the delivery; otherwise the next attempt is due after 1, 2, 4, 8, 16 s (plus up
   to 10 % jitter; at least what ``Retry-After`` asks on 429 and 503), all times
   ``WEBHOOK_RETRY_TIME_SCALE``; the 6th failure makes it dead (a dead letter, for a manual
   retry).

``deliveries_send_due`` repeats claim, send, record until nothing is due. The tasks
(``apps/integrations/tasks.py``) run it after each fan-out and when a retry is due;
``webhooks_sweep`` (celery beat) picks up whatever a lost task or a stopped worker left behind.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import urlsplit
from uuid import uuid4

import urllib3
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from apps.accounts.models import ApiKey
from apps.core.events import EVENT_TYPES
from apps.core.models import OutboxEvent
from apps.core.text import is_digits
from apps.integrations.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from apps.integrations.ssrf import UnsafeTarget, check_url

logger = logging.getLogger(__name__)

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
            # without their data: fanning out needs none (an ERP batch's event carries
            # thousands of items); only the events merged by ``_coalesce`` are read whole
            batch = list(
                events.defer("data").select_for_update(skip_locked=True).order_by("id")[:limit]
            )
            if not batch:
                break
            now = timezone.now()
            carriers = _coalesce(batch, now=now)
            endpoints = _still_live(list(live_endpoints().select_related("api_key").order_by("id")))
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
                    # a subscription starts with its endpoint: nothing from before it (events
                    # written while no worker fanned them out are not an endpoint's history);
                    # a coalesced event counts from its last part (it carries that change too)
                    else endpoint.receives(event.type)
                    and endpoint.created_at <= getattr(event, "last_at", event.created_at)
                )
            ]
            WebhookDelivery.objects.bulk_create(rows)
            OutboxEvent.objects.filter(pk__in=[event.pk for event in carriers]).update(
                dispatched_at=now
            )
        created.extend(row.pk for row in rows)
        if len(batch) < limit:
            break
    return created


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
            .defer("data")
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
    merged = [events for events in together.values() if len(events) > 1]
    # the data of the events to merge, in one query (the rows are locked already)
    datas_by_id = (
        dict(
            OutboxEvent.objects.filter(pk__in=[e.pk for events in merged for e in events])
            .values_list("pk", "data")
            .order_by()
        )
        if merged
        else {}
    )
    for events in merged:
        carrier, others = events[0], events[1:]
        carrier.last_at = max(event.created_at for event in events)
        kind = EVENT_TYPES.get(carrier.type)
        datas = [datas_by_id[event.pk] for event in events]
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
_KEYS = ApiKey._meta.db_table
# An endpoint ``e`` that is sent to: active, not deleted, and managed by no key (the admin's) or
# by a key that still works; a revoked or expired key's subscriptions receive nothing more
# (their deliveries wait: a key's data is not for whoever holds a key that no longer opens the
# API). The fan-out asks the same of the ORM (``live_endpoints``).
_LIVE = (
    "e.is_active AND NOT e.is_deleted AND (e.api_key_id IS NULL OR EXISTS (SELECT 1 "  # noqa: S608
    f"FROM {_KEYS} k WHERE k.id = e.api_key_id AND k.revoked_at IS NULL "
    "AND (k.expires_at IS NULL OR k.expires_at > now())))"
)


def _still_live(endpoints: list[WebhookEndpoint]) -> list[WebhookEndpoint]:
    """Those of ``endpoints`` still live, held with ``FOR KEY SHARE`` until the fan-out
    commits: an endpoint deleted meanwhile (its delete holds ``FOR UPDATE``, and marks its
    pending deliveries dead) is left out once the delete commits, instead of getting
    deliveries nobody would send nor ever mark dead. Key-share locks of two fan-outs do not
    wait for each other."""
    if not endpoints or connection.vendor != "postgresql":
        return endpoints
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {_ENDPOINTS} WHERE id = ANY(%s) AND is_active "  # noqa: S608
            "AND NOT is_deleted ORDER BY id FOR KEY SHARE",
            [[endpoint.pk for endpoint in endpoints]],
        )
        live = {row[0] for row in cursor.fetchall()}
    return [endpoint for endpoint in endpoints if endpoint.pk in live]


def live_endpoints():
    """The endpoints events are fanned out and sent to (``_LIVE``)."""
    return WebhookEndpoint.objects.filter(is_active=True).filter(
        Q(api_key__isnull=True) | Q(api_key__in=ApiKey.objects.usable())
    )


# The first pending delivery of each (endpoint, subject): the only ones the ordering rule lets
# go; those due by %s, of active endpoints.
_HEADS_DUE = (
    "SELECT h.id FROM (SELECT DISTINCT ON (endpoint_id, subject) id, endpoint_id, "  # noqa: S608
    f"next_attempt_at FROM {_DELIVERIES} WHERE status = 'pending' "
    "ORDER BY endpoint_id, subject, event_id) h "
    f"JOIN {_ENDPOINTS} e ON e.id = h.endpoint_id AND {_LIVE} "
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


# --- claim, send, record ------------------------------------------------------------------------


_ATTEMPTS = WebhookAttempt._meta.db_table
# One statement (one round trip, atomic in itself) claims a batch: among the first pending
# delivery of each (endpoint, subject) (integ_delivery_order), those due, of active endpoints,
# oldest due first, lock up to %(limit)s unless another worker holds them (SKIP LOCKED); keep
# each that is still pending and due with no earlier delivery of its subject to that endpoint
# pending nor an earlier event of its subject waiting for its fan-out; count the attempt and
# push the due time to the end of the lease; mark an attempt left unfinished by a dead worker;
# write the new attempts. At most one delivery per (endpoint, subject) is in a batch: the next
# one of a subject is claimed after this one is recorded.
_CLAIM_BATCH = (
    f"WITH heads AS (SELECT h.id, h.next_attempt_at FROM (SELECT DISTINCT ON "  # noqa: S608
    f"(endpoint_id, subject) id, endpoint_id, next_attempt_at FROM {_DELIVERIES} "
    "WHERE status = 'pending' {and_endpoint} ORDER BY endpoint_id, subject, event_id) h "
    f"JOIN {_ENDPOINTS} e ON e.id = h.endpoint_id AND {_LIVE} "
    "WHERE h.next_attempt_at <= %(due_by)s AND NOT h.endpoint_id = ANY(%(skip_endpoints)s)), "
    f"locked AS (SELECT d.id FROM {_DELIVERIES} d WHERE d.id IN (SELECT id FROM heads) "
    "ORDER BY d.next_attempt_at, d.id LIMIT %(limit)s FOR UPDATE SKIP LOCKED), "
    f"claimed AS (UPDATE {_DELIVERIES} d SET attempt_count = d.attempt_count + 1, "
    "cycle_attempts = d.cycle_attempts + 1, next_attempt_at = %(lease_end)s FROM locked "
    "WHERE d.id = locked.id AND d.status = 'pending' AND d.next_attempt_at <= %(due_by)s "
    f"AND EXISTS (SELECT 1 FROM {_ENDPOINTS} e WHERE e.id = d.endpoint_id AND {_LIVE}) "
    f"AND NOT EXISTS (SELECT 1 FROM {_DELIVERIES} o WHERE o.endpoint_id = d.endpoint_id "
    "AND o.subject = d.subject AND o.status = 'pending' AND o.event_id < d.event_id) "
    f"AND NOT EXISTS (SELECT 1 FROM {_EVENTS} x WHERE x.dispatched_at IS NULL "
    "AND x.subject = d.subject AND x.id < d.event_id) "
    "RETURNING d.id, d.attempt_count, d.cycle_attempts, d.webhook_id, d.subject, "
    "d.event_type, d.endpoint_id, d.event_id), "
    f"interrupted AS (UPDATE {_ATTEMPTS} a SET finished_at = %(now)s, error = %(interrupted)s "
    "FROM claimed WHERE a.delivery_id = claimed.id AND a.finished_at IS NULL), "
    f"attempt AS (INSERT INTO {_ATTEMPTS} (delivery_id, number, at, response_excerpt, error) "
    "SELECT id, attempt_count, %(now)s, '', '' FROM claimed RETURNING id, delivery_id) "
    # what the attempts need: the delivery, its endpoint's URL and secret, the event (its data
    # as JSON text, put into the body as it is)
    "SELECT a.id, c.id, c.attempt_count, c.cycle_attempts, c.webhook_id, c.subject, "
    "c.event_type, c.endpoint_id, e.url, e.secret, c.event_id, x.created_at, x.data::text "
    f"FROM attempt a JOIN claimed c ON c.id = a.delivery_id "
    f"JOIN {_ENDPOINTS} e ON e.id = c.endpoint_id JOIN {_EVENTS} x ON x.id = c.event_id "
    "ORDER BY c.endpoint_id, c.event_id"
)


# What a claimed attempt needs, as plain objects (model instances cost more to build than the
# rest of a delivery's work in this process).
@dataclass(slots=True)
class ClaimedEndpoint:
    pk: int
    url: str
    secret: str


@dataclass(slots=True)
class ClaimedEvent:
    pk: int
    type: str
    subject: str
    created_at: datetime
    data: object = None


@dataclass(slots=True)
class ClaimedDelivery:
    pk: int
    attempt_count: int
    cycle_attempts: int
    webhook_id: str
    subject: str
    event_type: str
    endpoint_id: int
    endpoint: ClaimedEndpoint
    event: ClaimedEvent
    status: str = PENDING


@dataclass(slots=True)
class ClaimedAttempt:
    pk: int
    number: int
    at: datetime


@dataclass(slots=True)
class Claim:
    delivery: ClaimedDelivery
    attempt: ClaimedAttempt
    data_json: str = "null"  # the event's data as JSON text


def deliveries_claim(
    *,
    limit: int | None = None,
    endpoint_id: int | None = None,
    skip_endpoints: list[int] | tuple[int, ...] = (),
) -> list[Claim]:
    """Take up to ``limit`` (``WEBHOOK_BATCH_SIZE``) due deliveries for one attempt each, in one
    transaction: the first pending one of each subject per endpoint, oldest due first, of
    active endpoints (``endpoint_id``: of that one only; not of ``skip_endpoints``), none that
    another worker holds. Each gets its attempt row and a lease (module docstring)."""
    now = timezone.now()
    sql = _CLAIM_BATCH.replace(
        "{and_endpoint}", "AND endpoint_id = %(endpoint)s" if endpoint_id else ""
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "now": now,
                "due_by": now + CLAIM_TOLERANCE,
                "lease_end": now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS),
                "interrupted": INTERRUPTED,
                "limit": limit or settings.WEBHOOK_BATCH_SIZE,
                "endpoint": endpoint_id,
                "skip_endpoints": list(skip_endpoints),
            },
        )
        rows = cursor.fetchall()
    claims = []
    for row in rows:
        (attempt_id, delivery_id, number, cycle, webhook_id, subject, event_type) = row[:7]
        endpoint_id_, url, secret, event_id, created_at, data_json = row[7:]
        delivery = ClaimedDelivery(
            pk=delivery_id,
            attempt_count=number,
            cycle_attempts=cycle,
            webhook_id=webhook_id,
            subject=subject,
            event_type=event_type,
            endpoint_id=endpoint_id_,
            endpoint=ClaimedEndpoint(pk=endpoint_id_, url=url, secret=secret),
            event=ClaimedEvent(
                pk=event_id, type=event_type, subject=subject, created_at=created_at
            ),
        )
        attempt = ClaimedAttempt(pk=attempt_id, number=number, at=now)
        claims.append(Claim(delivery=delivery, attempt=attempt, data_json=data_json))
    return claims


@dataclass
class Result:
    status_code: int | None = None
    excerpt: str = ""
    error: str = ""
    retry_after: float | None = None
    duration_ms: int = 0
    no_answer: bool = False  # connection failed or timed out (not: refused by the SSRF check)

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def webhook_body(event: OutboxEvent | ClaimedEvent, data_json: str | None = None) -> str:
    """``{"type", "timestamp", "data"}`` as compact JSON; ``data_json`` (the stored JSON text
    of the data) is put in as it is, instead of encoding ``event.data`` again."""
    timestamp = event.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if data_json is None:
        data_json = json.dumps(event.data, ensure_ascii=False, separators=(",", ":"))
    return f'{{"type":{json.dumps(event.type)},"timestamp":"{timestamp}","data":{data_json}}}'


@lru_cache(maxsize=256)
def _signer(secret: str) -> Webhook:
    """One signing key object per secret (a rotated secret is another key)."""
    return Webhook(secret)


def webhook_headers(*, secret: str, webhook_id: str, body: str) -> dict[str, str]:
    """The Standard Webhooks headers, signed now (the timestamp is the time of this attempt,
    so a retry hours later still passes the receiver's freshness check)."""
    timestamp = datetime.fromtimestamp(int(time.time()), UTC)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": _signer(secret).sign(webhook_id, timestamp, body),
    }


def _clean_text(text: str, limit: int) -> str:
    return text.replace("\x00", "\ufffd")[:limit]


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if is_digits(value):
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


class _Pools:
    """This process's keep-alive connections: one urllib3 pool (one idle connection) per
    (scheme, host, port, checked address). A pool idle for ``WEBHOOK_KEEPALIVE_SECONDS`` is
    closed, not used again (the receiver may have dropped the connection meanwhile; an
    address the host no longer resolves to is left behind); beyond ``MAX`` the least
    recently used are closed. A forked child starts with none."""

    MAX = 64

    def __init__(self) -> None:
        # key -> [pool, last used, has answered]
        self.pools: OrderedDict[tuple, list] = OrderedDict()
        self.lock = threading.Lock()  # a batch's endpoints are sent from threads

    def get(
        self, scheme: str, host: str, port: int, address: str, *, fresh: bool = False
    ) -> tuple[urllib3.HTTPConnectionPool, bool]:
        """The pool, and whether it has answered before (its connection may be reused);
        ``fresh``: a new pool (the old one's connection failed). Two threads may share a pool
        (two endpoints on one host): each then has its own connection, one kept after."""
        with self.lock:
            return self._get(scheme, host, port, address, fresh=fresh)

    def _get(
        self, scheme: str, host: str, port: int, address: str, *, fresh: bool
    ) -> tuple[urllib3.HTTPConnectionPool, bool]:
        key = (scheme, host, port, address)
        now = time.monotonic()
        entry = self.pools.pop(key, None)
        if entry is not None and (fresh or now - entry[1] > settings.WEBHOOK_KEEPALIVE_SECONDS):
            entry[0].close()
            entry = None
        if entry is None:
            entry = [self._new(scheme, host, port, address), now, False]
        entry[1] = now
        # the least recently used first: close those idle too long, and any beyond MAX
        while self.pools and (
            len(self.pools) >= self.MAX
            or now - next(iter(self.pools.values()))[1] > settings.WEBHOOK_KEEPALIVE_SECONDS
        ):
            self.pools.popitem(last=False)[1][0].close()
        self.pools[key] = entry
        return entry[0], entry[2]

    def answered(self, scheme: str, host: str, port: int, address: str) -> None:
        with self.lock:
            entry = self.pools.get((scheme, host, port, address))
            if entry is not None:
                entry[2] = True

    @staticmethod
    def _new(scheme: str, host: str, port: int, address: str) -> urllib3.HTTPConnectionPool:
        kwargs = {"retries": False, "maxsize": 1, "block": False}
        if scheme == "https":
            return urllib3.HTTPSConnectionPool(
                address,
                port,
                server_hostname=host,
                assert_hostname=host,
                cert_reqs="CERT_REQUIRED",
                **kwargs,
            )
        return urllib3.HTTPConnectionPool(address, port, **kwargs)

    def clear(self) -> None:
        with self.lock:
            for pool, _used, _answered in self.pools.values():
                pool.close()
            self.pools.clear()

    def forget(self) -> None:
        """After a fork: the parent's sockets are not ours to use (nor its lock's state)."""
        self.pools = OrderedDict()
        self.lock = threading.Lock()


_POOLS = _Pools()
os.register_at_fork(after_in_child=_POOLS.forget)


def connections_close() -> None:
    """Close this process's webhook connections (tests; a worker shutting down)."""
    _POOLS.clear()


def webhook_post(*, url: str, headers: dict[str, str], body: str) -> Result:
    """POST ``body`` to ``url``; never raises. The host is resolved (or its answer taken from
    this process's cache, at most ``WEBHOOK_DNS_CACHE_SECONDS`` old) and every address checked
    again; the request goes to the checked address (TLS still verifies the host name), over
    this process's keep-alive connection to it when there is one."""
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    started = time.monotonic()
    try:
        host, port, addresses = check_url(url, resolve_ttl=settings.WEBHOOK_DNS_CACHE_SECONDS)
    except UnsafeTarget as exc:
        return Result(error=_clean_text(f"refused: {exc}", ERROR_CHARS))
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    scheme = parts.scheme.lower()
    default_port = 443 if scheme == "https" else 80
    host_header = f"[{host}]" if ":" in host else host
    if port != default_port:
        host_header = f"{host_header}:{port}"
    target = (scheme, host, port, str(addresses[0]))
    pool, reused = _POOLS.get(*target)
    request = {
        "body": body.encode(),
        "headers": {
            "Host": host_header,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **headers,
        },
        "retries": False,
        "redirect": False,
        "assert_same_host": False,
        "preload_content": False,
        "timeout": urllib3.Timeout(total=timeout),
    }
    try:
        try:
            response = pool.urlopen("POST", path, **request)
        except urllib3.exceptions.ProtocolError:
            if not reused:
                raise
            # a kept-alive connection the receiver closed meanwhile (reset, or closed without
            # an answer): once more on a new one (the receiver may then see the event twice,
            # with its webhook-id)
            pool, _reused = _POOLS.get(*target, fresh=True)
            response = pool.urlopen("POST", path, **request)
        raw = response.read(EXCERPT_CHARS * 4)
        status = response.status
        retry_after = (
            _retry_after(response.headers.get("Retry-After")) if status in (429, 503) else None
        )
        if response.read(1):  # more than we keep: this connection cannot be used again
            response.close()
        response.release_conn()
        _POOLS.answered(*target)
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
            no_answer=True,
        )
    except Exception as exc:  # one endpoint's failure is its attempt's, never the batch's
        # anything else (a header that cannot be encoded, a library's surprise) fails this
        # attempt alone: raised, it lost the answers of the whole batch, whose deliveries were
        # then sent again, and again
        logger.exception("webhook to %s failed", _clean_text(url, ERROR_CHARS))
        return Result(
            error=_clean_text(f"{type(exc).__name__}: {exc}", ERROR_CHARS),
            duration_ms=int((time.monotonic() - started) * 1000),
        )


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


# One statement for a batch: each attempt's outcome, and each delivery's new state while it is
# still ours (pending, and no later claim after a lease ran out).
_RECORD = (
    "WITH v AS (SELECT * FROM unnest(%(attempt)s::bigint[], %(delivery)s::bigint[], "  # noqa: S608
    "%(number)s::int[], %(status_code)s::int[], %(duration_ms)s::int[], %(excerpt)s::text[], "
    "%(error)s::text[], %(status)s::text[], %(next_attempt_at)s::timestamptz[]) AS v(attempt, "
    "delivery, number, status_code, duration_ms, excerpt, error, status, next_attempt_at)), "
    f"attempt AS (UPDATE {_ATTEMPTS} a SET finished_at = %(now)s, status_code = v.status_code, "
    "duration_ms = v.duration_ms, response_excerpt = v.excerpt, error = v.error FROM v "
    "WHERE a.id = v.attempt) "
    f"UPDATE {_DELIVERIES} d SET status = v.status, last_status_code = v.status_code, "
    "last_error = v.error, next_attempt_at = v.next_attempt_at, "
    "delivered_at = CASE WHEN v.status = 'delivered' THEN %(now)s ELSE d.delivered_at END, "
    "dead_at = CASE WHEN v.status = 'dead' THEN %(now)s ELSE d.dead_at END "
    "FROM v WHERE d.id = v.delivery AND d.status = 'pending' AND d.attempt_count = v.number "
    "RETURNING d.id"
)


def _outcome(claim: Claim, result: Result, now: datetime) -> Outcome:
    delivery = claim.delivery
    if result.ok:
        return Outcome(status=DELIVERED)
    if result.status_code == 410 or delivery.cycle_attempts >= max_attempts():
        return Outcome(status=DEAD, endpoint_disabled=result.status_code == 410)
    delay = retry_delay(delivery.cycle_attempts, result.retry_after)
    return Outcome(status=PENDING, next_attempt_at=now + timedelta(seconds=delay))


def deliveries_record(done: list[tuple[Claim, Result]]) -> list[Outcome | None]:
    """Write the attempts and decide each: delivered, dead, or due again later; one statement
    for the batch. ``None`` for a delivery taken over meanwhile (a lease that ran out): its
    attempt is still logged."""
    if not done:
        return []
    now = timezone.now()
    outcomes = [_outcome(claim, result, now) for claim, result in done]
    with connection.cursor() as cursor:
        cursor.execute(
            _RECORD,
            {
                "now": now,
                "attempt": [claim.attempt.pk for claim, _r in done],
                "delivery": [claim.delivery.pk for claim, _r in done],
                "number": [claim.attempt.number for claim, _r in done],
                "status_code": [result.status_code for _c, result in done],
                "duration_ms": [result.duration_ms for _c, result in done],
                "excerpt": [result.excerpt for _c, result in done],
                "error": [result.error for _c, result in done],
                "status": [str(outcome.status) for outcome in outcomes],
                "next_attempt_at": [outcome.next_attempt_at for outcome in outcomes],
            },
        )
        rows = cursor.fetchall()
    kept = {row[0] for row in rows}
    disabled = {
        claim.delivery.endpoint_id
        for (claim, _r), outcome in zip(done, outcomes, strict=True)
        if outcome.endpoint_disabled and claim.delivery.pk in kept
    }
    if disabled:
        WebhookEndpoint.objects.filter(pk__in=disabled).update(
            is_active=False, disabled_reason="410 Gone from the receiver", updated_at=now
        )
    return [
        outcome if claim.delivery.pk in kept else None
        for (claim, _r), outcome in zip(done, outcomes, strict=True)
    ]


def delivery_record(claim: Claim, result: Result) -> Outcome | None:
    """``deliveries_record`` for one attempt."""
    return deliveries_record([(claim, result)])[0]


# Claimed but not sent (the batch ran out of lease time, or its endpoint stopped answering):
# the attempt is taken back (its row deleted, the counts restored) and the delivery is due at
# the given time; only while it is still ours.
_RELEASE = (
    "WITH v AS (SELECT * FROM unnest(%(attempt)s::bigint[], %(delivery)s::bigint[], "  # noqa: S608
    "%(number)s::int[], %(due)s::timestamptz[]) AS v(attempt, delivery, number, due)), "
    f"released AS (UPDATE {_DELIVERIES} d SET attempt_count = d.attempt_count - 1, "
    "cycle_attempts = d.cycle_attempts - 1, next_attempt_at = v.due FROM v "
    "WHERE d.id = v.delivery AND d.status = 'pending' AND d.attempt_count = v.number "
    "RETURNING d.id) "
    f"DELETE FROM {_ATTEMPTS} a USING v, released r WHERE a.id = v.attempt "
    "AND r.id = v.delivery"
)


def deliveries_release(claims: list[tuple[Claim, datetime]]) -> None:
    if not claims:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            _RELEASE,
            {
                "attempt": [claim.attempt.pk for claim, _due in claims],
                "delivery": [claim.delivery.pk for claim, _due in claims],
                "number": [claim.attempt.number for claim, _due in claims],
                "due": [due for _claim, due in claims],
            },
        )


@dataclass
class Batch:
    sent: list[tuple[Claim, Result, Outcome | None]] = field(default_factory=list)
    released: int = 0
    failing_endpoints: set[int] = field(default_factory=set)

    @property
    def retry_at(self) -> list[datetime]:
        return [o.next_attempt_at for _c, _r, o in self.sent if o and o.next_attempt_at]


def deliveries_send(claims: list[Claim]) -> Batch:
    """Send claimed deliveries over this process's connections, then record them all (one
    statement). Each endpoint's deliveries go one after the other, in the order claimed;
    different endpoints' go side by side (``WEBHOOK_SEND_THREADS`` at a time), so a receiver
    that does not answer holds up its own deliveries only. Each event's body is encoded once
    for all its endpoints; each delivery is signed with its own webhook-id. A delivery whose
    lease could run out before its answer (``WEBHOOK_LEASE_SECONDS`` after the claim, less one
    timeout and a second) is not sent but released, due at once (an endpoint's first one is
    always sent); when an endpoint does not answer (connection failed, timeout), its other
    deliveries of the batch are released too, due when that one's next attempt is (no attempt
    counted)."""
    batch = Batch()
    claimed_at = time.monotonic()
    bodies: dict[int, str] = {}
    lines: dict[int, list[tuple[int, Claim, dict[str, str], str]]] = {}
    for position, claim in enumerate(claims):
        delivery = claim.delivery
        event = delivery.event
        body = bodies.get(event.pk)
        if body is None:
            body = bodies[event.pk] = webhook_body(event, claim.data_json)
        headers = webhook_headers(
            secret=delivery.endpoint.secret, webhook_id=delivery.webhook_id, body=body
        )
        lines.setdefault(delivery.endpoint_id, []).append((position, claim, headers, body))
    if len(lines) > 1:
        threads = max(1, min(len(lines), settings.WEBHOOK_SEND_THREADS))
        with ThreadPoolExecutor(threads, thread_name_prefix="webhook") as pool:
            sent = list(pool.map(lambda line: _send_line(line, claimed_at), lines.values()))
    else:
        sent = [_send_line(line, claimed_at) for line in lines.values()]
    done = sorted((item for line in sent for item in line.done), key=lambda item: item[0])
    done_claims = [(claim, result) for _position, claim, result in done]
    outcomes = deliveries_record(done_claims)
    batch.sent = [
        (claim, result, outcome)
        for (claim, result), outcome in zip(done_claims, outcomes, strict=True)
    ]
    released: list[tuple[Claim, datetime]] = []
    waits = {
        claim.delivery.endpoint_id: outcome.next_attempt_at
        for claim, _result, outcome in batch.sent
        if outcome is not None and outcome.next_attempt_at is not None
    }
    now = timezone.now()
    for line in sent:
        released += [(claim, now) for claim in line.late]
        released += [(c, waits.get(c.delivery.endpoint_id) or now) for c in line.held]
        if line.no_answer:
            batch.failing_endpoints.add(line.endpoint_id)
    deliveries_release(released)
    batch.released = len(released)
    return batch


@dataclass
class _Line:
    """What one endpoint's deliveries of a batch came to."""

    endpoint_id: int
    done: list[tuple[int, Claim, Result]] = field(default_factory=list)
    late: list[Claim] = field(default_factory=list)  # the lease could run out: not sent
    held: list[Claim] = field(default_factory=list)  # the endpoint stopped answering
    no_answer: bool = False


def _send_line(line: list[tuple[int, Claim, dict[str, str], str]], claimed_at: float) -> _Line:
    """Send one endpoint's deliveries in order (no database: a thread may run it)."""
    budget = settings.WEBHOOK_LEASE_SECONDS - settings.WEBHOOK_TIMEOUT_SECONDS - 1.0
    sent = _Line(endpoint_id=line[0][1].delivery.endpoint_id)
    for position, claim, headers, body in line:
        if sent.no_answer:
            sent.held.append(claim)
            continue
        if sent.done and time.monotonic() - claimed_at > budget:  # (the first one always goes)
            sent.late.append(claim)
            continue
        result = webhook_post(url=claim.delivery.endpoint.url, headers=headers, body=body)
        sent.no_answer = result.no_answer
        sent.done.append((position, claim, result))
    return sent


@dataclass
class Pumped:
    sent: int = 0
    delivered: int = 0
    retry_at: list[datetime] = field(default_factory=list)
    more: bool = False  # stopped for time with deliveries still due


def deliveries_send_due(
    *,
    seconds: float | None = None,
    endpoint_id: int | None = None,
    limit: int | None = None,
    on_full_batch: Callable[[], object] | None = None,
) -> Pumped:
    """Claim, send, record batches until nothing is due (or ``seconds`` have passed: then
    ``more``). An endpoint that did not answer is left out of the following batches. It
    claims again after a batch that was full or settled a delivery (whose successor of the
    same subject is then due: this claim, after the record's commit, or the claim after the
    successor's fan-out commits sees it); a batch of failures only ends it (their retries
    are queued for their time). ``on_full_batch`` is called after a full claim (more may be
    due: the tasks queue a helper)."""
    started = time.monotonic()
    pumped = Pumped()
    skip: set[int] = set()
    if connection.vendor != "postgresql":
        # the claim is one PostgreSQL statement (SKIP LOCKED, arrays): the zero-setup demo on
        # SQLite fans events out but sends nothing (docs/webhooks.md says so)
        if WebhookDelivery.objects.filter(status=PENDING).exists():
            logger.warning("webhook deliveries are sent only on PostgreSQL (DATABASE_URL)")
        return pumped
    while True:
        claims = deliveries_claim(limit=limit, endpoint_id=endpoint_id, skip_endpoints=sorted(skip))
        if not claims:
            return pumped
        full = len(claims) >= (limit or settings.WEBHOOK_BATCH_SIZE)
        if full and on_full_batch is not None:
            on_full_batch()
        batch = deliveries_send(claims)
        skip |= batch.failing_endpoints
        pumped.sent += len(batch.sent)
        pumped.delivered += sum(1 for _c, _r, o in batch.sent if o and o.status == DELIVERED)
        pumped.retry_at += batch.retry_at
        settled = any(o is not None and o.status != PENDING for _c, _r, o in batch.sent)
        if not (full or settled or batch.released):
            return pumped
        if seconds is not None and time.monotonic() - started > seconds:
            pumped.more = True
            return pumped


# --- housekeeping -------------------------------------------------------------------------------


def outbox_prune(*, older_than: datetime) -> int:
    """Delete events created before ``older_than`` that are fanned out and whose deliveries
    are all delivered (dead and pending ones stay, but for a deleted endpoint's dead ones,
    which nobody can send again). Returns how many events went."""
    unfinished = WebhookDelivery.objects.filter(event_id=OuterRef("pk")).filter(
        Q(status=PENDING) | Q(status=DEAD, endpoint__is_deleted=False)
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
