"""What the ledger says of the entries the system writes, in the reader's language.

An entry keeps its description as it was written, in the language active then (the ERP's and
the back office's requests are usually English, a portal action Turkish). Statements show the
texts the system wrote in the reader's language: ``EntryDescriptions`` recognises a stored
text as one of these in any of ``LANGUAGES`` and writes it again in the active one. A text a
person wrote (an adjustment's, an ERP's opening balance) is shown as written.

The writers use the same functions, so what is written is what is recognised.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

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


def _texts(kind: str, number: str) -> list[str]:
    """The texts the system writes for an entry of ``kind``, in the active language."""
    if kind == Kind.INVOICE:
        return [invoice_text(number)]
    if kind == Kind.CREDIT_NOTE:
        return [credit_note_text(number), cancellation_credit_text(number)]
    if kind == Kind.REFUND:
        return [refund_text()]
    if kind == Kind.ADJUSTMENT:
        return [adjustment_text()]
    if kind == Kind.OPENING_BALANCE:
        return [opening_balance_text()]
    if kind == Kind.PAYMENT:
        return [payment_text(method) for method in Payment.Method.values]
    return []


class EntryDescriptions:
    """Made once per statement: every language's texts, then each entry is a dictionary
    lookup (a numbered text: its fixed start and end)."""

    _MARK = "\x00"

    def __init__(self):
        by_language = {}
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                by_language[code] = {kind: _texts(kind, self._MARK) for kind in Kind.values}
        active = (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
        shown = by_language.get(active) or by_language[settings.LANGUAGE_CODE]
        # {kind: {text in any language: the same text in the active one}}; numbered texts
        # (an invoice's, a credit note's) as (start, end) pairs around the number
        self._fixed: dict[str, dict[str, str]] = {kind: {} for kind in Kind.values}
        self._numbered: dict[str, list[tuple[str, str, str]]] = {kind: [] for kind in Kind.values}
        for texts in by_language.values():
            for kind, written in texts.items():
                for index, text in enumerate(written):
                    if self._MARK in text:
                        start, end = text.split(self._MARK, 1)
                        self._numbered[kind].append((start, end, shown[kind][index]))
                    else:
                        self._fixed[kind].setdefault(text, shown[kind][index])

    def __call__(self, kind: str, document_number: str, stored: str) -> str:
        """``stored`` in the active language when the system wrote it (in whichever
        language), else as it is."""
        if not stored or kind not in self._fixed:
            return stored
        fixed = self._fixed[kind].get(stored)
        if fixed is not None:
            return fixed
        for start, end, shown in self._numbered[kind]:
            if stored == f"{start}{document_number}{end}":
                return shown.replace(self._MARK, document_number)
        return stored
