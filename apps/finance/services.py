"""Writes of the current account. Every entry is a new row (entries are immutable); the
kind fixes the sign: invoices add to what the dealer owes, payments and credit notes reduce
it, adjustments go either way and need a reason; one opening balance per dealer."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.exceptions import Conflict, ValidationError
from apps.core.money import round2
from apps.finance.models import LedgerEntry

Kind = LedgerEntry.Kind
MAX_AMOUNT = Decimal("999999999999.99")


def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({"amount": [_("Enter a number.")]}) from None
    if not amount.is_finite() or abs(amount) > MAX_AMOUNT:
        raise ValidationError({"amount": [_("Enter a valid amount.")]})
    if amount != round2(amount):
        raise ValidationError({"amount": [_("Use at most 2 decimal places.")]})
    return round2(amount)


def ledger_post(
    *,
    customer,
    kind: str,
    amount,
    by=None,
    reason: str = "",
    description: str = "",
    document_number: str = "",
    entry_date: date | None = None,
    due_date: date | None = None,
) -> LedgerEntry:
    """Record one entry. Signs: invoice > 0; payment, credit note < 0; adjustment != 0."""
    amount = _amount(amount)
    if kind not in Kind.values:
        raise ValidationError({"kind": [_("Unknown entry kind.")]})
    reason = (reason or "").strip()
    if kind == Kind.INVOICE and amount <= 0:
        raise ValidationError(
            {"amount": [_("An invoice adds to the balance: use a positive amount.")]}
        )
    if kind in (Kind.PAYMENT, Kind.CREDIT_NOTE) and amount >= 0:
        raise ValidationError(
            {"amount": [_("A payment or credit note reduces the balance: use a negative amount.")]}
        )
    if kind == Kind.ADJUSTMENT:
        if amount == 0:
            raise ValidationError({"amount": [_("An adjustment cannot be zero.")]})
        if not reason:
            raise ValidationError({"reason": [_("Say why the balance is adjusted.")]})
    if kind == Kind.INVOICE and due_date is None:  # due after the dealer's payment terms
        due_date = (entry_date or timezone.localdate()) + timedelta(
            days=customer.payment_terms_days
        )
    fields = {
        "customer": customer,
        "kind": kind,
        "amount": amount,
        "reason": reason,
        "description": (description or "")[:255],
        "document_number": (document_number or "")[:64],
        "due_date": due_date,
        "created_by": by if getattr(by, "pk", None) else None,
    }
    if entry_date is not None:
        fields["entry_date"] = entry_date
    try:
        with transaction.atomic():
            return LedgerEntry.objects.create(**fields)
    except IntegrityError:
        if kind == Kind.OPENING_BALANCE:
            raise Conflict(
                _("This dealer already has an opening balance; post an adjustment instead."),
                code="opening_balance_exists",
            ) from None
        raise


def ledger_adjust(*, customer, amount, reason: str, by) -> LedgerEntry:
    """A manual correction by finance staff (positive: the dealer owes more)."""
    return ledger_post(
        customer=customer,
        kind=Kind.ADJUSTMENT,
        amount=amount,
        reason=reason,
        by=by,
        description=_("Manual adjustment"),
    )
