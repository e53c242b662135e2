"""Writes of the current account. Every entry is a new row (entries are immutable); the
kind fixes the sign: invoices add to what the dealer owes, payments and credit notes reduce
it, adjustments go either way and need a reason; one opening balance per dealer.

Every write ends with ``ledger_settle``: the dealer's credits not yet used pay its open debts,
the ones a payment names first, then the oldest due first (FIFO), so each invoice knows what
is still open. A card payment for an order pays that order's invoices: until the ERP invoices
the order it is held for it (it pays nothing else), and only a cancelled or rejected order
lets it go to the oldest debts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, connection, transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from apps.core.bulk import rows_copy
from apps.core.clock import EARLIEST_RECORDED_DATE, business_today
from apps.core.exceptions import Conflict, ValidationError
from apps.core.money import MAX_AMOUNT, money_text, round2
from apps.finance.descriptions import adjustment_text
from apps.finance.models import (
    CardPayment,
    Invoice,
    LedgerEntry,
    Payment,
    Settlement,
    settled_sum,
)
from apps.finance.services.confirmations import confirmations_restate
from apps.orders.models import OrderStatus

Kind = LedgerEntry.Kind
ZERO = Decimal("0.00")
MAX_DUE_DAYS = 3650  # a due date at most ten years after its entry
MAX_AHEAD_DAYS = 366  # an entry typed at most a year ahead


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
    settles: Sequence[int] = (),
    once_per_document: bool = False,
    order=None,
) -> LedgerEntry:
    """Record one entry. Signs: invoice, refund > 0; payment, credit note < 0;
    adjustment != 0. A credit pays the debts ``settles`` names first (ledger entry ids), then
    the oldest due; a credit given an ``order`` (a return's credit note) pays that order's
    invoices, and while the order waits for them nothing else (``ledger_settle``).
    ``once_per_document`` (a document typed in the back office): refused on
    ``document_number`` when the dealer's ledger holds an entry of this kind with this
    number, judged under a lock per dealer, so two saves at once (a double click, a second
    tab) book it once."""
    amount = _amount(amount)
    if kind not in Kind.values:
        raise ValidationError({"kind": [_("Unknown entry kind.")]})
    reason = (reason or "").strip()
    if kind == Kind.INVOICE and amount <= 0:
        raise ValidationError(
            {"amount": [_("An invoice adds to the balance: use a positive amount.")]}
        )
    if kind == Kind.REFUND and amount <= 0:
        raise ValidationError(
            {"amount": [_("A refund adds to the balance again: use a positive amount.")]}
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
    # a person's typing (the back office): from 2000, and no further ahead than the ERP's
    # documents go; a due date at most ten years after. Beyond, a computed due date passed
    # year 9999 (a 500), and entries fell outside every statement while the balance counted them
    today = business_today()
    day = entry_date or today
    if not EARLIEST_RECORDED_DATE <= day <= today + timedelta(days=MAX_AHEAD_DAYS):
        raise ValidationError({"entry_date": [_("Enter a date from 2000 to a year from today.")]})
    if kind == Kind.INVOICE and due_date is None:  # due after the dealer's payment terms
        due_date = day + timedelta(days=customer.payment_terms_days)
    if due_date is not None and not (
        EARLIEST_RECORDED_DATE <= due_date <= day + timedelta(days=MAX_DUE_DAYS)
    ):
        raise ValidationError(
            {"due_date": [_("Enter a due date from 2000 to ten years after the entry.")]}
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
        "order": order,
    }
    if entry_date is not None:
        fields["entry_date"] = entry_date
    try:
        with transaction.atomic():
            if once_per_document and fields["document_number"]:
                _document_not_booked(customer, kind, fields["document_number"])
            entry = LedgerEntry.objects.create(**fields)
            ledger_settle(customer_ids=[customer.pk], named={entry.pk: list(settles)})
            return entry
    except IntegrityError:
        if kind == Kind.OPENING_BALANCE:
            raise Conflict(
                _("This dealer already has an opening balance; post an adjustment instead."),
                code="opening_balance_exists",
            ) from None
        raise


_DOCUMENT_LOCK = 0x646F6375 << 32  # advisory lock key space ("docu"); the low half: the dealer


def _document_not_booked(customer, kind: str, number: str) -> None:
    """In the caller's transaction: wait for any other back-office document of this dealer
    being booked, then refuse ``number`` if the ledger has it for ``kind``."""
    if connection.vendor == "postgresql":  # (SQLite, the demo's, writes one at a time)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_DOCUMENT_LOCK | customer.pk])
    same = (
        # a number typed in other letters is the same document (DMO2026… and dmo2026…)
        LedgerEntry.objects.filter(customer=customer, kind=kind, document_number__iexact=number)
        .order_by("id")
        .first()
    )
    if same is not None:  # the same document booked twice doubles the balance
        raise ValidationError(
            {
                "document_number": [
                    _("This dealer's ledger already has this document (%(date)s, %(amount)s).")
                    % {"date": date_format(same.entry_date), "amount": money_text(same.amount)}
                ]
            }
        )


def ledger_adjust(*, customer, amount, reason: str, by) -> LedgerEntry:
    """A manual correction by finance staff (positive: the dealer owes more)."""
    return ledger_post(
        customer=customer,
        kind=Kind.ADJUSTMENT,
        amount=amount,
        reason=reason,
        by=by,
        description=adjustment_text(),
    )


# --- settlement -------------------------------------------------------------------------------

_SETTLE_LOCK = 0x73657474 << 32  # advisory lock key space ("sett"); the low half: the dealer


def ledger_settle(
    *, customer_ids: Iterable[int], named: Mapping[int, Sequence[int]] | None = None
) -> list[Settlement]:
    """Use the dealers' unused credits (payments, credit notes, negative adjustments, oldest
    first) to pay their open debts (invoices, positive adjustments and opening balances):
    first the debts ``named[credit_id]`` lists, in that order, then the oldest due first.
    A card payment for an order, or a credit booked for one (a return's credit note), pays
    the order's invoices first and, while the order is neither invoiced nor cancelled,
    nothing else (``_held_for_orders``). Never more than a
    debt's open amount or a credit's unused amount. One dealer is settled by one transaction
    at a time (an advisory lock, taken in dealer order); its open balance confirmations are
    restated first when the write changed their figure (``confirmations_restate``). At most
    eight queries and one COPY, whatever the number of dealers (more only to restate)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return []
    named = named or {}
    with transaction.atomic():
        if connection.vendor == "postgresql":  # (SQLite, the demo's, writes one at a time)
            with connection.cursor() as cursor:
                # the dealers' rows first, as the invoice feed and an order's cancel hold them
                # when they settle: a payment that took the settlement lock first then waited
                # at its commit for the row (its entries' foreign key) while they waited for
                # the settlement lock (a deadlock, a 503)
                cursor.execute(
                    "SELECT id FROM accounts_customer WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
                    [ids],
                )
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s | k) FROM (SELECT unnest(%s::bigint[]) "
                    "AS k ORDER BY 1) AS dealers",
                    [_SETTLE_LOCK, ids],
                )
        confirmations_restate(customer_ids=ids)  # an open one no longer the ledger's figure
        credits = list(
            LedgerEntry.objects.filter(customer_id__in=ids, amount__lt=0)
            .annotate(left=-F("amount") - settled_sum("credit"))
            .filter(left__gt=0)
            .order_by("entry_date", "id")
            .values_list("id", "customer_id", "left")
        )
        if not credits:
            return []
        held, order_debts = _held_for_orders([credit_id for credit_id, _c, _left in credits])
        indebted = {customer_id for _id, customer_id, _left in credits}
        debts: dict[int, dict[int, Decimal]] = defaultdict(dict)  # dealer -> {debt: open}, FIFO
        for debt_id, customer_id, still_open in (
            LedgerEntry.objects.filter(customer_id__in=indebted, amount__gt=0)
            .annotate(
                still_open=F("amount") - settled_sum("debit"),
                due=Coalesce("due_date", "entry_date"),
            )
            .filter(still_open__gt=0)
            .order_by("due", "entry_date", "id")
            .values_list("id", "customer_id", "still_open")
        ):
            debts[customer_id][debt_id] = still_open
        settlements = []
        for credit_id, customer_id, left in credits:
            open_debts = debts[customer_id]
            first, rest = list(named.get(credit_id, ())), list(open_debts)
            if credit_id in held:  # a card payment for an order: that order's invoices first
                order_id, waiting = held[credit_id]
                own = order_debts.get(order_id, [])
                first, rest = (own, []) if waiting else (own + first, rest)
            order = [d for d in first if d in open_debts] + rest
            for debt_id in order:
                if left <= 0:
                    break
                still_open = open_debts.get(debt_id, ZERO)
                if still_open <= 0:
                    continue
                paid = min(left, still_open)
                settlements.append(Settlement(debit_id=debt_id, credit_id=credit_id, amount=paid))
                left -= paid
                if paid == still_open:
                    del open_debts[debt_id]
                else:
                    open_debts[debt_id] = still_open - paid
        rows_copy(  # COPY: thousands of settlements of a payments batch, no keys read back
            Settlement,
            fields=("debit", "credit", "amount"),
            rows=((s.debit_id, s.credit_id, s.amount) for s in settlements),
            constants={"created_at": timezone.now()},
        )
        return settlements


# statuses in which an order will never be invoiced: its card payment is free for other debts
_CLOSED_UNINVOICED = (OrderStatus.CANCELLED, OrderStatus.REJECTED)


def _waits(status, invoiced_at, invoiced, total) -> bool:
    """Whether a card-paid order still waits for invoices: none came yet (whatever its
    status), or some came for less than its total while it is still on its way (the ERP
    invoices what it ships, in parts). Once delivered, what its invoices came to is all
    there will be (a short delivery, a kuruş of rounding): the rest of the money is free."""
    if status in _CLOSED_UNINVOICED:
        return False
    if invoiced_at is None:
        return True
    return invoiced < total and status != OrderStatus.DELIVERED


def _held_for_orders(credit_ids: list[int]) -> tuple[dict[int, tuple[int, bool]], dict]:
    """The credits among ``credit_ids`` that are an order's money: card payments for an order
    and credits booked for one (a return's credit note): ``({credit: (order, waiting)},
    {order: [its invoices' ledger entries, oldest first]})``. ``waiting``: the order is
    neither cancelled nor rejected and waits for invoices (``_waits``), so the credit waits
    for them. Paid by card for the order, or given back for its goods, the money must not pay
    an older invoice and leave the order's own invoice (or its second one) open and then
    overdue."""
    columns = ("order__status", "order__invoiced_at", "order__invoiced_total", "order__grand_total")
    # by reference: the card payment is linked to its receipt only after the receipt is booked
    receipts = Payment.objects.filter(ledger_entry_id__in=credit_ids, method=Payment.Method.CARD)
    rows = list(
        CardPayment.objects.filter(order__isnull=False, reference__in=receipts.values("reference"))
        .annotate(
            credit=Subquery(
                Payment.objects.filter(reference=OuterRef("reference")).values("ledger_entry")[:1]
            )
        )
        .values_list("credit", "order_id", *columns)
    )
    rows += LedgerEntry.objects.filter(pk__in=credit_ids, order__isnull=False).values_list(
        "id", "order_id", *columns
    )
    held = {
        credit_id: (order_id, _waits(status, invoiced_at, invoiced, total))
        for credit_id, order_id, status, invoiced_at, invoiced, total in rows
    }
    order_debts: dict[int, list[int]] = defaultdict(list)
    if held:
        for order_id, entry_id in (
            Invoice.objects.filter(order_id__in={order_id for order_id, _waiting in held.values()})
            .order_by("issue_date", "id")
            .values_list("order_id", "ledger_entry_id")
        ):
            order_debts[order_id].append(entry_id)
    return held, order_debts
