"""What the system writes as an order status change's note, and how a stored note is shown.

A note is stored as written, in the language active then (a card payment's bank callback, a
worker: English; a portal action: Turkish). The texts the system writes are the messages
below; ``order_note_shown`` writes a stored one again in the reader's language (the dealer
API, the portal, the e-mails), a person's note as it is. The writers use these functions, so
what is written is what is recognised.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from apps.core.text import SystemTexts
from apps.orders.models import OrderStatus as S

_PLACED = gettext_noop("Placed.")
_PLACED_AWAITING = {
    S.AWAITING_APPROVAL: gettext_noop("Placed; above the user's order limit: waits for the owner."),
    S.AWAITING_CREDIT_APPROVAL: gettext_noop("Placed; above the credit limit: waits for finance."),
    S.AWAITING_PAYMENT: gettext_noop("Placed; waits for the card payment."),
}
_OWNER_APPROVED = gettext_noop("Approved by the owner.")
_CREDIT_APPROVED = gettext_noop("Credit approved.")
_PAYMENT_RECEIVED = gettext_noop("Payment received.")
_PAID_BY_CARD = gettext_noop("Paid by card (%(ref)s).")
_NOT_PAID = gettext_noop("Not paid within %(n)s minutes.")

_TEXTS = SystemTexts(
    (_PLACED, None),
    *((text, None) for text in _PLACED_AWAITING.values()),
    (_OWNER_APPROVED, None),
    (_CREDIT_APPROVED, None),
    (_PAYMENT_RECEIVED, None),
    (_PAID_BY_CARD, "ref"),
    (_NOT_PAID, "n"),
)


def placed_note(status: str) -> str:
    return _(_PLACED_AWAITING.get(status, _PLACED))


def owner_approved_note() -> str:
    return _(_OWNER_APPROVED)


def credit_approved_note() -> str:
    return _(_CREDIT_APPROVED)


def payment_received_note() -> str:
    return _(_PAYMENT_RECEIVED)


def paid_by_card_note(reference: str) -> str:
    return _(_PAID_BY_CARD) % {"ref": reference}


def not_paid_note(minutes: int) -> str:
    return _(_NOT_PAID) % {"n": minutes}


def order_note_shown(stored: str) -> str:
    """A stored note in the active language when the system wrote it, else as written."""
    return _TEXTS.shown(stored)
