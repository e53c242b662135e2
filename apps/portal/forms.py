"""Forms of the portal's pages (the services check the rest)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.exceptions import ValidationError
from apps.core.text import is_digits

ISO_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class StatementForm(forms.Form):
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    format = forms.ChoiceField(
        label=_("Format"), choices=[("pdf", "PDF"), ("csv", _("CSV (Excel, Turkish)"))]
    )

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("date_from"), cleaned.get("date_to")
        if low and high and low > high:
            self.add_error("date_to", _("Must not be before the start."))
        return cleaned


def amount_typed(text: str) -> str:
    """An amount as a dealer types it, in Turkish (``1.234,56``) or English (``1,234.56``)
    style, with or without ``₺``, as the decimal text the service reads (``1234.56``)."""
    text = (text or "").replace("₺", "").replace("TL", "").replace(" ", "").strip()
    if "," in text and (text.rfind(",") > text.rfind(".")):
        return text.replace(".", "").replace(",", ".")  # Turkish: dots group, comma decimal
    return text.replace(",", "")


def posted_id(value, field: str) -> int | None:
    """The id of a choice posted by a portal form (an address, a list, a cart line): absent or
    blank is None (no choice: the default); anything but a whole number is a ``ValidationError``
    on ``field``, never taken for "no choice"."""
    text = (value or "").strip()
    if not text:
        return None
    if not (is_digits(text) and len(text) <= 18):
        raise ValidationError({field: [_("Choose one of the listed options.")]})
    return int(text)
