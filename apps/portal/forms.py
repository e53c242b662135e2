"""Forms of the portal's pages (the services check the rest)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from apps.core.exceptions import DomainError, ValidationError
from apps.core.forms import PlainDateField
from apps.core.money import number_text
from apps.core.text import digits_int, is_digits

ISO_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class StatementForm(forms.Form):
    date_from = PlainDateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = PlainDateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    format = forms.ChoiceField(
        label=_("Format"), choices=[("pdf", "PDF"), ("csv", _("CSV (Excel, Turkish)"))]
    )


# how dealers write amounts, in ASCII digits: Turkish (dots group thousands, a comma marks the
# decimals: 1.234,56 and 120.000) and English (1,234.56 and 85.19); whole groups of three only
_TURKISH_AMOUNT = re.compile(r"-?(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)(?:,[0-9]+)?")
_ENGLISH_AMOUNT = re.compile(r"-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")
# spaces (no-break and thin ones too, as the portal writes amounts) group thousands only
_SPACED_AMOUNT = re.compile(r"-?[0-9]{1,3}(?:\s[0-9]{3})+(?:[.,][0-9]+)?")
_CURRENCY = re.compile(r"^(-?)\s*(?:₺|TL|TRY)\s*|\s*(?:₺|TL|TRY)$", re.I)


def amount_typed(text: str, field: str) -> str:
    """An amount as a dealer types it, in Turkish (``1.234,56``, ``120.000``) or English
    (``1,234.56``) style, with or without ``₺``/``TL``, as the decimal text the service reads
    (``1234.56``); blank is ``""``. The page's language reads what both could mean first:
    ``25,000`` is 25 in Turkish and 25 thousand in English; a dot followed by three digits on
    a Turkish page groups thousands (``120.000`` is 120 thousand). Spaces only group thousands
    (``12 500``; ``5 5`` is no amount). Anything else (``1e5``, ``1_000``, ``1.2.3``, other
    scripts' digits) is a ``ValidationError`` on ``field``, never read as some other number."""
    typed = (text or "").replace("\u2212", "-").strip()  # a typographic minus as the ASCII one
    compact = _CURRENCY.sub(r"\1", typed).strip()
    if not compact:
        return ""
    english = (translation.get_language() or "").startswith("en")
    refused = ValidationError(
        {
            field: [
                _("Write the amount like 1,234.56.")
                if english
                else _("Write the amount like 1.234,56.")
            ]
        }
    )
    if re.search(r"\s", compact):
        if not _SPACED_AMOUNT.fullmatch(compact):
            raise refused
        compact = re.sub(r"\s", "", compact)
    readings = (
        ((_ENGLISH_AMOUNT, ","), (_TURKISH_AMOUNT, "."))
        if english
        else ((_TURKISH_AMOUNT, "."), (_ENGLISH_AMOUNT, ","))
    )
    for pattern, grouping in readings:
        if pattern.fullmatch(compact):
            number = compact.replace(grouping, "")
            return number.replace(",", ".")
    raise refused


def posted_id(value, field: str) -> int | None:
    """The id of a choice posted by a portal form (an address, a list, a cart line): absent or
    blank is None (no choice: the default); anything but a whole number is a ``ValidationError``
    on ``field``, never taken for "no choice"."""
    text = (value or "").strip()
    if not text:
        return None
    chosen = digits_int(text)
    if chosen is None:
        raise ValidationError({field: [_("Choose one of the listed options.")]})
    return chosen


def order_form_posted(request) -> dict:
    """What an order's form (checkout, a quote's acceptance) posts for placing the order:
    the payment method, the two addresses (ids; blank: the defaults) and the PO number."""
    return {
        "payment_method": request.POST.get("payment_method", ""),
        "shipping_address_id": posted_id(
            request.POST.get("shipping_address_id"), "shipping_address_id"
        ),
        "billing_address_id": posted_id(
            request.POST.get("billing_address_id"), "billing_address_id"
        ),
        "po_number": request.POST.get("po_number", ""),
    }


# the fields of an order's form (checkout, a quote's acceptance), as the form labels them
ORDER_FIELDS = {
    "shipping_address_id": _("Shipping address"),
    "billing_address_id": _("Billing address"),
    "payment_method": _("Payment"),
    "po_number": _("Your purchase order number"),
    "note": _("Note"),
}


def line_problems(
    exc: DomainError,
    skus: Sequence[str],
    *,
    list_field: str,
    labels: Mapping[str, str] | None = None,
) -> list[str]:
    """A service's field errors in a dealer's words: an error on a line (``lines.1.quantity``,
    ``items.0.sku``) names the line's SKU, ``labels`` name other fields (``photos``), the rest
    is the message alone."""
    problems = []
    for field, messages_ in (exc.errors or {}).items():
        parts = field.split(".")
        label = (labels or {}).get(parts[0], "")
        if parts[0] == list_field and len(parts) > 1 and is_digits(parts[1]):
            index = int(parts[1])
            label = skus[index] if index < len(skus) else ""
        # a message that names its line already ("A-1: at most 3 ...") is not named twice
        problems += [
            f"{label}: {message}" if label and str(label) not in str(message) else str(message)
            for message in messages_
        ]
    # lines short of stock (409 insufficient_stock): each named, with what is there
    problems += [
        _("%(sku)s: %(requested)s asked, %(available)s available.")
        % {
            "sku": line["sku"],
            "requested": number_text(line["requested"]),
            "available": number_text(line["available"]),
        }
        for line in exc.extra.get("lines") or []
        if isinstance(line, dict) and {"sku", "requested", "available"} <= line.keys()
    ]
    if exc.extra.get("lines") and not exc.errors:
        problems.insert(0, str(exc.detail))
    return problems or [str(exc.detail)]
