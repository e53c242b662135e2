"""Balance confirmation (mutabakat): the distributor states a dealer's balance as of a date
and the dealer answers.

* ``confirmation_send``: staff (or the quarterly beat job) send one; the balance is the sum of
  the ledger up to that date; the dealer's owners and finance users get an e-mail with the
  figure and a link to the statement; one per dealer and date;
* ``confirmation_confirm`` / ``confirmation_dispute`` (reason and the dealer's own figure):
  the dealer's owner or finance user, once, while it is open: up to its ``respond_by`` day
  (Istanbul); an answer after it finds the balance deemed accepted (409), job run or not; a
  dispute is e-mailed to finance staff;
* ``confirmations_restate``: after every ledger write, an open one whose balance as of its
  date changed (an entry dated into its period came later) is corrected and sent again;
* ``confirmations_deem_accepted``: an open one past its ``respond_by`` date counts as accepted
  (daily beat job);
* ``confirmations_send_quarterly``: in a quarter's first days
  (``BALANCE_CONFIRMATION_QUARTERLY_DAYS``; 0 turns it off), a confirmation as of the previous
  quarter's last day to every active dealer with a ledger.

Every step is saved through the ORM, so django-auditlog records it."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.accounts.models import NOT_APPROVED, Customer, CustomerStatus
from apps.accounts.services.alerts import staff_alert
from apps.core.clock import EARLIEST_RECORDED_DATE, business_today
from apps.core.exceptions import Conflict, ValidationError
from apps.core.links import back_office_link, portal_link
from apps.core.money import MAX_AMOUNT, money_text, round2
from apps.finance.models import BalanceConfirmation
from apps.finance.selectors import balance_as_of, finance_contacts
from apps.notifications.services import customer_language, email_notify

Status = BalanceConfirmation.Status
MAX_REASON = 2000


def confirmation_send(*, customer: Customer, as_of: datetime.date, by=None) -> BalanceConfirmation:
    """Ask ``customer`` to confirm its balance as of ``as_of`` (not in the future)."""
    today = business_today()
    if as_of > today:
        raise ValidationError({"as_of": [_("A balance can be confirmed up to today, not later.")]})
    if as_of < EARLIEST_RECORDED_DATE:
        raise ValidationError(
            {
                "as_of": [
                    _("Choose a date from %(first)s.")
                    % {"first": EARLIEST_RECORDED_DATE.isoformat()}
                ]
            }
        )
    if customer.status in NOT_APPROVED:  # nobody of the company could sign in to answer it
        raise ValidationError(
            {"customer": [_("This dealer is not approved: nobody of it could answer.")]}
        )
    try:
        with transaction.atomic():
            confirmation = BalanceConfirmation.objects.create(
                customer=customer,
                as_of=as_of,
                balance=balance_as_of(customer, as_of),
                respond_by=today + datetime.timedelta(days=settings.BALANCE_CONFIRMATION_DAYS),
                sent_by=by if getattr(by, "pk", None) else None,
            )
    except IntegrityError:
        raise Conflict(
            _("This dealer was already asked to confirm its balance as of this date."),
            code="confirmation_exists",
        ) from None
    _notify(confirmation)
    return confirmation


def _notify(confirmation: BalanceConfirmation, *, earlier: Decimal | None = None) -> None:
    """E-mail the confirmation to the dealer's finance contacts; ``earlier``: the figure an
    earlier e-mail gave, which this one corrects (the reader must tell which one counts)."""
    customer = confirmation.customer
    language = customer_language(customer)
    year_start = confirmation.as_of.replace(month=1, day=1)
    context = {
        "id": confirmation.pk,
        "as_of": confirmation.as_of.isoformat(),
        "balance": f"{confirmation.balance:.2f}",
        "earlier": f"{earlier:.2f}" if earlier is not None else "",
        "owes": confirmation.balance > 0,
        "currency": settings.CURRENCY,
        "respond_by": confirmation.respond_by.isoformat(),
        "distributor": settings.COMPANY_NAME,
        # the dealer portal's pages: a browser signs in there (the API wants a token)
        "answer_url": portal_link("confirmations", str(confirmation.pk)),
        "statement_url": (
            f"{portal_link('statement')}"
            f"?date_from={year_start}&date_to={confirmation.as_of}&format=pdf"
        ),
    }
    users = finance_contacts(customer=customer)
    with translation.override(language):
        for user in users:
            email_notify(
                template="finance/balance_confirmation",
                to=user.email,
                context=context,
                user=user,
                customer=customer,
                language=language,
            )


def _deem_if_late(confirmation: BalanceConfirmation) -> None:
    """An answer that comes after ``respond_by`` (the distributor's day) finds the balance
    accepted, as the daily job would have marked it by then: the late one is marked now, in
    its own transaction (the refusal that follows must not undo it), whether or not the job
    has run yet."""
    with transaction.atomic():
        locked = BalanceConfirmation.objects.select_for_update().get(pk=confirmation.pk)
        if locked.status == Status.OPEN and locked.respond_by < business_today():
            _deem(locked)


def _deem(locked: BalanceConfirmation) -> None:
    locked.status = Status.DEEMED_ACCEPTED
    locked.answered_at = timezone.now()
    locked.save(update_fields=["status", "answered_at"])  # audited, one by one


def _open(confirmation: BalanceConfirmation) -> BalanceConfirmation:
    locked = BalanceConfirmation.objects.select_for_update().get(pk=confirmation.pk)
    if locked.status != Status.OPEN:
        raise Conflict(
            _("This balance confirmation was already answered (%(status)s).")
            % {"status": locked.get_status_display()},
            code="confirmation_answered",
        )
    return locked


def _answer(confirmation: BalanceConfirmation, *, by, status: str, **fields) -> BalanceConfirmation:
    """The dealer's answer, once, while it is open: a late one finds it deemed accepted."""
    _deem_if_late(confirmation)
    with transaction.atomic():
        locked = _open(confirmation)
        changes = {"status": status, "answered_at": timezone.now(), "answered_by": by, **fields}
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.save(update_fields=list(changes))
        if status == Status.DISPUTED:  # finance hears of it with the answer, or not at all
            _disputed_alert(locked)
    return locked


def confirmation_confirm(*, confirmation: BalanceConfirmation, by) -> BalanceConfirmation:
    return _answer(confirmation, by=by, status=Status.CONFIRMED)


def confirmation_dispute(
    *, confirmation: BalanceConfirmation, by, reason, their_balance
) -> BalanceConfirmation:
    errors = {}
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        errors["reason"] = [_("Say what does not match.")]
    elif len(reason) > MAX_REASON:
        errors["reason"] = [_("At most %(n)d characters.") % {"n": MAX_REASON}]
    try:
        amount = Decimal(str(their_balance)) if their_balance is not None else None
    except (InvalidOperation, ValueError):
        amount = None
    if isinstance(their_balance, bool) or amount is None or not amount.is_finite():
        errors["their_balance"] = [_("Give your balance as a number (positive: you owe).")]
    elif abs(amount) > MAX_AMOUNT:
        errors["their_balance"] = [
            _("The amount is too large: at most %(max)s.") % {"max": money_text(MAX_AMOUNT)}
        ]
    elif amount != round2(amount):
        errors["their_balance"] = [_("Use an amount with at most 2 decimal places.")]
    if errors:
        raise ValidationError(errors)
    return _answer(
        confirmation,
        by=by,
        status=Status.DISPUTED,
        dispute_reason=reason,
        their_balance=round2(amount),
    )


def _disputed_alert(confirmation: BalanceConfirmation) -> None:
    """``finance/confirmation_disputed`` to the finance staff who send confirmations
    (``staff_alert``), in the back office's language."""
    customer = confirmation.customer
    staff_alert(
        customer=customer,
        permission="finance.add_balanceconfirmation",
        template="finance/confirmation_disputed",
        context=lambda: {
            "dealer": f"{customer.code} {customer.name}",
            "as_of": confirmation.as_of.isoformat(),
            "balance": f"{confirmation.balance:.2f}",
            "their_balance": f"{confirmation.their_balance:.2f}",
            "currency": settings.CURRENCY,
            "reason": confirmation.dispute_reason,
            "back_office_url": back_office_link(
                "admin:finance_balanceconfirmation_change", confirmation.pk
            ),
        },
    )


def confirmations_restate(*, customer_ids) -> list[BalanceConfirmation]:
    """After a ledger write: an open confirmation whose balance as of its date is no longer
    the ledger's (an entry dated into its period came later: an ERP invoice or payment dated
    back, a correction) is restated before anyone confirms a wrong figure: the balance is
    the ledger's again, the answer date moves ``BALANCE_CONFIRMATION_DAYS`` on, and the
    dealer is e-mailed the corrected figure. Answered ones stay as they were answered (the
    back office shows the ledger's figure beside them). One query when none is open."""
    restated = []
    for confirmation in (
        BalanceConfirmation.objects.select_for_update()
        .filter(customer_id__in=customer_ids, status=Status.OPEN)
        .select_related("customer")
        .order_by("id")
    ):
        balance = balance_as_of(confirmation.customer, confirmation.as_of)
        if balance == confirmation.balance:
            continue
        earlier = confirmation.balance
        confirmation.balance = balance
        confirmation.respond_by = business_today() + datetime.timedelta(
            days=settings.BALANCE_CONFIRMATION_DAYS
        )
        confirmation.save(update_fields=["balance", "respond_by"])  # audited: old and new
        _notify(confirmation, earlier=earlier)
        restated.append(confirmation)
    return restated


def confirmations_deem_accepted(*, today: datetime.date | None = None) -> int:
    """Open confirmations past their answer date count as accepted; how many changed."""
    today = today or business_today()
    changed = 0
    for confirmation in BalanceConfirmation.objects.filter(
        status=Status.OPEN, respond_by__lt=today
    ).iterator():
        with transaction.atomic():
            locked = BalanceConfirmation.objects.select_for_update().get(pk=confirmation.pk)
            if locked.status != Status.OPEN:
                continue
            _deem(locked)
            changed += 1
    return changed


def quarter_end_before(day: datetime.date) -> datetime.date:
    """The last day of the quarter before the one ``day`` is in."""
    first_month = 3 * ((day.month - 1) // 3) + 1
    return day.replace(month=first_month, day=1) - datetime.timedelta(days=1)


def confirmations_send_quarterly(*, today: datetime.date | None = None) -> int:
    """A confirmation as of the previous quarter's last day to every active dealer that has a
    ledger and was not asked for that date yet; how many were sent. Safe to run every day."""
    today = today or business_today()
    as_of = quarter_end_before(today)
    if (today - as_of).days > settings.BALANCE_CONFIRMATION_QUARTERLY_DAYS:
        return 0  # only in the quarter's first days (a beat run missed on day 1 catches up)
    asked = BalanceConfirmation.objects.filter(as_of=as_of).values("customer_id")
    dealers = (
        Customer.objects.filter(status=CustomerStatus.ACTIVE, ledger_entries__entry_date__lte=as_of)
        .exclude(pk__in=asked)
        .distinct()
        .order_by("pk")
    )
    sent = 0
    for customer in dealers.iterator():
        try:
            confirmation_send(customer=customer, as_of=as_of)
        except Conflict:  # another run sent it meanwhile
            continue
        sent += 1
    return sent
