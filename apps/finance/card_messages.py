"""What a card payment's ``message`` says to the dealer, in the reader's language.

A message is stored as written, in the language active then: the bank's return and the
workers write in English, whatever the dealer reads. The texts the system writes come from
the writers below (the bank's own words, when it gives a reason, kept inside ours as a value);
``card_message_shown`` writes a stored one again in the active language
(``apps.core.text.SystemTexts``, the one mechanism for such texts). A text from before these
writers, or the bank's words alone, is shown as stored.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from apps.core.text import SystemTexts


def could_not_start_message() -> str:
    return _("The payment service could not start the payment.")


def not_completed_message(reason: str = "") -> str:
    """The payment ended without the bank's decision (3-D Secure abandoned, an error)."""
    if reason:
        return _("The payment was not completed: %(reason)s") % {"reason": reason}
    return _("The payment was not completed.")


def declined_message(reason: str = "") -> str:
    """The bank declined; ``reason`` is the bank's own words, when it gives them."""
    if reason:
        return _("The bank declined the payment: %(reason)s") % {"reason": reason}
    return _("The bank declined the payment.")


def no_payment_message() -> str:
    return _("No payment was made.")


def paid_after_cancel_message() -> str:
    return _("The order was cancelled before the payment completed: the amount is on your account.")


def paid_after_confirm_message() -> str:
    return _("The order was confirmed before the payment completed: the amount is on your account.")


def cancelled_after_paid_message(order_number: str) -> str:
    return _("Order %(n)s was cancelled after it was paid: the amount is on your account.") % {
        "n": order_number
    }


CARD_MESSAGES = SystemTexts(
    could_not_start_message,
    lambda: not_completed_message(),
    not_completed_message,
    lambda: declined_message(),
    declined_message,
    no_payment_message,
    paid_after_cancel_message,
    paid_after_confirm_message,
    cancelled_after_paid_message,
)


def card_message_shown(stored: str) -> str:
    return CARD_MESSAGES.shown(stored)
