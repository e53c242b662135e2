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


# What the common bank answers mean, in the dealer's words: the bank's own text is in the
# bank's language (often English, sometimes Turkish), whatever the dealer reads. Keyed by the
# ISO 8583 response code the card networks and Turkish banks share; a lost or stolen card
# (41, 43) reads as a plain decline, as banks ask shops to say.
def _call_the_bank() -> str:
    return _("The bank declined the payment. Please call your bank or pay with another card.")


def _not_enough() -> str:
    return _("The bank declined the payment: the card's balance or limit is not enough.")


def _expired() -> str:
    return _("The bank declined the payment: the card has expired.")


def _wrong_number() -> str:
    return _("The bank declined the payment: the card number is not valid.")


def _not_permitted() -> str:
    return _(
        "The bank declined the payment: the card may not be used for this payment. "
        "Please call your bank or pay with another card."
    )


def _over_limit() -> str:
    return _("The bank declined the payment: the card's limit for such payments is reached.")


def _wrong_code() -> str:
    return _("The bank declined the payment: the security code (CVC) is wrong.")


def _bank_down() -> str:
    return _("The bank could not decide on the payment just now. Please try again later.")


_BANK_CODES = {
    "05": _call_the_bank,
    "41": _call_the_bank,
    "43": _call_the_bank,
    "51": _not_enough,
    "54": _expired,
    "14": _wrong_number,
    "57": _not_permitted,
    "62": _not_permitted,
    "61": _over_limit,
    "65": _over_limit,
    "82": _wrong_code,
    "N7": _wrong_code,
    "91": _bank_down,
    "96": _bank_down,
}


def bank_declined_message(code: str = "", reason: str = "") -> str:
    """The bank declined with its response ``code`` and its own words ``reason``: a known code
    in the dealer's words, else the bank's words inside ours."""
    writer = _BANK_CODES.get(code.strip().upper())
    return writer() if writer else declined_message(reason)


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
    *dict.fromkeys(_BANK_CODES.values()),
    no_payment_message,
    paid_after_cancel_message,
    paid_after_confirm_message,
    cancelled_after_paid_message,
)


def card_message_shown(stored: str) -> str:
    return CARD_MESSAGES.shown(stored)
