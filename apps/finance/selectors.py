"""Reads of the current account: balance, open debts, overdue amount, aging, the statement,
invoices with what is paid and open, available credit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.db.models import (
    Case,
    CharField,
    DecimalField,
    F,
    Max,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import DealerRole, User
from apps.core.clock import business_today
from apps.core.exceptions import ValidationError
from apps.finance.descriptions import EntryDescriptions
from apps.finance.models import Invoice, LedgerEntry, settled_sum
from apps.orders.selectors import open_orders_total

ZERO = Decimal("0.00")


def customer_balance(*, customer) -> Decimal:
    """The sum of the dealer's ledger; positive means the dealer owes."""
    total = LedgerEntry.objects.filter(customer=customer).aggregate(total=Sum("amount"))["total"]
    return (total or ZERO).quantize(ZERO)


def open_debts(*, customer) -> QuerySet[LedgerEntry]:
    """The dealer's debts not fully paid (invoices, positive opening balances and
    adjustments), the oldest due first, with ``open_amount`` and ``due`` (the due date; an
    entry without one is due on its date) and its invoice loaded."""
    return (
        LedgerEntry.objects.filter(customer=customer, amount__gt=0)
        .annotate(
            open_amount=F("amount") - settled_sum("debit"), due=Coalesce("due_date", "entry_date")
        )
        .filter(open_amount__gt=0)
        .select_related("invoice")
        .order_by("due", "entry_date", "id")
    )


def overdue_total(*, customer, today: date | None = None) -> Decimal:
    """What is still open on debts past their due date (payments and credits settle the
    debts they name, then the oldest due first: ``ledger_settle``)."""
    today = today or business_today()
    total = (
        open_debts(customer=customer)
        .filter(due__lt=today)
        .aggregate(total=Sum("open_amount"))["total"]
    )
    return (total or ZERO).quantize(ZERO)


def finance_contacts(*, customer) -> QuerySet:
    """Who hears about the company's account (payment reminders, balance confirmations): its
    active owners and finance users."""
    return User.objects.filter(
        customer=customer,
        is_active=True,
        is_deleted=False,
        role__in=(DealerRole.OWNER, DealerRole.FINANCE),
    ).order_by("id")


# --- aging ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    code: str
    label: str
    first_day: int | None  # days overdue, inclusive; None: not due yet
    last_day: int | None  # None: no end

    def holds(self, days_overdue: int) -> bool:
        if self.first_day is None:
            return days_overdue <= 0
        return days_overdue >= self.first_day and (
            self.last_day is None or days_overdue <= self.last_day
        )


AGING_BUCKETS = (
    Bucket("not_due", _("Not due"), None, 0),
    Bucket("1_30", _("1-30 days overdue"), 1, 30),
    Bucket("31_60", _("31-60 days overdue"), 31, 60),
    Bucket("61_90", _("61-90 days overdue"), 61, 90),
    Bucket("90_plus", _("90+ days overdue"), 91, None),
)


def aging(*, customer, today: date | None = None) -> dict:
    """The dealer's open debts by how long they are overdue (``AGING_BUCKETS``), each bucket
    with its total and its items; the buckets add up to ``total``, what is open. One query."""
    today = today or business_today()
    buckets = {
        bucket.code: {"bucket": bucket, "total": ZERO, "items": []} for bucket in AGING_BUCKETS
    }
    total = ZERO
    for entry in open_debts(customer=customer):
        days = (today - entry.due).days
        bucket = next(b for b in AGING_BUCKETS if b.holds(days))
        slot = buckets[bucket.code]
        slot["total"] += entry.open_amount
        slot["items"].append({"entry": entry, "days_overdue": max(days, 0)})
        total += entry.open_amount
    return {"as_of": today, "total": total, "buckets": list(buckets.values())}


def aging_by_dealer(customers: QuerySet, *, today: date | None = None) -> QuerySet:
    """``customers`` annotated with the open amount of each aging bucket (``aging_<code>``) and
    ``aging_total``, for the back office's aging report: one query, sortable by any of them."""
    today = today or business_today()
    debts = (
        LedgerEntry.objects.filter(customer=OuterRef("pk"), amount__gt=0)
        .annotate(
            open_amount=F("amount") - settled_sum("debit"), due=Coalesce("due_date", "entry_date")
        )
        .filter(open_amount__gt=0)
    )

    def _sum(queryset) -> Coalesce:
        return Coalesce(
            Subquery(
                queryset.order_by()
                .values("customer")
                .annotate(total=Sum("open_amount"))
                .values("total")
            ),
            ZERO,
            output_field=DecimalField(max_digits=14, decimal_places=2),
        )

    annotations = {"aging_total": _sum(debts)}
    for bucket in AGING_BUCKETS:
        if bucket.first_day is None:
            ranged = debts.filter(due__gte=today)
        else:
            ranged = debts.filter(due__lte=today - timedelta(days=bucket.first_day))
            if bucket.last_day is not None:
                ranged = ranged.filter(due__gte=today - timedelta(days=bucket.last_day))
        annotations[f"aging_{bucket.code}"] = _sum(ranged)
    return customers.annotate(**annotations)


# --- statement --------------------------------------------------------------------------------


class StatementEntry(NamedTuple):
    id: int
    entry_date: date
    due_date: date | None
    document_number: str
    kind: str
    description: str
    amount: Decimal
    running_balance: Decimal


def balance_as_of(customer, as_of: date) -> Decimal:
    """The dealer's balance at the end of ``as_of``: what a balance confirmation states."""
    total = LedgerEntry.objects.filter(customer=customer, entry_date__lte=as_of).aggregate(
        total=Sum("amount")
    )["total"]
    return (total or ZERO).quantize(ZERO)


def statement_default_end(customer) -> date:
    """Where a statement asked for without an end stops: today, or the dealer's latest entry
    when it is dated later (an ERP invoice of tomorrow, an entry typed ahead), so the default
    statement closes on the balance the summary shows."""
    latest = LedgerEntry.objects.filter(customer=customer).aggregate(last=Max("entry_date"))["last"]
    today = business_today()
    return max(today, latest) if latest else today


STATEMENT_MAX_DAYS = 3660  # "at most 10 years at a time"


def statement_period(
    *, date_from: date | None, date_to: date | None, default_end: date
) -> tuple[date, date]:
    """The period of a statement as asked, its gaps filled: the end defaults to
    ``default_end`` (``statement_default_end``), the start to the first of January of the
    end's year asked for (or of this year). Then the rules, on the period as filled in, so that
    one date alone is no way around them: it must not run backwards and spans at most 10 years.
    ``ValidationError`` naming the field sent (the API and the portal answer 400 with it)."""
    end = date_to or default_end
    start = date_from or date((date_to or business_today()).year, 1, 1)
    if end < start:
        if date_to is not None:
            raise ValidationError({"date_to": [_("Must not be before the start date.")]})
        # in words a portal reader knows too (the error is keyed by the parameter already)
        message = _("Must not be after the end date, %(end)s.") % {"end": end.isoformat()}
        raise ValidationError({"date_from": [message]})
    if (end - start).days > STATEMENT_MAX_DAYS:
        field = "date_to" if date_to is not None else "date_from"
        raise ValidationError({field: [_("At most 10 years at a time.")]})
    return start, end


def statement(*, customer, date_from: date, date_to: date) -> dict:
    """The dealer's entries from ``date_from`` to ``date_to`` (inclusive) with the running
    balance (a window function in SQL), the balance before them (``opening_balance``) and
    after (``closing_balance``); ``entries`` are ``StatementEntry`` tuples. Two queries,
    whatever the number of entries."""
    opening = (
        LedgerEntry.objects.filter(customer=customer, entry_date__lt=date_from).aggregate(
            total=Sum("amount")
        )["total"]
        or ZERO
    )
    rows = (
        LedgerEntry.objects.filter(
            customer=customer, entry_date__gte=date_from, entry_date__lte=date_to
        )
        .annotate(running=Window(Sum("amount"), order_by=[F("entry_date").asc(), F("id").asc()]))
        .order_by("entry_date", "id")
        .values_list(*StatementEntry._fields[:-1], "running")
    )
    described = EntryDescriptions()  # what the system wrote, in the reader's language
    entries = [
        StatementEntry(*row[:-1], (opening + row[-1]).quantize(ZERO))._replace(
            description=described(row[4], row[5])
        )
        for row in rows
    ]  # plain tuples: 100,000 model instances cost seconds
    closing = entries[-1].running_balance if entries else opening.quantize(ZERO)
    return {
        "customer": customer,
        "date_from": date_from,
        "date_to": date_to,
        "opening_balance": opening.quantize(ZERO),
        "closing_balance": closing,
        "entries": entries,
    }


# --- invoices ---------------------------------------------------------------------------------


class InvoiceStatus:
    OPEN, OVERDUE, PAID = "open", "overdue", "paid"
    CHOICES = ((OPEN, _("open")), (OVERDUE, _("overdue")), (PAID, _("paid")))


def invoice_queryset(queryset: QuerySet | None = None, *, today: date | None = None) -> QuerySet:
    """Invoices with ``paid_amount`` (what payments and credits settled), ``open_amount`` and
    ``status``: ``paid`` (nothing open), ``overdue`` (open after the due date) or ``open``."""
    today = today or business_today()
    queryset = Invoice.objects.all() if queryset is None else queryset
    paid = settled_sum("debit", outer="ledger_entry")
    return queryset.annotate(
        paid_amount=paid,
        open_amount=F("gross_total") - paid,
    ).annotate(
        status=Case(
            When(open_amount__lte=0, then=Value(InvoiceStatus.PAID)),
            When(due_date__lt=today, then=Value(InvoiceStatus.OVERDUE)),
            default=Value(InvoiceStatus.OPEN),
            output_field=CharField(),
        )
    )


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
        "overdue_total": overdue_total(customer=customer),
    }
