"""The order events of the outbox (``order.created``, ``order.status_changed``,
``order.cancelled``): their catalogue entries and the one payload they share."""

from __future__ import annotations

from typing import Any

from apps.core.events import EventType, event_emit, register_event_type

_EXAMPLE = {
    "number": "SO-2026-000123",
    "customer_code": "DEMO001",
    "status": "confirmed",
    "previous_status": None,
    "payment_method": "on_account",
    "currency": "TRY",
    "subtotal_net": "1000.00",
    "vat_total": "200.00",
    "grand_total": "1200.00",
    "po_number": "PO-77",
    "tracking_number": "",
    "carrier": "",
    "created_at": "2026-11-25T09:30:00Z",
    "updated_at": "2026-11-25T09:30:00Z",
    "lines": [
        {
            "sku": "DEMO-000001",
            "quantity": 10,
            "unit_net": "100.0000",
            "discount": "0.0000",
            "vat_rate": 20,
            "line_net": "1000.00",
            "line_vat": "200.00",
            "line_gross": "1200.00",
            "quote_number": "",
        }
    ],
}

ORDER_EVENTS = (
    EventType(
        name="order.created",
        description="A dealer placed an order (any first status: confirmed, awaiting_*).",
        subject="order:<number>",
        example=_EXAMPLE,
        scope="orders:read",
    ),
    EventType(
        name="order.status_changed",
        description="An order moved to another status (approval, fulfilment, delivery...); "
        "`previous_status` says from where.",
        subject="order:<number>",
        example={**_EXAMPLE, "status": "shipped", "previous_status": "processing"},
        scope="orders:read",
    ),
    EventType(
        name="order.cancelled",
        description="An order was cancelled (its reservation is released); also sent as "
        "order.status_changed.",
        subject="order:<number>",
        example={**_EXAMPLE, "status": "cancelled", "previous_status": "confirmed"},
        scope="orders:read",
    ),
)


def register() -> None:
    for event in ORDER_EVENTS:
        register_event_type(event)


def order_event_data(order, *, previous_status: str | None = None) -> dict[str, Any]:
    return {
        "number": order.number,
        "customer_code": order.customer.code,
        "status": order.status,
        "previous_status": previous_status,
        "payment_method": order.payment_method,
        "currency": order.currency,
        "subtotal_net": order.subtotal_net,
        "vat_total": order.vat_total,
        "grand_total": order.grand_total,
        "po_number": order.po_number,
        "tracking_number": order.tracking_number,
        "carrier": order.carrier,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_net": line.unit_net,
                "discount": line.discount,
                "vat_rate": line.vat_rate,
                "line_net": line.line_net,
                "line_vat": line.line_vat,
                "line_gross": line.line_gross,
                "quote_number": line.quote_number,  # priced by an accepted quote
            }
            for line in order.lines.all()
        ],
    }


def _emit(event_type: str, order, previous_status: str | None = None) -> None:
    event_emit(
        event_type,
        order_event_data(order, previous_status=previous_status),
        subject=f"order:{order.number}",
        customer=order.customer,
    )


def order_created_emit(order) -> None:
    _emit("order.created", order)


def order_status_changed_emit(order, *, previous_status: str) -> None:
    _emit("order.status_changed", order, previous_status)
    if order.status == "cancelled":
        _emit("order.cancelled", order, previous_status)
