"""The finance events of the outbox (``invoice.created``, ``payment.recorded``): their catalogue
entries and their emits."""

from __future__ import annotations

from apps.core.events import Emit, EventType, event_emit_many, register_event_type

INVOICE_CREATED = EventType(
    "invoice.created",
    "An invoice from the ERP was recorded: it is on the dealer's current account (and its "
    "order, when it names one, counts as invoiced).",
    "invoice:<number>",
    {
        "number": "ABC2026000000001",
        "ettn": "6f1c2a1e-4b0c-4f54-9d3e-0a1b2c3d4e5f",
        "profile": "e-fatura",
        "customer_code": "DEMO001",
        "order_number": "ORD-2026-000001",
        "issue_date": "2026-12-01",
        "due_date": "2026-12-31",
        "currency": "TRY",
        "net": "1000.00",
        "vat": "200.00",
        "gross": "1200.00",
        "has_xml": True,
        "has_pdf": False,
    },
)

PAYMENT_RECORDED = EventType(
    "payment.recorded",
    "A payment the ERP recorded (bank transfer, cash, cheque, card) is on the dealer's current "
    "account, with the invoices it paid.",
    "payment:<reference>",
    {
        "reference": "DEK-2026-000123",
        "customer_code": "DEMO001",
        "amount": "1200.00",
        "date": "2026-12-02",
        "method": "bank_transfer",
        "settled": [{"invoice_number": "ABC2026000000001", "amount": "1200.00"}],
    },
)


def register() -> None:
    register_event_type(INVOICE_CREATED)
    register_event_type(PAYMENT_RECORDED)


def invoices_created_emit(invoices, *, customer_codes: dict, order_numbers: dict) -> None:
    """``invoice.created`` for each of ``invoices`` (one INSERT): ``customer_codes`` and
    ``order_numbers`` by invoice number."""
    event_emit_many(
        "invoice.created",
        (
            Emit(
                {
                    "number": invoice.number,
                    "ettn": str(invoice.ettn),
                    "profile": invoice.profile,
                    "customer_code": customer_codes[invoice.number],
                    "order_number": order_numbers.get(invoice.number),
                    "issue_date": invoice.issue_date,
                    "due_date": invoice.due_date,
                    "currency": invoice.currency,
                    "net": invoice.net_total,
                    "vat": invoice.vat_total,
                    "gross": invoice.gross_total,
                    "has_xml": bool(invoice.xml),
                    "has_pdf": bool(invoice.pdf),
                },
                subject=f"invoice:{invoice.number}",
                customer=invoice.customer,
            )
            for invoice in invoices
        ),
    )


def payments_recorded_emit(payments, *, customer_codes: dict, settled: dict) -> None:
    """``payment.recorded`` for each of ``payments`` (one INSERT): ``customer_codes`` by
    reference, ``settled`` by reference: ``[{invoice_number, amount}]``."""
    event_emit_many(
        "payment.recorded",
        (
            Emit(
                {
                    "reference": payment.reference,
                    "customer_code": customer_codes[payment.reference],
                    "amount": payment.amount,
                    "date": payment.payment_date,
                    "method": payment.method,
                    "settled": settled.get(payment.reference, []),
                },
                subject=f"payment:{payment.reference}",
                customer=payment.customer,
            )
            for payment in payments
        ),
    )
