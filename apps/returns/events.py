"""The return events of the outbox (``return.requested``, ``return.status_changed``,
``return.credited``): their catalogue entries and the one payload they share."""

from __future__ import annotations

from typing import Any

from apps.core.events import EventType, event_emit, register_event_type

_EXAMPLE = {
    "number": "RMA-2026-000042",
    "order_number": "SO-2026-000123",
    "customer_code": "DEMO001",
    "status": "requested",
    "previous_status": None,
    "note": "Two reels arrived crushed",
    "decision_note": "",
    "created_at": "2026-12-03T09:30:00Z",
    "updated_at": "2026-12-03T09:30:00Z",
    "lines": [
        {
            "sku": "DEMO-000001",
            "quantity": 2,
            "reason": "damaged",
            "reason_text": "",
            "serial_numbers": [],
            "received_quantity": None,
            "quarantined_quantity": 0,
        }
    ],
    "credit": None,
}

RETURN_EVENTS = (
    EventType(
        name="return.requested",
        description="A dealer asked to return lines of a delivered order (the ERP may "
        "authorise it: `POST returns/{number}/status`).",
        subject="return:<number>",
        example=_EXAMPLE,
        scope="returns:read",
    ),
    EventType(
        name="return.status_changed",
        description="A return moved (approved, rejected, cancelled, received, credited); "
        "`previous_status` says from where.",
        subject="return:<number>",
        example={
            **_EXAMPLE,
            "status": "received",
            "previous_status": "approved",
            "lines": [{**_EXAMPLE["lines"][0], "received_quantity": 2}],
        },
        scope="returns:read",
    ),
    EventType(
        name="return.credited",
        description="A credit note for the received goods is on the dealer's current account "
        "(`credit`: net, VAT, gross; goods sold at 0.00 are credited 0.00, with no ledger "
        "entry); also sent as return.status_changed.",
        subject="return:<number>",
        example={
            **_EXAMPLE,
            "status": "credited",
            "previous_status": "received",
            "lines": [{**_EXAMPLE["lines"][0], "received_quantity": 2}],
            "credit": {"net": "200.00", "vat": "40.00", "gross": "240.00"},
        },
        scope="returns:read",
    ),
)


def register() -> None:
    for event in RETURN_EVENTS:
        register_event_type(event)


def return_payload(request, *, previous_status: str | None = None) -> dict[str, Any]:
    credit = None
    if request.credit_total is not None:
        credit = {
            "net": request.credit_net,
            "vat": request.credit_vat,
            "gross": request.credit_total,
        }
    return {
        "number": request.number,
        "order_number": request.order.number,
        "customer_code": request.customer.code,
        "status": request.status,
        "previous_status": previous_status,
        "note": request.note,
        "decision_note": request.decision_note,
        "created_at": request.created_at,
        "updated_at": request.updated_at,
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "reason": line.reason,
                "reason_text": line.reason_text,
                "serial_numbers": line.serial_numbers,
                "received_quantity": line.received_quantity,
                "quarantined_quantity": line.quarantined_quantity,
            }
            for line in request.lines.all().order_by("id")
        ],
        "credit": credit,
    }


def return_event_emit(type_: str, request, *, previous_status: str | None = None) -> None:
    event_emit(
        type_,
        return_payload(request, previous_status=previous_status),
        subject=f"return:{request.number}",
        customer=request.customer,
    )
