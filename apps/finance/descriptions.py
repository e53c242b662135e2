"""What the ledger says of the entries the system writes, in the reader's language.

An entry keeps its description as it was written, in the language active then (the ERP's and
the back office's requests are usually English, a portal action Turkish). Statements show the
texts the system wrote in the reader's language: ``EntryDescriptions`` recognises a stored
text as one of these in any of ``LANGUAGES`` and writes it again in the active one (the one
mechanism for such texts, ``apps.core.text.SystemTexts``, as the orders' notes do). A text a
person wrote (an adjustment's, an ERP's opening balance) is shown as written.

The writers use the same functions, so what is written is what is recognised.
"""

from __future__ import annotations

from functools import partial

from django.utils.translation import gettext as _

from apps.core.text import SystemTexts
from apps.finance.models import LedgerEntry, Payment

Kind = LedgerEntry.Kind


def invoice_text(number: str) -> str:
    return _("Invoice %(number)s") % {"number": number}


def credit_note_text(return_number: str) -> str:
    return _("Credit note for return %(n)s") % {"n": return_number}


def cancellation_credit_text(order_number: str) -> str:
    """The credit note that cancels an invoiced order's invoices (named by the order)."""
    return _("Credit note for cancelled order %(n)s") % {"n": order_number}


def refund_text() -> str:
    return _("Card payment refund")


def adjustment_text() -> str:
    return _("Manual adjustment")


def opening_balance_text() -> str:
    return _("Opening balance")


def payment_text(method: str) -> str:
    """A payment the ERP recorded: its method (``Bank transfer``)."""
    label = str(Payment.Method(method).label)
    return label[:1].upper() + label[1:]  # "havale/EFT" -> "Havale/EFT", not "Havale/eft"


def _writers(kind: str) -> list:
    """What writes the system's texts for an entry of ``kind`` (of its number, or of nothing)."""
    if kind == Kind.INVOICE:
        return [invoice_text]
    if kind == Kind.CREDIT_NOTE:
        return [credit_note_text, cancellation_credit_text]
    if kind == Kind.REFUND:
        return [refund_text]
    if kind == Kind.ADJUSTMENT:
        return [adjustment_text]
    if kind == Kind.OPENING_BALANCE:
        return [opening_balance_text]
    if kind == Kind.PAYMENT:
        return [partial(payment_text, method) for method in Payment.Method.values]
    return []


class EntryDescriptions:
    """Made once per statement: the system's texts of each kind in every language
    (``apps.core.text.SystemTexts``), then each entry is a lookup."""

    def __init__(self):
        self._texts = {kind: SystemTexts(*_writers(kind)) for kind in Kind.values}

    def __call__(self, kind: str, stored: str) -> str:
        """``stored`` in the active language when the system wrote it (in whichever
        language), else as it is."""
        texts = self._texts.get(kind)
        return texts.shown(stored) if texts is not None else stored
