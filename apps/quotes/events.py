"""The quote events of the outbox (``quote.requested``, ``quote.sent``, ``quote.accepted``):
their catalogue entries and the one payload they share."""

from __future__ import annotations

from typing import Any

from apps.core.events import EventType, event_emit, register_event_type

_EXAMPLE = {
    "number": "QT-2026-000042",
    "customer_code": "DEMO001",
    "status": "requested",
    "version": 0,
    "valid_until": None,
    "note": "Site delivery in January",
    "order_number": None,
    "created_at": "2026-12-03T09:30:00Z",
    "lines": [{"sku": "DEMO-000001", "quantity": 500, "target_price": "95.0000", "unit_net": None}],
}

QUOTE_EVENTS = (
    EventType(
        name="quote.requested",
        description="A dealer asked for a quote: lines with quantities (and target prices).",
        subject="quote:<number>",
        example=_EXAMPLE,
        scope="orders:read",
    ),
    EventType(
        name="quote.sent",
        description="Sales sent the dealer prices and a validity date (`version` counts the "
        "answers: a counter-offer is sent again with the next version).",
        subject="quote:<number>",
        example={
            **_EXAMPLE,
            "status": "sent",
            "version": 1,
            "valid_until": "2026-12-31",
            "lines": [{**_EXAMPLE["lines"][0], "unit_net": "97.5000"}],
        },
        scope="orders:read",
    ),
    EventType(
        name="quote.accepted",
        description="The dealer accepted the quote: `order_number` is the order placed at "
        "the quoted prices (its `order.created` event follows the usual way).",
        subject="quote:<number>",
        example={
            **_EXAMPLE,
            "status": "accepted",
            "version": 1,
            "valid_until": "2026-12-31",
            "order_number": "SO-2026-000321",
            "lines": [{**_EXAMPLE["lines"][0], "unit_net": "97.5000"}],
        },
        scope="orders:read",
    ),
)


def register() -> None:
    for event in QUOTE_EVENTS:
        register_event_type(event)


def quote_payload(quote) -> dict[str, Any]:
    return {
        "number": quote.number,
        "customer_code": quote.customer.code,
        "status": quote.status,
        "version": quote.version,
        "valid_until": quote.valid_until,
        "note": quote.note,
        "order_number": quote.order.number if quote.order_id else None,
        "created_at": quote.created_at,
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "target_price": line.target_price,
                "unit_net": line.unit_net if quote.priced else None,
            }
            for line in quote.lines.all()
        ],
    }


def quote_event_emit(type_: str, quote) -> None:
    event_emit(
        type_,
        quote_payload(quote),
        subject=f"quote:{quote.number}",
        customer=quote.customer,
    )
