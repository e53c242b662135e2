"""Every status change of an order after placement, through one function (``_move``) that
asks the status machine (``apps.orders.states``), applies the stock side effect (cancelled or
rejected: the reservation is released; shipped: it becomes a sale), stamps the time, records
the change in the history (who, when, from, to, note) and writes ``order.status_changed``
(and ``order.cancelled``) to the outbox, all in one transaction.

Locks: dealer (when the credit chain runs) -> order -> stock levels, the order placement uses.
"""

from __future__ import annotations

import unicodedata

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import Customer
from apps.core.exceptions import Conflict, ValidationError
from apps.core.text import key_problem
from apps.inventory.services import serials_for_sale, stock_commit_sale, stock_release
from apps.orders.events import order_status_changed_emit
from apps.orders.models import Order, OrderLine, OrderStatusChange
from apps.orders.models import OrderStatus as S
from apps.orders.notes import (
    credit_approved_note,
    is_system_note,
    owner_approved_note,
    payment_received_note,
)
from apps.orders.notifications import order_status_notify
from apps.orders.services.placement import continue_chain, order_reference
from apps.orders.signals import order_cancelled, order_delivered
from apps.orders.states import DEALER, STAFF, SYSTEM, check_transition, next_statuses

MAX_TEXT = 1000
STAMPS = {
    S.CONFIRMED: "confirmed_at",
    S.SHIPPED: "shipped_at",
    S.DELIVERED: "delivered_at",
    S.CANCELLED: "cancelled_at",
}


def _text(value, field: str, *, required: bool = False, max_length: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: [_("This field is required.")]}, code="required")
    if len(value) > max_length:
        raise ValidationError({field: [_("At most %(n)d characters.") % {"n": max_length}]})
    return value


def _locked(order: Order) -> Order:
    """The order, locked, after its company: every write that locks both (placement,
    approval, every status move) takes the company first, then the order. Locking them in the
    other order deadlocked a cancel beside an approval of the same company (schemathesis
    found it)."""
    list(
        Customer.objects.select_for_update()
        .filter(pk=order.customer_id)
        .values_list("pk", flat=True)
    )
    return Order.objects.select_for_update(of=("self",)).select_related("customer").get(pk=order.pk)


def _move(
    order: Order, to: str, *, actor: str, by=None, note: str = "", serials=None, api_key=None
) -> Order:
    """Move a locked ``order`` to ``to`` (inside the caller's transaction); ``api_key``: the
    ERP connector's key that asked, recorded with the change."""
    check_transition(order.status, to, actor)
    previous = order.status
    now = timezone.now()
    reference = order_reference(order.number)
    if to in (S.CANCELLED, S.REJECTED):
        stock_release(reference=reference, actor=by)
    elif to == S.SHIPPED:
        _ship_stock(order, serials=serials, actor=by)
    order.status = to
    fields = ["status", "updated_at"]
    if to in STAMPS:
        setattr(order, STAMPS[to], now)
        fields.append(STAMPS[to])
    order.save(update_fields=fields)
    OrderStatusChange.objects.create(
        order=order,
        from_status=previous,
        to_status=to,
        changed_by=by if getattr(by, "pk", None) else None,
        api_key=api_key,
        actor=actor,
        note=note,
        created_at=now,
    )
    order_status_changed_emit(order, previous_status=previous)
    order_status_notify(
        order,
        note=note,
        note_by_system=is_system_note(from_status=previous, to_status=to, actor=actor, note=note),
    )
    if to == S.CANCELLED:
        order_cancelled.send(
            sender=Order, order=order, actor=actor, by=by if getattr(by, "pk", None) else None
        )
    elif to == S.DELIVERED:
        order_delivered.send(sender=Order, order=order)
    return order


def _ship_stock(order: Order, *, serials, actor) -> None:
    """The reservation becomes a sale. Serial-tracked lines take the serial numbers given
    (``{sku: [serial, ...]}``) or, when none are given, the oldest ones in stock."""
    lines = list(order.lines.select_related("product"))
    given = serials or {}
    unknown = sorted(set(given) - {line.sku for line in lines})
    if unknown:
        raise ValidationError(
            {"serials": [_("Not on this order: %(s)s.") % {"s": ", ".join(unknown)}]}
        )
    untracked = sorted(
        line.sku for line in lines if line.sku in given and not line.product.serial_tracked
    )
    if untracked:
        raise ValidationError(
            {"serials": [_("Not serial-tracked: %(s)s.") % {"s": ", ".join(untracked)}]}
        )
    reference = order_reference(order.number)
    tracked = [line for line in lines if line.product.serial_tracked]
    # none named: the oldest free ones, in the warehouses whose units ship
    chosen: dict[int, list[str]] = serials_for_sale(
        reference=reference,
        product_ids=[line.product_id for line in tracked if given.get(line.sku) is None],
    )
    for line in tracked:
        if given.get(line.sku) is not None:
            chosen[line.product_id] = list(given[line.sku])
        chosen.setdefault(line.product_id, [])
    stock_commit_sale(reference=reference, actor=actor, serials=chosen)
    for line in lines:
        if line.product_id in chosen:
            OrderLine.objects.filter(pk=line.pk).update(serial_numbers=chosen[line.product_id])


# --- the dealer's decisions -------------------------------------------------------------------


def order_approve(*, order: Order, by) -> Order:
    """A dealer owner approves an order over a user's limit; the placement chain continues
    (credit limit, payment method) from here."""
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=order.customer_id)
        order = _locked(order)
        if order.status != S.AWAITING_APPROVAL:
            raise Conflict(
                _("Order %(n)s is not waiting for approval: it is %(status)s.")
                % {"n": order.number, "status": order.get_status_display()},
                code="invalid_transition",
                extra={"status": order.status, "allowed": next_statuses(order.status, DEALER)},
            )
        order.approved_by, order.approved_at = by, timezone.now()
        order.save(update_fields=["approved_by", "approved_at", "updated_at"])
        return _move(
            order,
            continue_chain(
                customer=customer,
                grand_total=order.grand_total,
                payment_method=order.payment_method,
            ),
            actor=DEALER,
            by=by,
            note=owner_approved_note(),
        )


def order_reject(*, order: Order, by, reason: str) -> Order:
    reason = _text(reason, "reason", required=True)
    with transaction.atomic():
        return _move(_locked(order), S.REJECTED, actor=DEALER, by=by, note=reason)


def order_cancel(*, order: Order, by, reason: str = "", actor: str = DEALER) -> Order:
    """Dealers cancel while awaiting_* or confirmed and not yet invoiced; staff (and the ERP)
    also while processing or invoiced; nobody after shipping. The reservation is released. A
    dealer says why (API.md: ``{reason}``); staff and the system may leave it empty."""
    reason = _text(reason, "reason", required=actor == DEALER)
    with transaction.atomic():
        order = _locked(order)
        if actor == DEALER and order.invoiced_at is not None and order.status != S.CANCELLED:
            # the ERP billed it: cancelling takes a credit note, which staff arrange
            raise Conflict(
                _(
                    "Order %(n)s is invoiced already: ask us to cancel it (the invoice needs "
                    "a credit note)."
                )
                % {"n": order.number},
                code="order_invoiced",
            )
        return _move(order, S.CANCELLED, actor=actor, by=by, note=reason)


# --- the back office and the ERP --------------------------------------------------------------


def _awaiting_credit(order: Order) -> Order:
    """Credit decisions apply to orders waiting for one (staff may also confirm an unpaid
    card order, but not as a credit approval)."""
    order = _locked(order)
    if order.status != S.AWAITING_CREDIT_APPROVAL:
        raise Conflict(
            _("Order %(n)s is not waiting for a credit decision.") % {"n": order.number},
            code="invalid_transition",
            extra={"status": order.status, "allowed": []},
        )
    return order


def order_credit_approve(*, order: Order, by, note: str = "") -> Order:
    note = _text(note, "note") or credit_approved_note()
    with transaction.atomic():
        order = _awaiting_credit(order)
        return _move(order, S.CONFIRMED, actor=STAFF, by=by, note=note)


def order_credit_reject(*, order: Order, by, reason: str) -> Order:
    reason = _text(reason, "reason", required=True)
    with transaction.atomic():
        order = _awaiting_credit(order)
        return _move(order, S.REJECTED, actor=STAFF, by=by, note=reason)


def order_payment_confirmed(*, order: Order, note: str = "") -> Order:
    """The gateway confirmed the card payment of an ``awaiting_payment`` order."""
    with transaction.atomic():
        return _move(
            _locked(order), S.CONFIRMED, actor=SYSTEM, note=note or payment_received_note()
        )


def order_payment_received(*, order: Order, by, note: str) -> Order:
    """Finance staff confirm an order waiting for its card payment, paid by other means (a
    bank transfer): ``note`` says how (kept in the history; the dealer sees it). A card
    payment completing later is kept on the dealer's account and flagged for finance."""
    note = _text(note, "note", required=True)
    with transaction.atomic():
        order = _locked(order)
        if order.status != S.AWAITING_PAYMENT:
            raise Conflict(
                _("Order %(n)s is not waiting for a payment.") % {"n": order.number},
                code="invalid_transition",
                extra={"status": order.status, "allowed": []},
            )
        return _move(order, S.CONFIRMED, actor=STAFF, by=by, note=note)


SHIPMENT_STATUSES = (S.PROCESSING, S.SHIPPED, S.DELIVERED)


def order_set_status(
    *,
    order: Order,
    status: str,
    actor: str = STAFF,
    by=None,
    note: str = "",
    tracking_number: str | None = None,
    carrier: str | None = None,
    serials: dict[str, list[str]] | None = None,
    api_key=None,
) -> tuple[Order, bool]:
    """Fulfilment by staff or the ERP (``api_key``: the connector's key, recorded with the
    change): ``processing``, ``shipped`` (tracking number, carrier, serial numbers),
    ``delivered``, ``cancelled``. Asking for the status the order already has changes nothing
    and answers ``(order, False)`` (an unattended ERP connector may send the same update
    twice); a tracking number or carrier is still recorded. Those two go with a shipment
    only: with ``processing``, ``shipped`` or ``delivered`` (a cancelled, rejected or waiting
    order took them silently when its own status was sent again)."""
    if status not in S.values:
        raise ValidationError({"status": [_("Unknown status.")]})
    note = _text(note, "note")
    tracking = _text(tracking_number, "tracking_number", max_length=64)
    # the dealer copies it into the carrier's page: as a key, nothing invisible or look-alike
    if tracking and (problem := key_problem(unicodedata.normalize("NFC", tracking))):
        raise ValidationError({"tracking_number": [problem]})
    carrier_name = _text(carrier, "carrier", max_length=64)
    if status not in SHIPMENT_STATUSES:
        message = _("A tracking number and a carrier go with processing, shipped or delivered.")
        given = {"tracking_number": tracking, "carrier": carrier_name}
        if any(given.values()):
            raise ValidationError({field: [message] for field, value in given.items() if value})
    with transaction.atomic():
        order = _locked(order)
        changed_fields = []
        if tracking and tracking != order.tracking_number:
            order.tracking_number = tracking
            changed_fields.append("tracking_number")
        if carrier_name and carrier_name != order.carrier:
            order.carrier = carrier_name
            changed_fields.append("carrier")
        if changed_fields:
            order.save(update_fields=[*changed_fields, "updated_at"])
        if order.status == status:
            if serials:
                _serials_as_recorded(order, serials)
            return order, False
        moved = _move(
            order, status, actor=actor, by=by, note=note, serials=serials, api_key=api_key
        )
        return moved, True


def _serials_as_recorded(order: Order, serials: dict[str, list[str]]) -> None:
    """A repeated ``shipped`` may name the serial numbers again, not other ones: the units
    that left are recorded (and out of stock); a silent 200 would let the ERP believe its
    correction was taken."""
    recorded = {
        line.sku: sorted(line.serial_numbers or [])
        for line in order.lines.all()
        if line.serial_numbers
    }
    differing = sorted(
        sku for sku, given in serials.items() if sorted(given or []) != recorded.get(sku, [])
    )
    if differing:
        raise Conflict(
            _(
                "The order shipped with other serial numbers for %(skus)s; they cannot be "
                "changed by sending the status again."
            )
            % {"skus": ", ".join(differing)},
            code="serials_recorded",
        )
