"""The customer events of the outbox (``customer.registered``, ``customer.updated``): their
catalogue entries and the one payload they share."""

from __future__ import annotations

from typing import Any

from apps.core.events import EventType, event_emit, register_event_type


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


CUSTOMER_EVENTS = (
    EventType(
        "customer.registered",
        "A self-registered company was approved by staff (it can now log in and order).",
        "customer:<code>",
        _customer_example(),
        scope="customers:write",
    ),
    EventType(
        "customer.updated",
        "A customer changed: ERP upsert (also a new customer from the ERP), an edit in the "
        "back office, a credit limit, a suspension or reactivation. `data` is the customer "
        "as it is now; `source` is `erp` or `admin`.",
        "customer:<code>",
        _customer_example() | {"source": "erp"},
        scope="customers:write",
    ),
)


def register() -> None:
    for event in CUSTOMER_EVENTS:
        register_event_type(event)


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
