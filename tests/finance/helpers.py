"""Invoice and payment records as the ERP sends them, and a way to post them."""

from __future__ import annotations

import base64
import uuid
from decimal import ROUND_HALF_UP, Decimal

INVOICES = "/api/integration/v1/invoices"
PAYMENTS = "/api/integration/v1/payments"


def _r2(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def line(quantity="2", unit_net="50.0000", vat_rate=20, sku="KBL-001", **extra) -> dict:
    net = _r2(Decimal(quantity) * Decimal(unit_net))
    vat = _r2(net * vat_rate / 100)
    body = {
        "sku": sku,
        "description": f"Kablo {sku}",
        "quantity": str(quantity),
        "unit_net": str(unit_net),
        "vat_rate": vat_rate,
        "line_net": str(net),
        "line_vat": str(vat),
    }
    if vat_rate == 0:
        body["vat_exemption_code"] = "351"
    body.update(extra)
    return body


def invoice(
    number="ABC2026000000001",
    customer_code="BAYI-1",
    issue_date="2026-11-02",
    due_date="2026-12-02",
    lines=None,
    **extra,
) -> dict:
    lines = lines if lines is not None else [line()]
    net = sum((Decimal(item["line_net"]) for item in lines), Decimal("0.00"))
    vat = sum((Decimal(item["line_vat"]) for item in lines), Decimal("0.00"))
    body = {
        "number": number,
        "ettn": str(uuid.uuid5(uuid.NAMESPACE_OID, number)),
        "profile": "e-fatura",
        "customer_code": customer_code,
        "issue_date": issue_date,
        "due_date": due_date,
        "lines": lines,
        "totals": {"net": str(net), "vat": str(vat), "gross": str(net + vat)},
    }
    body.update(extra)
    return body


def amount_of(record: dict) -> Decimal:
    return Decimal(record["totals"]["gross"])


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def payment(reference="DEK-1", customer_code="BAYI-1", amount="100.00", date="2026-11-20", **extra):
    return {
        "reference": reference,
        "customer_code": customer_code,
        "amount": str(amount),
        "date": date,
        "method": "bank_transfer",
        **extra,
    }


def post(client, url, batch):
    response = client.post(url, batch, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def make_order(customer, *, status="confirmed", gross="120.00", number=None):
    """An order as placement leaves it (its lines do not matter to finance)."""
    from apps.orders.models import Order

    return Order.objects.create(
        number=number or f"SO-2026-9{Order.objects.count() + 1:05d}",
        customer=customer,
        status=status,
        payment_method="on_account",
        subtotal_net=Decimal(gross) / Decimal("1.2"),
        vat_total=Decimal(gross) - Decimal(gross) / Decimal("1.2"),
        grand_total=Decimal(gross),
    )
