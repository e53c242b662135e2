"""The finance events of the outbox (``invoice.created``, ``payment.recorded``,
``payment.succeeded``, ``payment.refunded``): their catalogue entries and their emits."""

from __future__ import annotations

from apps.core.events import Emit, EventType, event_emit, event_emit_many, register_event_type

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
        "order_number": "SO-2026-000001",
        "issue_date": "2026-12-01",
        "due_date": "2026-12-31",
        "currency": "TRY",
        "net": "1000.00",
        "vat": "200.00",
        "gross": "1200.00",
        "has_xml": True,
        "has_pdf": False,
    },
    scope="invoices:write",
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
    scope="payments:write",
)

PAYMENT_SUCCEEDED = EventType(
    "payment.succeeded",
    "A dealer paid by card (3-D Secure) and the gateway confirmed it: the receipt is on the "
    "dealer's current account (a `payment.recorded` with the same reference says which "
    "invoices it paid) and the order it paid, if any, is confirmed. The connector must not "
    "push this receipt back as a payment: it is recorded already.",
    "card_payment:<reference>",
    {
        "id": 42,
        "reference": "CP3F9A1C0D2B4E6F7A8B",
        "provider": "paynet",
        "customer_code": "DEMO001",
        "amount": "1200.00",
        "currency": "TRY",
        "order_number": "SO-2026-000001",
        "invoice_numbers": [],
        "xact_id": "1000001",
        "card_masked": "435508******4358",
        "completed_at": "2026-12-03T09:15:00Z",
    },
    scope="payments:write",
)

PAYMENT_REFUNDED = EventType(
    "payment.refunded",
    "Finance staff refunded (part of) a card payment and the gateway confirmed it: a `refund` "
    "entry adds the amount to the dealer's balance again.",
    "card_payment:<reference>",
    {
        "id": 42,
        "reference": "CP3F9A1C0D2B4E6F7A8B",
        "customer_code": "DEMO001",
        "amount": "200.00",
        "refunded_total": "200.00",
        "payment_amount": "1200.00",
        "fully_refunded": False,
        "order_number": "SO-2026-000001",
        "xact_id": "1000001",
        "reason": "Two items returned before shipping",
    },
    scope="payments:write",
)


def register() -> None:
    register_event_type(INVOICE_CREATED)
    register_event_type(PAYMENT_RECORDED)
    register_event_type(PAYMENT_SUCCEEDED)
    register_event_type(PAYMENT_REFUNDED)


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


def _card_payment_data(payment) -> dict:
    return {
        "id": payment.pk,
        "reference": payment.reference,
        "customer_code": payment.customer.code,
        "order_number": payment.order.number if payment.order_id else None,
        "xact_id": payment.xact_id,
    }


def payment_succeeded_emit(payment) -> None:
    """``payment.succeeded`` for a card payment the gateway confirmed."""
    event_emit(
        "payment.succeeded",
        {
            **_card_payment_data(payment),
            "provider": payment.provider,
            "amount": payment.amount,
            "currency": payment.currency,
            "invoice_numbers": list(payment.invoice_numbers),
            "card_masked": payment.card_masked,
            "completed_at": payment.completed_at,
        },
        subject=f"card_payment:{payment.reference}",
        customer=payment.customer,
    )


def payment_refunded_emit(payment, refund) -> None:
    """``payment.refunded`` for a refund the gateway confirmed."""
    event_emit(
        "payment.refunded",
        {
            **_card_payment_data(payment),
            "amount": refund.amount,
            "refunded_total": payment.refunded_amount,
            "payment_amount": payment.amount,
            "fully_refunded": payment.refunded_amount >= payment.amount,
            "reason": refund.reason,
        },
        subject=f"card_payment:{payment.reference}",
        customer=payment.customer,
    )
