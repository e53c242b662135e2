"""Outbound events: the catalogue of event types, and ``event_emit``, the one call a service
makes to publish one.

``event_emit`` writes an ``OutboxEvent`` row in the caller's transaction, so the event exists
exactly when the change that caused it commits: a rolled-back transaction (a failed request)
publishes nothing. On commit, the events the transaction wrote are fanned out to the subscribed
webhook endpoints by a Celery task (``integrations.outbox_dispatch``); whatever that misses
(Redis or the worker down) is picked up by the sweeper that celery beat runs every few seconds.

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

from django.conf import settings
from django.db import connection

from apps.core.transactions import after_commit, pending_after_commit
from apps.integrations.models import OutboxEvent

Merge = Callable[[dict, dict], dict]


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


def _price_merge(old: dict, new: dict) -> dict:
    prices = merge_by_key("prices", ("sku", "price_list", "min_quantity"))(old, new)
    specials = merge_by_key("special_prices", ("customer_code", "sku", "min_quantity"))(old, new)
    return {**prices, "special_prices": specials["special_prices"]}


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    subject: str  # what the ordering key looks like
    example: dict[str, Any]
    subscribable: bool = True
    merge: Merge | None = None  # how coalesced events join (None: the last one wins)

    def coalesce(self, datas: list[dict]) -> dict:
        merged = datas[0]
        for data in datas[1:]:
            merged = self.merge(merged, data) if self.merge else data
        return merged


def _customer_example() -> dict[str, Any]:
    return {
        "code": "DEMO001",
        "name": "Anadolu Elektrik",
        "tax_number": "4540536920",
        "tax_office": "Kadıköy",
        "tier": "A",
        "status": "active",
        "credit_limit": "250000.00",
        "payment_terms_days": 30,
        "email": "owner@anadolu.example",
        "phone": "+90 216 111 22 33",
        "approved_at": "2026-11-25T09:30:00Z",
        "source": "admin",
    }


EVENT_TYPES: dict[str, EventType] = {
    event.name: event
    for event in (
        EventType(
            "customer.registered",
            "A self-registered company was approved by staff (it can now log in and order).",
            "customer:<code>",
            _customer_example(),
        ),
        EventType(
            "customer.updated",
            "A customer changed: ERP upsert (also a new customer from the ERP), an edit in the "
            "back office, a credit limit, a suspension or reactivation. `data` is the customer "
            "as it is now; `source` is `erp` or `admin`.",
            "customer:<code>",
            _customer_example() | {"source": "erp"},
        ),
        EventType(
            "product.updated",
            "Products were created or changed: one event per ERP products batch (listing every "
            "product it created or changed), one per product saved in the back office, "
            "activated, deactivated or deleted. `change` is `created`, `updated` or `deleted`.",
            "product",
            {
                "source": "erp",
                "reference": "batch:42",
                "products": [
                    {
                        "sku": "DEMO-000001",
                        "name": "LED panel 60x60 40 W",
                        "is_active": True,
                        "change": "updated",
                    }
                ],
            },
            merge=merge_by_key("products", "sku"),
        ),
        EventType(
            "stock.changed",
            "Stock changed: one event per transaction (an ERP stock batch, an adjustment, an "
            "order's reservation...), listing each product whose stock changed with its "
            "available units over all active warehouses and its changed stock levels.",
            "stock",
            {
                "reference": "batch:43",
                "products": [
                    {
                        "sku": "DEMO-000001",
                        "available": 37,
                        "levels": [{"warehouse": "IST", "on_hand": 40, "reserved": 3}],
                    }
                ],
            },
            merge=merge_by_key("products", "sku"),
        ),
        EventType(
            "price.changed",
            "Prices changed: one event per transaction (an ERP prices batch, a price saved in "
            "the back office), listing the changed list prices and special prices.",
            "price",
            {
                "source": "erp",
                "reference": "batch:44",
                "prices": [
                    {
                        "sku": "DEMO-000001",
                        "price_list": "LIST",
                        "min_quantity": 1,
                        "amount": "1250.0000",
                        "valid_from": None,
                        "valid_to": None,
                        "deleted": False,
                    }
                ],
                "special_prices": [
                    {
                        "customer_code": "DEMO001",
                        "sku": "DEMO-000001",
                        "min_quantity": 1,
                        "amount": "1100.0000",
                        "valid_from": None,
                        "valid_to": None,
                        "deleted": False,
                    }
                ],
            },
            merge=_price_merge,
        ),
        EventType(
            "webhook.test",
            "Sent to one endpoint on request (admin action, `POST webhook-endpoints/{id}/test`) "
            "to check it receives and verifies our webhooks.",
            "webhook.test:<endpoint id>",
            {"endpoint": 7, "message": "This is a test event."},
            subscribable=False,
        ),
    )
}
ALL_EVENTS = "*"


def subscribable_event_types() -> list[str]:
    return [name for name, event in EVENT_TYPES.items() if event.subscribable]


def register_event_type(event: EventType) -> None:
    """For later domains (``order.*``, ``return.*``, ``payment.*``, ``invoice.*``): add their
    types to the catalogue from their ``apps.py`` ``ready()``."""
    EVENT_TYPES[event.name] = event


# --- emitting -----------------------------------------------------------------------------------


class _TransactionEvents:
    """The events one transaction wrote. Registered once per transaction with
    ``transaction.on_commit``: called after the commit, it asks for their fan-out (one task
    per transaction, not one per event). ``group`` marks the events to coalesce."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.group = uuid.uuid4()

    def __call__(self) -> None:
        if not self.ids or not settings.WEBHOOK_DISPATCH_ON_COMMIT:
            return  # nothing, or left to the sweeper (a test of the sweeper itself)
        from apps.integrations.tasks import outbox_dispatch

        outbox_dispatch.delay(self.ids)


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
        raise ValueError(f"unknown event type {type!r}: add it to EVENT_TYPES")
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


def _jsonable(value: Any) -> Any:
    """``data`` as plain JSON values (what the receiver will see, also when coalescing)."""
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


# --- the events of the domains ------------------------------------------------------------------


def customer_event_data(customer, *, source: str) -> dict[str, Any]:
    return {
        "code": customer.code,
        "name": customer.name,
        "tax_number": customer.tax_number,
        "tax_office": customer.tax_office,
        "tier": customer.tier,
        "status": customer.status,
        "credit_limit": customer.credit_limit,
        "payment_terms_days": customer.payment_terms_days,
        "email": customer.email,
        "phone": customer.phone,
        "approved_at": customer.approved_at,
        "source": source,
    }


def customer_registered_emit(*, customer, source: str = "admin") -> None:
    event_emit(
        "customer.registered",
        customer_event_data(customer, source=source),
        subject=f"customer:{customer.code}",
        customer=customer,
    )


def customer_updated_emit(*, customer, source: str) -> None:
    """One ``customer.updated`` per customer per transaction, with its final state."""
    event_emit(
        "customer.updated",
        customer_event_data(customer, source=source),
        subject=f"customer:{customer.code}",
        customer=customer,
        coalesce=True,
    )


def product_updated_emit(
    *, products: Iterable[Mapping[str, Any]], source: str, reference: str = ""
) -> None:
    """``products``: ``{sku, name, is_active, change}`` each (``change``: created, updated,
    deleted). One event per transaction."""
    items = list(products)
    if not items:
        return
    event_emit(
        "product.updated",
        {"source": source, "reference": reference, "products": items},
        subject="product",
        coalesce=True,
    )


def stock_changed_emit(*, product_ids: Iterable[int], reference: str = "") -> None:
    """``stock.changed`` for these products, read as they are now in this transaction: the
    available units over active warehouses and every stock level. One event per
    transaction (merged by SKU)."""
    from apps.inventory.models import StockLevel

    product_ids = sorted(set(product_ids))
    if not product_ids:
        return
    products: dict[int, dict[str, Any]] = {}
    rows = (
        StockLevel.objects.filter(product_id__in=product_ids)
        .order_by("product_id", "warehouse__code")
        .values_list(
            "product_id",
            "product__sku",
            "warehouse__code",
            "warehouse__is_active",
            "on_hand",
            "reserved",
        )
    )
    for product_id, sku, warehouse, active, on_hand, reserved in rows:
        item = products.setdefault(product_id, {"sku": sku, "available": 0, "levels": []})
        if active:
            item["available"] += on_hand - reserved
        item["levels"].append({"warehouse": warehouse, "on_hand": on_hand, "reserved": reserved})
    if not products:
        return
    event_emit(
        "stock.changed",
        {"reference": reference, "products": list(products.values())},
        subject="stock",
        coalesce=True,
    )


def price_changed_emit(
    *,
    prices: Iterable[Mapping[str, Any]] = (),
    special_prices: Iterable[Mapping[str, Any]] = (),
    source: str,
    reference: str = "",
) -> None:
    """``price.changed`` for the pricing services to call in their transaction: ``prices``
    ``{sku, price_list, min_quantity, amount, valid_from, valid_to, deleted}``,
    ``special_prices`` the same with ``customer_code``. One event per transaction."""
    prices, special_prices = list(prices), list(special_prices)
    if not prices and not special_prices:
        return
    event_emit(
        "price.changed",
        {
            "source": source,
            "reference": reference,
            "prices": prices,
            "special_prices": special_prices,
        },
        subject="price",
        coalesce=True,
    )
