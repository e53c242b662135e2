"""What the system writes as an order status change's note, and how a stored note is shown.

A note is stored as written, in the language active then (a card payment's bank callback, a
worker: English; a portal action: Turkish). The texts the system writes come from the writers
below; ``order_note_shown`` writes a stored one again in the reader's language (the dealer
API, the portal, the e-mails), a person's note as it is. The services write with these
functions, so what is written is what is recognised.
"""

from __future__ import annotations

from functools import partial

from django.utils.translation import gettext as _

from apps.core.text import SystemTexts
from apps.orders.models import OrderStatus as S


def placed_note(status: str) -> str:
    return {
        S.AWAITING_APPROVAL: _("Placed; above the user's order limit: waits for the owner."),
        S.AWAITING_CREDIT_APPROVAL: _("Placed; above the credit limit: waits for finance."),
        S.AWAITING_PAYMENT: _("Placed; waits for the card payment."),
    }.get(status, _("Placed."))


def owner_approved_note() -> str:
    return _("Approved by the owner.")


def credit_approved_note() -> str:
    return _("Credit approved.")


def payment_received_note() -> str:
    return _("Payment received.")


def paid_by_card_note(reference: str) -> str:
    return _("Paid by card (%(ref)s).") % {"ref": reference}


def not_paid_note(minutes) -> str:
    return _("Not paid within %(n)s minutes.") % {"n": minutes}


def quote_note(number: str) -> str:
    """The note of an order placed by accepting a quote (the order's own ``note``)."""
    return _("Quote %(n)s") % {"n": number}


# one writer per status a placement can end in
_PLACED_WRITERS = tuple(
    partial(placed_note, status)
    for status in (
        S.CONFIRMED,
        S.AWAITING_APPROVAL,
        S.AWAITING_CREDIT_APPROVAL,
        S.AWAITING_PAYMENT,
    )
)

_NOTES = SystemTexts(
    *_PLACED_WRITERS,
    owner_approved_note,
    credit_approved_note,
    payment_received_note,
    paid_by_card_note,
    not_paid_note,
    quote_note,
)


_ORDER_NOTE = SystemTexts(quote_note)


def order_note_shown(stored: str) -> str:
    """The order's own note in the active language when the system wrote it (an accepted
    quote's), else as written."""
    return _ORDER_NOTE.shown(stored)


def system_note_shown(stored: str) -> str:
    """A note the system wrote (the caller knows it did: an e-mail's ``note_by_system``) in
    the active language."""
    return _NOTES.shown(stored)


# which notes the system writes on which moves: a person's note on any other move (a dealer's
# cancel reason "Paid by card (CP...)."), or one that merely reads like a system text, is
# shown as written, not made into a payment confirmation in the reader's language
_PLACED = SystemTexts(*_PLACED_WRITERS)
_OWNER_APPROVED = SystemTexts(owner_approved_note)
_CREDIT_APPROVED = SystemTexts(credit_approved_note)
_PAID = SystemTexts(payment_received_note, paid_by_card_note)
_NOT_PAID = SystemTexts(not_paid_note)


def _system_texts(from_status: str, to_status: str, actor: str) -> SystemTexts | None:
    if not from_status:
        return _PLACED
    if from_status == S.AWAITING_APPROVAL and to_status not in (S.REJECTED, S.CANCELLED):
        return _OWNER_APPROVED
    if from_status == S.AWAITING_CREDIT_APPROVAL and to_status == S.CONFIRMED:
        return _CREDIT_APPROVED
    if from_status == S.AWAITING_PAYMENT and to_status == S.CONFIRMED and actor == "system":
        return _PAID
    if from_status == S.AWAITING_PAYMENT and to_status == S.CANCELLED and actor == "system":
        return _NOT_PAID
    return None


def is_system_note(*, from_status: str, to_status: str, actor: str, note: str) -> bool:
    """Did the system write ``note`` on this move (in any language)?"""
    texts = _system_texts(from_status, to_status, actor)
    return texts is not None and texts.recognises(note)


def status_note_shown(change) -> str:
    """A status change's note in the active language when the system wrote it on that move,
    else as written."""
    texts = _system_texts(change.from_status, change.to_status, change.actor)
    return texts.shown(change.note) if texts is not None else change.note
