"""Payments the ERP records (bank transfers, cash, cheques, card payments taken elsewhere):
``payment_record_many`` records a batch.

A record is ``{reference, customer_code, amount, date, method, invoice_numbers?}``; the
``reference`` (the ERP's receipt number) is the key. A reference already recorded with the
same content is ``unchanged``, with other content it fails: a payment is never rewritten.
Each new payment writes, in one transaction per batch: its ``payment`` ledger entry (minus the
amount, dated the payment date), the payment, its settlement (the invoices it names first, in
that order, then the dealer's oldest debt due first: ``ledger_settle``), audit entries and a
``payment.recorded`` event listing the invoices it paid.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import Customer
from apps.core.bulk import (
    CREATED,
    UNCHANGED,
    Errors,
    Result,
    analyze_stale,
    audit_created_many,
    write_new_settling,
)
from apps.core.clock import recorded_date_problem
from apps.finance.descriptions import payment_text
from apps.finance.events import payments_recorded_emit
from apps.finance.models import CardPayment, Invoice, LedgerEntry, Payment
from apps.finance.services.ledger import ledger_settle

AUDITED = ("reference", "amount", "payment_date", "method")
LEDGER_AUDITED = ("kind", "amount", "entry_date", "document_number")


def payment_record_many(
    *,
    records: Mapping[int, Mapping[str, Any]],
    batch_id=None,
    remote_addr=None,
    booking_card_payment: bool = False,
) -> Result:
    """Record new payments: ``({index: "created" | "unchanged"}, {index: errors})``. Each
    ``reference`` may appear once in ``records`` (the caller refuses repeats). A reference of
    one of our card payments that the bank has not confirmed yet is the platform's to book
    (``booking_card_payment``, when the bank confirms it): from the ERP it is an error, so the
    dealer who paid is credited, not whoever the ERP named."""
    customers = {
        c.code: c
        for c in Customer.objects.filter(code__in={r["customer_code"] for r in records.values()})
    }
    named = {n for r in records.values() for n in r.get("invoice_numbers") or ()}
    invoices = {
        number: (entry_id, customer_id)
        for number, entry_id, customer_id in Invoice.objects.filter(number__in=named).values_list(
            "number", "ledger_entry_id", "customer_id"
        )
    }
    # {reference: status} of our card payments the bank has not confirmed (pending) or did
    # not take (failed); a confirmed one, refunded since or not, is booked and may be echoed
    unconfirmed_cards = (
        {}
        if booking_card_payment
        else dict(
            CardPayment.objects.filter(
                reference__in={r["reference"] for r in records.values()},
                status__in=(CardPayment.Status.PENDING, CardPayment.Status.FAILED),
            ).values_list("reference", "status")
        )
    )
    return write_new_settling(
        records,
        lambda some: _sorted_out(some, customers, invoices, unconfirmed_cards),
        lambda part: _write(part, customers, invoices, batch_id, remote_addr),
    )


def _sorted_out(
    records: Mapping[int, Mapping[str, Any]], customers, invoices, unconfirmed_cards
) -> tuple[dict[int, str], dict[int, Errors], list[tuple[int, dict]]]:
    """The records against what is stored: ``unchanged`` (the same content under its
    reference), errors (bad records, a reference with other content), and the new ones to
    write."""
    stored = dict(
        Payment.objects.filter(
            reference__in={r["reference"] for r in records.values()}
        ).values_list("reference", "content_hash")
    )
    outcomes: dict[int, str] = {}
    errors: dict[int, Errors] = {}
    new: list[tuple[int, dict]] = []
    for index, record in records.items():
        customer = customers.get(record["customer_code"])
        record_errors: Errors = {}
        if customer is None:
            record_errors["customer_code"] = [_("No dealer has this code.")]
        card_status = unconfirmed_cards.get(record["reference"])
        if card_status == CardPayment.Status.PENDING:
            record_errors["reference"] = [
                _(
                    "This is the reference of a card payment the bank has not confirmed yet: "
                    "the platform records it when the bank does."
                )
            ]
        elif card_status == CardPayment.Status.FAILED:
            record_errors["reference"] = [
                _("This is the reference of a card payment that did not go through.")
            ]
        problem = recorded_date_problem(record["date"])
        if problem:
            record_errors["date"] = [problem]
        numbers = list(record.get("invoice_numbers") or ())
        for position, number in enumerate(numbers):
            invoice = invoices.get(number)
            if invoice is None or (customer is not None and invoice[1] != customer.pk):
                record_errors[f"invoice_numbers.{position}"] = [
                    _("This dealer has no invoice with this number.")
                ]
            elif numbers.index(number) != position:
                record_errors[f"invoice_numbers.{position}"] = [_("Named twice.")]
        if record_errors:
            errors[index] = record_errors
            continue
        content_hash = _content_hash(record)
        if record["reference"] in stored:
            if stored[record["reference"]] == content_hash:
                outcomes[index] = UNCHANGED
            else:
                errors[index] = {
                    "reference": [_("This payment reference is recorded with other content.")]
                }
            continue
        new.append((index, {**record, "content_hash": content_hash}))
    return outcomes, errors, new


def _content_hash(record) -> str:
    content = {k: v for k, v in record.items() if k != "content_hash"}
    content["invoice_numbers"] = list(record.get("invoice_numbers") or ())
    text = json.dumps(content, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@transaction.atomic
def _write(part: Sequence[tuple[int, dict]], customers, invoices, batch_id, remote_addr) -> Result:
    now = timezone.now()
    entries = LedgerEntry.objects.bulk_create(
        LedgerEntry(
            customer=customers[record["customer_code"]],
            kind=LedgerEntry.Kind.PAYMENT,
            amount=-record["amount"],
            entry_date=record["date"],
            document_number=record["reference"],
            description=payment_text(record["method"]),
            created_at=now,
        )
        for _index, record in part
    )
    payments = Payment.objects.bulk_create(
        Payment(
            reference=record["reference"],
            customer=customers[record["customer_code"]],
            amount=record["amount"],
            payment_date=record["date"],
            method=record["method"],
            invoice_numbers=list(record.get("invoice_numbers") or ()),
            content_hash=record["content_hash"],
            ledger_entry=entry,
            created_at=now,
        )
        for (_index, record), entry in zip(part, entries, strict=True)
    )
    settlements = ledger_settle(
        customer_ids={payment.customer_id for payment in payments},
        named={
            entry.pk: [invoices[n][0] for n in record.get("invoice_numbers") or ()]
            for (_index, record), entry in zip(part, entries, strict=True)
        },
    )
    audit_created_many(
        model=Payment,
        objects=payments,
        fields=AUDITED,
        timestamp=now,
        remote_addr=remote_addr,
        batch_id=batch_id,
    )
    audit_created_many(
        model=LedgerEntry,
        objects=entries,
        fields=LEDGER_AUDITED,
        timestamp=now,
        remote_addr=remote_addr,
        batch_id=batch_id,
    )
    _emit(part, payments, settlements)
    analyze_stale((LedgerEntry, Payment), written=len(payments))
    return {index: CREATED for index, _record in part}, {}


def _emit(part, payments, settlements) -> None:
    """``payment.recorded`` per payment, with the invoices (by number) its settlement paid."""
    paid: dict[int, list[tuple[int, Any]]] = defaultdict(list)
    for settlement in settlements:
        paid[settlement.credit_id].append((settlement.debit_id, settlement.amount))
    numbers = dict(
        Invoice.objects.filter(
            ledger_entry_id__in={debit for rows in paid.values() for debit, _a in rows}
        ).values_list("ledger_entry_id", "number")
    )
    payments_recorded_emit(
        payments,
        customer_codes={record["reference"]: record["customer_code"] for _i, record in part},
        settled={
            payment.reference: [
                {"invoice_number": numbers.get(debit), "amount": amount}
                for debit, amount in paid[payment.ledger_entry_id]
            ]
            for payment in payments
        },
    )
