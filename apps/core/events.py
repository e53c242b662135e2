"""Outbound events: the registry of event types, and ``event_emit``, the one call a service
makes to publish one.

Each app declares its own event types in its ``events.py`` and registers them here from its
``apps.py`` ``ready()`` (``register_event_type``); ``event_types()`` is the whole catalogue (the
docs' event catalogue is generated from it). Core imports no domain app: it knows events only
as registered types and ``OutboxEvent`` rows.

``event_emit`` writes an ``OutboxEvent`` row in the caller's transaction, so the event exists
exactly when the change that caused it commits: a rolled-back transaction (a failed request)
publishes nothing. On commit, the ids of the events the transaction wrote are handed to the
dispatchers registered with ``outbox_dispatcher_register`` (the integrations app registers the
fan-out to its webhook endpoints, a Celery task); whatever that misses (Redis or the worker
down) is picked up by the integrations sweeper that celery beat runs every few seconds.

Coalescing: events emitted with ``coalesce=True`` in one transaction are merged, per type and
subject, into one event when they are fanned out: the type's ``merge`` joins their data in
order (``stock.changed`` and ``product.updated`` join their lists by SKU, a later item
replacing an earlier one; without ``merge`` the last data wins, e.g. ``customer.updated``).
So a transaction that changes the stock of 200 products in ten service calls delivers one
``stock.changed`` event. Each emit is one INSERT; nothing is rewritten while the transaction
runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection

from apps.core.models import OutboxEvent
from apps.core.transactions import after_commit, pending_after_commit

Merge = Callable[[dict, dict], dict]
Dispatcher = Callable[[list[int]], None]

ALL_EVENTS = "*"


def merge_by_key(field: str, key: str | tuple[str, ...]) -> Merge:
    """A ``merge``: the lists under ``field`` joined, an item of ``new`` replacing the item of
    ``old`` with the same ``key``; the other fields taken from ``new``."""
    keys = (key,) if isinstance(key, str) else key

    def merge(old: dict, new: dict) -> dict:
        items = {tuple(item.get(k) for k in keys): item for item in old.get(field, [])}
        for item in new.get(field, []):
            items[tuple(item.get(k) for k in keys)] = item
        return {**old, **new, field: list(items.values())}

    return merge


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    subject: str  # what the ordering key looks like
    example: dict[str, Any]
    subscribable: bool = True
    merge: Merge | None = None  # how coalesced events join (None: the last one wins)
    # the integration API scope a key needs to receive it on its endpoints: what the key may
    # read or write anyway (an order's data needs ``orders:read``); empty: any key
    scope: str = ""

    def coalesce(self, datas: list[dict]) -> dict:
        merged = datas[0]
        for data in datas[1:]:
            merged = self.merge(merged, data) if self.merge else data
        return merged


# --- the registry -------------------------------------------------------------------------------

EVENT_TYPES: dict[str, EventType] = {}


def register_event_type(event: EventType) -> None:
    """Add an app's event type to the catalogue; called from the app's ``ready()``."""
    EVENT_TYPES[event.name] = event


def event_types() -> dict[str, EventType]:
    """Every registered event type by name, in registration order (the event catalogue)."""
    return dict(EVENT_TYPES)


def subscribable_event_types() -> list[str]:
    return [name for name, event in EVENT_TYPES.items() if event.subscribable]


_dispatchers: list[Dispatcher] = []


def outbox_dispatcher_register(dispatcher: Dispatcher) -> None:
    """``dispatcher(event_ids)`` is called after each commit that wrote events (outside any
    transaction; an error is logged, not raised: the sweeper catches up)."""
    if dispatcher not in _dispatchers:
        _dispatchers.append(dispatcher)


# --- emitting -----------------------------------------------------------------------------------


class _TransactionEvents:
    """The events one transaction wrote. Registered once per transaction with
    ``transaction.on_commit``: called after the commit, it hands them to the dispatchers (one
    call per transaction, not one per event). ``group`` marks the events to coalesce."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.group = uuid.uuid4()

    def __call__(self) -> None:
        if not self.ids:
            return
        for dispatcher in _dispatchers:
            dispatcher(list(self.ids))


def _transaction_events() -> _TransactionEvents:
    existing = pending_after_commit(_TransactionEvents)
    if existing is not None:
        return existing
    events = _TransactionEvents()
    # after_commit: a broker that is down must not turn a committed request into an error
    # (the sweeper sends the events later). Outside a transaction it runs at once: see below.
    if connection.in_atomic_block:
        after_commit(events, name="outbox dispatch")
    return events


def event_emit(
    type: str,
    data: Mapping[str, Any],
    *,
    subject: str | None = None,
    customer=None,
    coalesce: bool = False,
    endpoint=None,
) -> OutboxEvent:
    """Publish an event of ``type`` with ``data`` (made plain JSON: decimals become strings,
    times ISO 8601) in the current transaction. ``subject`` is the ordering key (default: the
    type); ``customer`` links the event to a company; ``endpoint`` sends it to that endpoint
    only; ``coalesce`` merges it with the transaction's other events of the same type and
    subject."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}: register it with register_event_type")
    pending = _transaction_events()
    event = OutboxEvent.objects.create(
        type=type,
        subject=subject or type,
        data=_jsonable(data),
        customer=customer,
        endpoint=endpoint,
        group=pending.group if coalesce else None,
    )
    pending.ids.append(event.pk)
    if not connection.in_atomic_block:  # autocommit: the row is committed already
        after_commit(pending, name="outbox dispatch")  # runs now
    return event


@dataclass(frozen=True)
class Emit:
    """One event of ``event_emit_many``: its data, subject and company."""

    data: Mapping[str, Any]
    subject: str
    customer: Any = None


def event_emit_many(type: str, emits: Iterable[Emit]) -> list[OutboxEvent]:
    """``event_emit`` for a batch: one event per item of ``emits``, written with one INSERT
    in the current transaction (an ERP batch of 5,000 invoices, 5,000 events)."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}: register it with register_event_type")
    rows = [
        OutboxEvent(
            type=type, subject=emit.subject, data=_jsonable(emit.data), customer=emit.customer
        )
        for emit in emits
    ]
    if not rows:
        return []
    pending = _transaction_events()
    events = OutboxEvent.objects.bulk_create(rows)
    pending.ids.extend(event.pk for event in events)
    if not connection.in_atomic_block:
        after_commit(pending, name="outbox dispatch")
    return events


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _jsonable(value: Any) -> Any:
    """``data`` as plain JSON values (what the receiver will see, also when coalescing).
    Plain dicts, lists and values are walked without the ABC checks: an ERP batch's event
    lists thousands of items."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:
        return {
            k if type(k) is str else str(k): v if type(v) in _PLAIN else _jsonable(v)
            for k, v in value.items()
        }
    if kind is list:
        return [v if type(v) in _PLAIN else _jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text.replace("+00:00", "Z")
    return value
