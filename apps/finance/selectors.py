"""Reads of the current account: balance, overdue amount, available credit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from apps.finance.models import LedgerEntry
from apps.orders.selectors import open_orders_total

ZERO = Decimal("0.00")


def customer_balance(*, customer) -> Decimal:
    """The sum of the dealer's ledger; positive means the dealer owes."""
    total = LedgerEntry.objects.filter(customer=customer).aggregate(total=Sum("amount"))["total"]
    return (total or ZERO).quantize(ZERO)


def overdue_total(
    *, customer, today: date | None = None, balance: Decimal | None = None
) -> Decimal:
    """What is owed on invoices past their due date. Payments and credits settle the oldest
    debt first (FIFO), so the overdue part is the balance less the invoices not yet due,
    never below zero and never above the balance."""
    today = today or timezone.localdate()
    if balance is None:
        balance = customer_balance(customer=customer)
    not_due = (
        LedgerEntry.objects.filter(
            customer=customer, kind=LedgerEntry.Kind.INVOICE, due_date__gte=today
        ).aggregate(total=Sum("amount"))["total"]
        or ZERO
    )
    return max(ZERO, balance - not_due).quantize(ZERO)


def _exposure(*, balance: Decimal, open_total: Decimal, extra: Decimal = ZERO) -> Decimal:
    """The credit exposure rule (DESIGN.md, Orders, step 2): ledger balance + gross of the open
    orders (+ the order being placed)."""
    return balance + open_total + extra


def customer_credit_exposure(*, customer, extra: Decimal = ZERO) -> Decimal:
    """What counts against the dealer's credit limit (order placement asks it, through the
    hook in ``apps.accounts.selectors``)."""
    return _exposure(
        balance=customer_balance(customer=customer),
        open_total=open_orders_total(customer=customer),
        extra=extra,
    )


def customer_credit_summary(*, customer) -> dict:
    """``balance``, ``credit_limit``, ``open_orders_total``, ``available_credit`` and
    ``overdue_total`` of a dealer (``GET company``, ``GET account/summary``, the order admin)."""
    balance = customer_balance(customer=customer)
    open_total = open_orders_total(customer=customer)
    exposure = _exposure(balance=balance, open_total=open_total)
    return {
        "balance": balance,
        "credit_limit": customer.credit_limit,
        "open_orders_total": open_total,
        "available_credit": (customer.credit_limit - exposure).quantize(ZERO),
        "overdue_total": overdue_total(customer=customer, balance=balance),
    }
