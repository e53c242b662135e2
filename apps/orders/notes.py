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


_NOTES = SystemTexts(
    *(
        partial(placed_note, status)
        for status in (
            S.CONFIRMED,
            S.AWAITING_APPROVAL,
            S.AWAITING_CREDIT_APPROVAL,
            S.AWAITING_PAYMENT,
        )
    ),
    owner_approved_note,
    credit_approved_note,
    payment_received_note,
    paid_by_card_note,
    not_paid_note,
    quote_note,
)


def order_note_shown(stored: str) -> str:
    """A stored note (a status change's, or the order's own) in the active language when the
    system wrote it, else as written."""
    return _NOTES.shown(stored)
