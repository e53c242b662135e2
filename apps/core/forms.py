"""Form fields shared by every back-office screen."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.contrib.admin import options
from django.db import models
from django.forms.fields import InvalidJSONInput
from django.utils.translation import gettext_lazy as _

from apps.core.api.parsers import json_body_loads
from apps.core.text import PLAIN_DATE, PLAIN_DECIMAL, control_problem


class PlainDateField(forms.DateField):
    """A ``YYYY-MM-DD`` date in ASCII digits, nothing else (``strptime`` also reads
    ``2026-1-1`` and other scripts' digits): the API's day filters and the portal's dates."""

    input_formats = ["%Y-%m-%d"]

    def to_python(self, value):
        if isinstance(value, str) and value.strip() and not PLAIN_DATE.fullmatch(value.strip()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class PlainDecimalField(forms.DecimalField):
    """A decimal in ASCII digits with an optional sign and point between digits, nothing else
    (``Decimal()`` also reads ``1e3``, ``1_000``, ``.5``, ``1.`` and other scripts' digits):
    the API's amount filters, as its amount fields (``apps.core.serializers``)."""

    def to_python(self, value):
        if isinstance(value, str) and value.strip() and not PLAIN_DECIMAL.fullmatch(value.strip()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        number = super().to_python(value)
        if number is not None and self.decimal_places is not None and number.is_finite():
            # zeros past the places asked for say nothing more: 149.90000 is 149.9000
            places = Decimal(1).scaleb(-self.decimal_places)
            if number.as_tuple().exponent < -self.decimal_places and number == number.quantize(
                places
            ):
                number = number.quantize(places)
        return number


def _is_safe_json(text: str) -> bool:
    try:
        json_body_loads(text)
    except (ValueError, RecursionError):
        return False
    return True


class SafeJSONFormField(forms.JSONField):
    """Django's JSON form field, decoding under the rules of the API's JSON parser: nesting
    over 64 levels (Python's decoder recursed into a 500), NaN, overflowing numbers and
    duplicate keys are a form error. The admin uses it for every model JSONField (see
    ``admin_json_fields_safe``)."""

    default_error_messages = {"invalid": _("Enter valid JSON.")}

    def to_python(self, value):
        hostile = (
            isinstance(value, str)
            and not self.disabled
            and value not in self.empty_values
            and not _is_safe_json(value)
        )
        if hostile:
            raise forms.ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": value}
            )
        return super().to_python(value)

    def bound_data(self, data, initial):
        # the form shown again with its error re-reads what was sent: as text, not decoded
        if isinstance(data, str) and not self.disabled and not _is_safe_json(data):
            return InvalidJSONInput(data)
        return super().bound_data(data, initial)


def admin_json_fields_safe() -> None:
    """Make every admin form (and inline) edit model JSON fields with ``SafeJSONFormField``:
    the defaults each ModelAdmin copies when it is created, and the admins created already
    (``django.contrib.admin`` registers them before this app is ready)."""
    override = {"form_class": SafeJSONFormField}
    options.FORMFIELD_FOR_DBFIELD_DEFAULTS[models.JSONField] = override
    for model_admin in admin.site._registry.values():
        model_admin.formfield_overrides[models.JSONField] = dict(override)


class SearchTextField(forms.CharField):
    """Words to search for: tabs and line breaks (text pasted from a spreadsheet) read as
    spaces, where a one-line field refuses them."""

    def to_python(self, value):
        if isinstance(value, str):
            value = " ".join(value.split())
        return super().to_python(value)


def form_text_readable() -> None:
    """Text typed into a form (the back office, the portal's forms) is taken in NFC and holds
    no control character (``control_problem``), as the API's text does
    (``text_input_readable``): a SKU, a name or a code with U+0001 in it was saved in the
    admin and then answered by the API, unreadable in a URL and a CSV. A one-line input
    (anything but a text area) takes no tab or line break either. Text kept as typed
    (``strip=False``: the passwords) is left alone. Installed once, by the core app, on
    Django's own field (and so its subclasses), so that no form can forget it."""
    field = forms.CharField
    if getattr(field.to_python, "readable", False):
        return
    read = field.to_python

    def to_python(self, value):
        value = read(self, value)
        if self.strip and isinstance(value, str) and value:
            # composed, as the feeds take text: a "Ç" pasted as C and a combining cedilla
            # (macOS, some PDFs) is the "Ç" of a stored SKU, not a second key
            value = unicodedata.normalize("NFC", value)
            problem = control_problem(
                value, single_line=not isinstance(self.widget, forms.Textarea)
            )
            if problem:
                raise forms.ValidationError(problem, code="invalid")
        return value

    to_python.readable = True
    field.to_python = to_python
