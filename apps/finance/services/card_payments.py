"""Card payments taken online (3-D Secure through a POS provider, ``apps.finance.gateways``).

The flow (docs/payments.md):

1. ``card_payment_start``: a dealer pays an order awaiting payment, open invoices or an amount
   on account. A ``pending`` payment with our unique reference is written (and committed)
   before the gateway is asked for a session, so no session the gateway opens is unknown to
   us; the answer is the bank page the dealer's browser goes to. Starts of one dealer run one
   at a time; a start for what a pending payment already pays (a double click, a second tab)
   answers that payment and its page, so two sessions never charge the dealer twice.
2. ``card_payment_complete``: the bank posts the browser back with the session's ids. The post
   is unsigned, so it only names the payment: the gateway decides. We complete the session
   (``charge``, repeated with the same ids when the answer is lost: the gateway answers an
   earlier success as such), cross-check the transaction with ``check`` (amount and reference
   must be ours), then in one transaction: the payment is ``succeeded``, its receipt goes on
   the ledger (``payment_record_many``, as every receipt), the order is confirmed and
   ``payment.succeeded`` is written to the outbox. A payment already decided is returned as it
   is: the same callback twice changes nothing.
3. ``card_payments_reconcile`` (celery beat): payments still pending after
   ``CARD_PAYMENT_RECONCILE_MINUTES`` are decided by asking the gateway; refunds left pending
   by a timeout likewise; card orders not paid within ``CARD_PAYMENT_TIMEOUT_MINUTES`` are
   cancelled, releasing their stock.
4. ``card_refund``: finance staff give money back; when the gateway confirms, a ``refund``
   ledger entry adds it to the balance again and ``payment.refunded`` is written.

An answer that does not match its payment (another amount or reference) is never booked: the
payment fails, is flagged ``needs_review`` and finance is alerted.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from contextlib import contextmanager
from decimal import Decimal

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.accounts.models import Customer
from apps.accounts.services.alerts import staff_alert
from apps.core.clock import business_date, business_today
from apps.core.exceptions import Conflict, NotAllowed, NotFound, ServiceUnavailable, ValidationError
from apps.core.links import back_office_link
from apps.core.money import money_text, round2
from apps.core.text import check_text
from apps.finance.card_messages import (
    bank_declined_message,
    cancelled_after_paid_message,
    could_not_start_message,
    no_payment_message,
    not_completed_message,
    paid_after_cancel_message,
    paid_after_confirm_message,
)
from apps.finance.descriptions import refund_text
from apps.finance.events import payment_refunded_emit, payment_succeeded_emit
from apps.finance.gateways import (
    Checked,
    GatewayError,
    GatewayUnavailable,
    PaymentProvider,
    provider_get,
)
from apps.finance.models import CardPayment, CardRefund, LedgerEntry, Payment
from apps.finance.selectors import invoice_queryset
from apps.finance.services.ledger import MAX_AMOUNT, ledger_post, ledger_settle
from apps.finance.services.payments import payment_record_many
from apps.notifications.services import email_notify
from apps.orders.models import Order, OrderStatus, OrderStatusChange, PaymentMethod
from apps.orders.notes import not_paid_note, paid_by_card_note
from apps.orders.services.transitions import order_cancel, order_payment_confirmed
from apps.orders.states import SYSTEM

logger = logging.getLogger(__name__)

Status = CardPayment.Status
MAX_INVOICES = 100
RECONCILE_BATCH = 200
MAX_REASON_LENGTH = 2000  # a refund's reason, as the ledger keeps reasons
# gateway result codes (Paynet's): the session was used already; no such transaction; no
# (finished) session: 3-D Secure is not done yet, so the real return is still to come
USED_SESSION, NO_DATA, NO_SESSION = "17", "12", "13"


def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        raise ValidationError({"amount": [_("Enter a number.")]}) from None
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT:
        raise ValidationError({"amount": [_("Enter an amount greater than zero.")]})
    if amount != round2(amount):
        raise ValidationError({"amount": [_("Use at most 2 decimal places.")]})
    return round2(amount)


def _provider(name: str | None = None) -> PaymentProvider:
    provider = provider_get(name)
    if provider is None:
        raise ServiceUnavailable(
            _("Card payments are not available; pay by bank transfer."),
            code="payment_gateway_unavailable",
        )
    return provider


def return_url(provider_name: str) -> str:
    path = reverse("api-v1:payment-callback", kwargs={"provider": provider_name})
    return settings.PAYMENT_RETURN_BASE_URL.rstrip("/") + path


def _reference() -> str:
    return "CP" + uuid.uuid4().hex[:18].upper()


# --- starting ---------------------------------------------------------------------------------


def _order_to_pay(customer: Customer, number, amount: Decimal) -> Order:
    if not isinstance(number, str) or not number.strip():
        raise ValidationError({"order_number": [_("Enter an order number.")]})
    order = Order.objects.filter(customer=customer, number=number.strip()).first()
    if order is None:
        raise ValidationError({"order_number": [_("Your company has no order with this number.")]})
    if order.payment_method != PaymentMethod.CARD or order.status != OrderStatus.AWAITING_PAYMENT:
        raise Conflict(
            _("Order %(n)s is not waiting for a card payment (it is %(status)s).")
            % {"n": order.number, "status": order.get_status_display()},
            code="order_not_awaiting_payment",
        )
    if amount != order.grand_total:
        raise ValidationError(
            {
                "amount": [
                    _("Pay the order's total, %(total)s.")
                    % {"total": money_text(order.grand_total)}
                ]
            }
        )
    return order


def _invoices_to_pay(customer: Customer, numbers, amount: Decimal) -> list[str]:
    if not isinstance(numbers, list) or not numbers:
        raise ValidationError({"invoice_numbers": [_("Name at least one invoice.")]})
    if len(numbers) > MAX_INVOICES:
        raise ValidationError(
            {"invoice_numbers": [_("At most %(n)d invoices.") % {"n": MAX_INVOICES}]}
        )
    errors: dict[str, list[str]] = {}
    if not all(isinstance(n, str) and n for n in numbers):
        raise ValidationError({"invoice_numbers": [_("Invoice numbers are text.")]})
    open_amounts = dict(
        invoice_queryset(customer.invoices.filter(number__in=numbers)).values_list(
            "number", "open_amount"
        )
    )
    for position, number in enumerate(numbers):
        if numbers.index(number) != position:
            errors[f"invoice_numbers.{position}"] = [_("Named twice.")]
        elif number not in open_amounts:
            errors[f"invoice_numbers.{position}"] = [
                _("Your company has no invoice with this number.")
            ]
        elif open_amounts[number] <= 0:
            errors[f"invoice_numbers.{position}"] = [_("This invoice is paid.")]
    if errors:
        raise ValidationError(errors)
    still_open = sum(open_amounts.values(), Decimal("0.00"))
    if amount > still_open:
        raise ValidationError(
            {
                "amount": [
                    _("These invoices have %(open)s open: pay at most that.")
                    % {"open": money_text(still_open)}
                ]
            }
        )
    return list(numbers)


def card_payment_start(
    *, user, amount, order_number=None, invoice_numbers=None, provider_name: str | None = None
) -> CardPayment:
    """A pending payment and the gateway's page for it. An order: its grand total, while it
    awaits a card payment. Invoices: at most what is open on them. Neither: an amount on
    account. Invoices and amounts on account need the finance role's view of the ledger.
    A start for what a pending payment of the last minutes already pays answers that payment,
    its bank page still open (``_pending_session``): one charge, however often it is started."""
    customer = user.customer
    amount = _amount(amount)
    if order_number not in (None, "") and invoice_numbers not in (None, []):
        raise ValidationError(
            {"invoice_numbers": [_("Pay an order or invoices, not both at once.")]}
        )
    order, numbers = None, []
    if order_number not in (None, ""):
        order = _order_to_pay(customer, order_number, amount)
    else:
        if not user.has_perm("finance.view_ledgerentry"):
            raise NotAllowed(
                _("Paying invoices or an amount on account needs the finance or owner role.")
            )
        if invoice_numbers not in (None, []):
            numbers = _invoices_to_pay(customer, invoice_numbers, amount)
    provider = _provider(provider_name)
    with _starting(customer.pk):
        if (
            order is not None
            and CardPayment.objects.filter(order=order, status=Status.SUCCEEDED).exists()
        ):  # read under the lock: it may have been paid while this start waited
            raise Conflict(
                _("Order %(n)s is paid already.") % {"n": order.number}, code="order_paid"
            )
        pending = _pending_session(
            user=user, provider=provider, order=order, numbers=numbers, amount=amount
        )
        if pending is not None:
            return pending
        return _open_session(
            user=user, provider=provider, order=order, numbers=numbers, amount=amount
        )


_START_LOCK = 0x63617264 << 32  # advisory lock key space ("card"); the low half: the dealer


@contextmanager
def _starting(customer_id: int):
    """One payment start at a time per dealer, across the gateway's answer (a session-level
    advisory lock: the payment row must be committed before the gateway hears of it, so no
    transaction can span the start). A second start waits, then finds the first one's session.
    SQLite (the demo) serialises its writers already."""
    if connection.vendor != "postgresql":
        yield
        return
    key = _START_LOCK | customer_id
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        except DatabaseError:  # a broken connection: closing it releases the lock
            connection.close()


def _pending_session(
    *, user, provider: PaymentProvider, order: Order | None, numbers: list[str], amount: Decimal
) -> CardPayment | None:
    """The user's payment for the same thing (the order; the same invoices and amount; the
    same amount on account) started within ``CARD_PAYMENT_RECONCILE_MINUTES``, not yet decided
    and its bank page still open: a double click, a reload or a second tab get that page, so
    the dealer is charged once. An order a colleague is paying at the bank right now is a
    ``Conflict`` until their payment is decided (reconciliation decides an abandoned one)."""
    since = timezone.now() - datetime.timedelta(minutes=settings.CARD_PAYMENT_RECONCILE_MINUTES)
    if numbers:
        return _pending_for_invoices(
            user=user, provider=provider, numbers=numbers, amount=amount, since=since
        )
    pending = CardPayment.objects.filter(
        customer_id=user.customer_id,
        provider=provider.name,
        status=Status.PENDING,
        amount=amount,
        created_at__gte=since,
        order=order,
    ).exclude(redirect_url="")
    for payment in pending.select_related("created_by").order_by("-created_at"):
        if payment.created_by_id is None or payment.created_by_id != user.pk:
            if order is None:
                continue  # two people may each pay an amount on account
            raise Conflict(
                _(
                    "%(name)s is paying order %(n)s by card right now (started at %(time)s). "
                    "If they do not finish, you can pay it from %(free)s."
                )
                % {
                    "name": _who(payment.created_by),
                    "n": order.number,
                    "time": _clock(payment.created_at),
                    "free": _free_at(payment),
                },
                code="payment_in_progress",
            )
        if not payment.invoice_numbers:
            return payment
    return None


def _pending_for_invoices(
    *,
    user,
    provider: PaymentProvider,
    numbers: list[str],
    amount: Decimal,
    since: datetime.datetime,
) -> CardPayment | None:
    """A start for invoices: the user's own pending payment of the same invoices and amount
    (its page still open) is answered again; any other pending payment of one of these
    invoices is a ``Conflict``: the open amount checked at the start does not yet count it, so
    two bank pages for one invoice charged the dealer twice."""
    wanted = set(numbers)
    pending = (
        CardPayment.objects.filter(
            customer_id=user.customer_id,
            status=Status.PENDING,
            created_at__gte=since,
            order__isnull=True,
        )
        .exclude(redirect_url="")
        .exclude(invoice_numbers=[])
        .select_related("created_by")
        .order_by("-created_at")
    )
    for payment in pending:
        if not wanted & set(payment.invoice_numbers):
            continue
        if (
            payment.created_by_id == user.pk
            and payment.provider == provider.name
            and set(payment.invoice_numbers) == wanted
            and payment.amount == amount
        ):
            return payment
        raise Conflict(
            _(
                "%(name)s is paying invoices %(n)s by card right now (started at %(time)s). "
                "If they do not finish, you can pay them from %(free)s."
            )
            % {
                "name": _who(payment.created_by),
                "n": ", ".join(payment.invoice_numbers),
                "time": _clock(payment.created_at),
                "free": _free_at(payment),
            },
            code="payment_in_progress",
        )
    return None


def _free_at(payment: CardPayment) -> str:
    """When reconciliation will have decided a payment abandoned at the bank's page."""
    return _clock(
        payment.created_at
        + datetime.timedelta(minutes=settings.CARD_PAYMENT_RECONCILE_MINUTES)
        + _reconcile_interval()
    )


def _reconcile_interval() -> datetime.timedelta:
    """How often beat runs ``finance.card_payments_reconcile`` (its schedule in settings)."""
    entry = settings.CELERY_BEAT_SCHEDULE.get("finance-card-payments-reconcile", {})
    schedule = entry.get("schedule", 0)
    if isinstance(schedule, int | float):
        return datetime.timedelta(seconds=schedule)
    return getattr(schedule, "run_every", datetime.timedelta(0))


def _who(user) -> str:
    if user is None:
        return _("Someone in your company")
    return user.get_full_name() or user.email


def _clock(moment: datetime.datetime) -> str:
    """``14:05``: the distributor's wall clock."""
    return timezone.localtime(moment, timezone.get_default_timezone()).strftime("%H:%M")


def _open_session(
    *, user, provider: PaymentProvider, order: Order | None, numbers: list[str], amount: Decimal
) -> CardPayment:
    customer = user.customer
    if order is not None:
        description = _("Order %(n)s") % {"n": order.number}
    elif numbers:
        description = _("Invoices %(n)s") % {"n": ", ".join(numbers)}
    else:
        description = _("Payment on account")
    payment = CardPayment.objects.create(  # committed before the gateway hears of it
        customer=customer,
        created_by=user,
        provider=provider.name,
        reference=_reference(),
        amount=amount,
        currency=settings.CURRENCY,
        order=order,
        invoice_numbers=numbers,
    )
    try:
        started = provider.start(
            reference=payment.reference,
            amount=amount,
            return_url=return_url(provider.name),
            description=f"{customer.code} {description}"[:100],
        )
    except GatewayError as exc:
        logger.warning("card payment %s could not start: %s", payment.reference, exc.message)
        payment.status = Status.FAILED
        payment.message = could_not_start_message()[:255]
        payment.completed_at = timezone.now()
        payment.save(update_fields=["status", "message", "completed_at"])
        raise ServiceUnavailable(
            _(
                "The card payment service is not answering. Try again in a few minutes, "
                "or pay by bank transfer."
            ),
            code="payment_gateway_unavailable",
            wait=60,
        ) from None
    payment.session_id = started.session_id
    payment.token_id = started.token_id
    payment.redirect_url = started.redirect_url[:500]
    payment.save(update_fields=["session_id", "token_id", "redirect_url"])
    return payment


# --- the bank's return ------------------------------------------------------------------------


def card_payment_complete(*, provider_name: str, data) -> CardPayment:
    """The bank sent the dealer back with ``data`` (the session's ids). Unknown session:
    ``NotFound`` and nothing changes. Otherwise the gateway decides; a payment already
    decided is returned unchanged. When the gateway does not answer the payment stays
    pending (reconciliation decides it later)."""
    provider = provider_get(provider_name)
    if provider is None:
        raise NotFound(_("Unknown payment provider."))
    session_id, token_id = provider.callback_ids(data)
    for field, value in (("session_id", session_id), ("token_id", token_id)):
        try:
            check_text(value)
        except ValueError as exc:
            raise ValidationError({field: [str(exc)]}) from None
    if not session_id:
        raise ValidationError({"session_id": [_("This field is required.")]}, code="required")
    payment = CardPayment.objects.filter(provider=provider.name, session_id=session_id).first()
    if payment is None or (token_id and token_id != payment.token_id):
        logger.warning("payment callback for an unknown %s session", provider.name)
        raise NotFound(_("No payment has this session."))
    if payment.status != Status.PENDING:
        return payment
    try:
        charged = _charge(provider, payment)
    except GatewayUnavailable:
        logger.warning("card payment %s: the gateway did not answer the charge", payment.reference)
        return payment
    except GatewayError as exc:
        if exc.code == USED_SESSION:  # charged before (the answer was lost): ask what it holds
            return _decide_by_check(provider, payment)
        if exc.code == NO_SESSION:  # posted before the bank was done: not the bank's return
            logger.warning("card payment %s: a return before 3-D Secure", payment.reference)
            return payment
        return _fail(payment, not_completed_message(exc.message or ""))
    if not charged.succeeded:
        return _fail(payment, bank_declined_message(charged.bank_code, charged.message or ""))
    try:
        checked = provider.check(xact_id=charged.xact_id)
    except GatewayError:
        logger.warning("card payment %s: the cross-check did not answer", payment.reference)
        return payment  # charged, not yet cross-checked: reconciliation books it
    return _settle(payment, checked)


def _charge(provider: PaymentProvider, payment: CardPayment):
    """``charge`` with the same ids until it answers (``PAYNET_CHARGE_ATTEMPTS`` tries): a
    charge whose answer was lost is answered as an earlier success the next time."""
    attempts = max(1, settings.PAYNET_CHARGE_ATTEMPTS)
    for attempt in range(1, attempts + 1):
        try:
            return provider.charge(session_id=payment.session_id, token_id=payment.token_id)
        except GatewayUnavailable:
            if attempt == attempts:
                raise
            logger.info("card payment %s: charge attempt %d unanswered", payment.reference, attempt)
    raise AssertionError("unreachable")


def _decide_by_check(provider: PaymentProvider, payment: CardPayment) -> CardPayment:
    try:
        checked = provider.check(reference=payment.reference)
    except GatewayUnavailable:
        return payment
    except GatewayError as exc:
        if exc.code == NO_DATA:
            return _fail(payment, no_payment_message())
        return payment
    return _settle(payment, checked)


def _settle(payment: CardPayment, checked: Checked) -> CardPayment:
    """Book what the gateway holds for ``payment``: a success that matches it, a decline, or
    an answer that does not match (refused, flagged, finance alerted)."""
    if not checked.found:
        return _fail(payment, no_payment_message())
    if not checked.succeeded:
        return _fail(payment, bank_declined_message(checked.bank_code, checked.message or ""))
    if checked.reference != payment.reference or checked.amount != payment.amount:
        return _refuse_mismatch(payment, checked)
    return _succeed(payment, checked)


def _locked_pending(payment: CardPayment, *, or_failed: bool = False) -> CardPayment | None:
    """The payment locked after its company (the order of locks every order write keeps),
    or ``None`` when it is decided already. ``or_failed``: a payment failed without a
    person's review counts as undecided too, for what the gateway answers later and a
    person must know of: a charge that went through after reconciliation, asking the gateway
    meanwhile, found nothing yet and failed the payment (the money was taken)."""
    Customer.objects.select_for_update().filter(pk=payment.customer_id).exists()
    locked = CardPayment.objects.select_for_update().get(pk=payment.pk)
    if locked.status == Status.PENDING:
        return locked
    if or_failed and locked.status == Status.FAILED and not locked.needs_review:
        return locked
    return None


def _fail(payment: CardPayment, message: str) -> CardPayment:
    with transaction.atomic():
        locked = _locked_pending(payment)
        if locked is None:
            return CardPayment.objects.get(pk=payment.pk)
        locked.status = Status.FAILED
        locked.message = str(message)[:255]
        locked.needs_review = False
        locked.completed_at = timezone.now()
        locked.save(update_fields=["status", "message", "needs_review", "completed_at"])
        return locked


def _refuse_mismatch(payment: CardPayment, checked: Checked) -> CardPayment:
    def problem() -> str:
        return _(
            "The gateway reports %(amount)s for reference %(reference)s; the payment is "
            "%(expected)s for %(ours)s."
        ) % {
            "amount": money_text(checked.amount) if checked.amount is not None else "-",
            "reference": checked.reference or "-",
            "expected": money_text(payment.amount),
            "ours": payment.reference,
        }

    # failed already without a review (reconciliation found nothing yet): flagged all the
    # same, since the gateway holds money for it now
    with transaction.atomic():
        locked = _locked_pending(payment, or_failed=True)
        if locked is None:
            return CardPayment.objects.get(pk=payment.pk)
        locked.status = Status.FAILED
        locked.message = _("The payment could not be verified; our finance team will contact you.")
        locked.needs_review = True
        locked.completed_at = locked.completed_at or timezone.now()
        locked.save(update_fields=["status", "message", "needs_review", "completed_at"])
    logger.error(
        "card payment %s refused: %s (gateway transaction %s)",
        payment.reference,
        problem(),
        checked.xact_id,
    )
    _alert(locked, problem=problem, xact_id=checked.xact_id)
    return locked


def _succeed(payment: CardPayment, checked: Checked) -> CardPayment:
    """Book a payment the gateway holds as succeeded, also one failed meanwhile for want of
    an answer (the charge was still running when reconciliation asked): the money was
    taken, so it is booked, and a person is told when its order no longer waits for it."""
    with transaction.atomic():
        locked = _locked_pending(payment, or_failed=True)
        if locked is None:
            return CardPayment.objects.get(pk=payment.pk)
        customer = locked.customer
        now = timezone.now()
        _outcomes, errors = payment_record_many(
            records={
                0: {
                    "reference": locked.reference,
                    "customer_code": customer.code,
                    "amount": locked.amount,
                    "date": business_date(now),
                    "method": Payment.Method.CARD,
                    "invoice_numbers": list(locked.invoice_numbers),
                }
            },
            booking_card_payment=True,
        )
        if errors:
            # charged, but the ledger refuses it (the dealer was deleted meanwhile, or a
            # receipt holds the reference): it stays pending for a person, who is told
            return _needs_a_person(locked, checked, errors[0])
        locked.status = Status.SUCCEEDED
        locked.xact_id = checked.xact_id[:64]
        locked.card_masked = checked.card_masked[:32]
        locked.payment = Payment.objects.get(reference=locked.reference)
        locked.completed_at = now
        locked.message = ""
        if locked.order_id is not None:
            order = Order.objects.get(pk=locked.order_id)
            if order.status == OrderStatus.AWAITING_PAYMENT:
                order_payment_confirmed(order=order, note=paid_by_card_note(locked.reference))
            else:  # cancelled (by the dealer, or for want of payment) while the bank decided
                locked.message = (
                    paid_after_cancel_message()
                    if order.status == OrderStatus.CANCELLED
                    else paid_after_confirm_message()
                )
                locked.needs_review = True
                cancelled = order.status == OrderStatus.CANCELLED
                _alert(
                    locked,
                    problem=lambda: _paid_late_for_staff(order.number, cancelled=cancelled),
                    xact_id=locked.xact_id,
                )
        locked.save()
        payment_succeeded_emit(locked)
        return locked


def _paid_late_for_staff(
    order_number: str, *, cancelled: bool = False, cancelled_after: bool = False
) -> str:
    """What finance reads of a card payment whose order no longer takes it (the dealer reads
    ``paid_after_cancel_message``, ``paid_after_confirm_message`` or
    ``cancelled_after_paid_message``)."""
    if cancelled_after:
        text = _(
            "Order %(n)s was cancelled after this card payment paid it: the amount stays on "
            "the dealer's account. Refund it, or agree with the dealer what it pays."
        )
    elif cancelled:
        text = _(
            "Order %(n)s was cancelled before the bank confirmed this payment: the amount is "
            "booked on the dealer's account. Refund it, or agree with the dealer what it pays."
        )
    else:
        text = _(
            "Order %(n)s was confirmed by other means before the bank confirmed this payment: "
            "the amount is booked on the dealer's account. Refund it, or agree with the dealer "
            "what it pays."
        )
    return text % {"n": order_number}


def _alert(payment: CardPayment, *, problem, xact_id: str) -> None:
    """E-mail finance about a payment that needs a person (``PAYMENT_ALERT_EMAILS``, else
    ``staff_alert``: the staff who may refund card payments, as every staff e-mail finds its
    readers); ``problem`` is the text, or a function writing it in the staff's language."""

    def context() -> dict:
        return {
            "reference": payment.reference,
            "dealer": f"{payment.customer.code} {payment.customer.name}",
            "amount": f"{payment.amount:.2f}",
            "currency": payment.currency,
            "problem": problem() if callable(problem) else str(problem),
            "xact_id": xact_id,
            "back_office_url": back_office_link("admin:finance_cardpayment_change", payment.pk),
        }

    if not settings.PAYMENT_ALERT_EMAILS:
        staff_alert(
            customer=payment.customer,
            permission="finance.refund_cardpayment",
            template="finance/payment_alert",
            context=context,
        )
        return
    with translation.override(settings.LANGUAGE_CODE):
        data = context()
    for email in settings.PAYMENT_ALERT_EMAILS:
        email_notify(
            template="finance/payment_alert",
            to=email,
            context=data,
            customer=payment.customer,
            language=settings.LANGUAGE_CODE,
        )


# --- reconciliation ---------------------------------------------------------------------------


def _needs_a_person(payment: CardPayment, checked: Checked, errors) -> CardPayment:
    """A payment the bank charged that cannot be booked: kept ``pending`` and marked for
    review (reconciliation leaves it alone from now on), finance alerted."""
    problem = _("The bank charged the card but the payment could not be booked: %(why)s") % {
        "why": "; ".join(
            f"{field}: {' '.join(str(m) for m in messages)}" for field, messages in errors.items()
        )
    }
    logger.error("card payment %s charged, not booked: %s", payment.reference, errors)
    payment.needs_review = True
    payment.xact_id = checked.xact_id[:64]
    payment.message = problem[:255]
    payment.save(update_fields=["needs_review", "xact_id", "message"])
    _alert(payment, problem=problem, xact_id=checked.xact_id)
    return payment


def card_payments_order_cancelled(sender, order, **kwargs) -> None:
    """``order_cancelled``: a card payment had paid the order. The money stays on the
    dealer's account (the balance dropped when it was paid) and, no longer held for the
    order's invoice, pays the oldest debts; the payment is flagged for review, with a word
    for the dealer, and finance is e-mailed, who may refund it."""
    paid = CardPayment.objects.select_for_update().filter(
        order=order, status=Status.SUCCEEDED, needs_review=False
    )
    for payment in paid:
        payment.needs_review = True
        payment.message = cancelled_after_paid_message(order.number)
        payment.save(update_fields=["needs_review", "message"])
        _alert(
            payment,
            problem=lambda: _paid_late_for_staff(order.number, cancelled_after=True),
            xact_id=payment.xact_id,
        )
    if paid:  # the money waited for the order's invoice: now it pays the oldest debts
        ledger_settle(customer_ids=[order.customer_id])


def card_payments_order_delivered(sender, order, **kwargs) -> None:
    """``order_delivered``: a card-paid order invoiced for less than its total (a short
    delivery, a kuruş of rounding) waits for no more invoices: what its payment holds beyond
    them pays the oldest debts (``ledger._waits``)."""
    if order.invoiced_at is None or order.invoiced_total >= order.grand_total:
        return
    if CardPayment.objects.filter(order=order, status=Status.SUCCEEDED).exists():
        ledger_settle(customer_ids=[order.customer_id])


def card_payments_reconcile(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Decide what the gateway's silence left open: payments pending for longer than
    ``CARD_PAYMENT_RECONCILE_MINUTES`` and refunds whose answer was lost, by asking the
    gateway; then cancel card orders not paid within ``CARD_PAYMENT_TIMEOUT_MINUTES``."""
    now = now or timezone.now()
    counts = {"payments": 0, "refunds": 0, "orders_cancelled": 0}
    cutoff = now - datetime.timedelta(minutes=settings.CARD_PAYMENT_RECONCILE_MINUTES)
    pending = CardPayment.objects.filter(
        status=Status.PENDING, needs_review=False, created_at__lt=cutoff
    )
    for payment in pending[:RECONCILE_BATCH]:
        provider = provider_get(payment.provider)
        if provider is None:
            continue
        try:  # one payment that fails must not hold up the others, nor the expiry below
            if not payment.session_id:
                decided = _fail(payment, _("The payment page was never opened."))
            else:
                decided = _decide_by_check(provider, payment)
        except Exception:
            logger.exception("card payment %s could not be reconciled", payment.reference)
            continue
        counts["payments"] += decided.status != Status.PENDING
    for refund in CardRefund.objects.filter(
        status=CardRefund.Status.PENDING, created_at__lt=now - datetime.timedelta(minutes=1)
    ).select_related("card_payment")[:RECONCILE_BATCH]:
        try:
            counts["refunds"] += _refund_reconcile(refund)
        except Exception:
            logger.exception("card refund %s could not be reconciled", refund.pk)
    counts["orders_cancelled"] = card_orders_expire(now=now)
    return counts


def card_orders_expire(*, now: datetime.datetime | None = None) -> int:
    """Cancel card orders waiting for payment longer than ``CARD_PAYMENT_TIMEOUT_MINUTES``
    (counted from when they started waiting) with no payment pending, releasing their
    stock."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(minutes=settings.CARD_PAYMENT_TIMEOUT_MINUTES)
    waiting_since = Subquery(
        OrderStatusChange.objects.filter(
            order=OuterRef("pk"), to_status=OrderStatus.AWAITING_PAYMENT
        )
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    overdue = (
        Order.objects.filter(status=OrderStatus.AWAITING_PAYMENT, payment_method=PaymentMethod.CARD)
        .annotate(since=Coalesce(waiting_since, "created_at"))
        .filter(since__lt=cutoff)
        .exclude(card_payments__status=Status.PENDING)
        .order_by("since")
    )
    cancelled = 0
    for order in overdue[:RECONCILE_BATCH]:
        try:
            order_cancel(
                order=order,
                by=None,
                actor=SYSTEM,
                reason=not_paid_note(settings.CARD_PAYMENT_TIMEOUT_MINUTES),
            )
        except Conflict:  # paid or cancelled meanwhile
            continue
        cancelled += 1
    return cancelled


# --- refunds ----------------------------------------------------------------------------------


def card_refund(*, card_payment: CardPayment, amount=None, reason: str, by) -> CardRefund:
    """Give back ``amount`` (``None``: all that is left) of a succeeded card payment. The
    refund is ``succeeded`` when the gateway confirms (a ``refund`` ledger entry and
    ``payment.refunded``), ``failed`` with its message when it refuses, and stays ``pending``
    when it does not answer (reconciliation asks it later)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the money is given back.")]})
    if len(reason) > MAX_REASON_LENGTH:  # as the ledger's reasons
        raise ValidationError(
            {"reason": [_("At most %(n)d characters.") % {"n": MAX_REASON_LENGTH}]}
        )
    provider = _provider(card_payment.provider)
    with transaction.atomic():
        locked = CardPayment.objects.select_for_update().get(pk=card_payment.pk)
        if locked.status == Status.REFUNDED:
            raise Conflict(_("This payment was refunded in full."), code="payment_refunded")
        if locked.status != Status.SUCCEEDED:
            raise Conflict(
                _("Only a succeeded payment can be refunded."), code="payment_not_succeeded"
            )
        if locked.refunds.filter(status=CardRefund.Status.PENDING).exists():
            raise Conflict(
                _("A refund of this payment is waiting for the gateway's answer."),
                code="refund_pending",
            )
        left = locked.amount - locked.refunded_amount
        value = left if amount in (None, "") else _amount(amount)
        if value > left:
            raise ValidationError(
                {"amount": [_("At most %(left)s is left to refund.") % {"left": money_text(left)}]}
            )
        full = value == left
        same_day = business_date(locked.completed_at) == business_today()
        if not full and same_day and provider.same_day_refund_must_be_full():
            raise ValidationError(
                {
                    "amount": [
                        _(
                            "On the day of the payment the bank can only reverse all of it "
                            "(%(left)s); refund part of it from tomorrow."
                        )
                        % {"left": left}
                    ]
                }
            )
        refund = CardRefund.objects.create(
            card_payment=locked, amount=value, reason=reason, created_by=by
        )
    try:
        provider.refund(xact_id=locked.xact_id, amount=None if full else value)
    except GatewayUnavailable:
        logger.warning("refund %s of %s: the gateway did not answer", refund.pk, locked.reference)
        return refund
    except GatewayError as exc:
        refund.status = CardRefund.Status.FAILED
        refund.message = (exc.message or _("The gateway refused the refund."))[:255]
        refund.completed_at = timezone.now()
        refund.save(update_fields=["status", "message", "completed_at"])
        return refund
    return _refund_succeeded(refund)


def _refund_succeeded(refund: CardRefund) -> CardRefund:
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=refund.card_payment.customer_id).exists()
        payment = CardPayment.objects.select_for_update().get(pk=refund.card_payment_id)
        refund = CardRefund.objects.select_for_update().get(pk=refund.pk)
        if refund.status != CardRefund.Status.PENDING:
            return refund
        refund.ledger_entry = ledger_post(
            customer=payment.customer,
            kind=LedgerEntry.Kind.REFUND,
            amount=refund.amount,
            by=refund.created_by,
            reason=refund.reason,
            description=refund_text(),
            document_number=payment.reference,
        )
        refund.status = CardRefund.Status.SUCCEEDED
        refund.completed_at = timezone.now()
        refund.save(update_fields=["ledger_entry", "status", "completed_at"])
        payment.refunded_amount += refund.amount
        if payment.refunded_amount >= payment.amount:
            payment.status = Status.REFUNDED
        payment.save(update_fields=["refunded_amount", "status"])
        payment_refunded_emit(payment, refund)
        return refund


def _refund_reconcile(refund: CardRefund) -> bool:
    """A refund the gateway did not answer: what it holds decides (its refunded total covers
    our confirmed refunds and this one: succeeded; it does not: failed)."""
    payment = refund.card_payment
    provider = provider_get(payment.provider)
    if provider is None:
        return False
    try:
        checked = provider.check(xact_id=payment.xact_id)
    except GatewayError:
        return False
    confirmed = payment.refunds.filter(status=CardRefund.Status.SUCCEEDED).aggregate(
        total=Coalesce(Sum("amount"), Decimal("0.00"))
    )["total"]
    if checked.refunded >= confirmed + refund.amount:
        _refund_succeeded(refund)
    else:
        with transaction.atomic():
            locked = CardRefund.objects.select_for_update().get(pk=refund.pk)
            if locked.status == CardRefund.Status.PENDING:
                locked.status = CardRefund.Status.FAILED
                locked.message = _("The gateway has no record of this refund.")[:255]
                locked.completed_at = timezone.now()
                locked.save(update_fields=["status", "message", "completed_at"])
    return True
