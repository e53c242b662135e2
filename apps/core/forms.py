"""Form fields shared by every back-office screen."""

from __future__ import annotations

import unicodedata
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin
from django.contrib.admin import options
from django.db import models
from django.forms.fields import InvalidJSONInput
from django.utils.translation import gettext_lazy as _

from apps.core.api.parsers import json_body_loads
from apps.core.text import PLAIN_DATE, PLAIN_DECIMAL, PLAIN_INTEGER, control_problem


class PlainDateField(forms.DateField):
    """A ``YYYY-MM-DD`` date in ASCII digits, nothing else (``strptime`` also reads
    ``2026-1-1`` and other scripts' digits): the API's day filters and the portal's dates."""

    input_formats = ["%Y-%m-%d"]

    def to_python(self, value):
        if isinstance(value, str) and value.strip() and not PLAIN_DATE.fullmatch(value.strip()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


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


def form_numbers_plain() -> None:
    """A number typed into a form (the back office, the portal's forms, the API's query
    filters) is ASCII digits with an optional sign and, for a decimal, a point between
    digits, as the API's number fields take them (``number_input_plain``): Python also reads
    ``1e3``, ``1_000``, ``.5``, ``1.`` and other scripts' digits (``١٠``), and ``1e5`` was
    saved as a credit limit and shown in its audit trail as ``1E+5``. A decimal is then
    written with its field's places when that changes nothing (``100000`` is ``100000.00``,
    ``149.90000`` is ``149.9000``), as the database keeps it, so the audit trail's old and new
    values read alike. Installed once, by the core app, on Django's own fields (and so their
    subclasses), so that no form can forget it."""
    if getattr(forms.DecimalField.to_python, "plain", False):
        return
    read_decimal = forms.DecimalField.to_python
    read_integer = forms.IntegerField.to_python

    def decimal_to_python(self, value):
        if isinstance(value, str) and value.strip() and not PLAIN_DECIMAL.fullmatch(value.strip()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        number = read_decimal(self, value)
        if number is not None and self.decimal_places is not None and number.is_finite():
            try:
                exact = number.quantize(Decimal(1).scaleb(-self.decimal_places))
            except InvalidOperation:  # more digits than a decimal holds: the limits say so
                return number
            if exact == number:
                number = exact
        return number

    def integer_to_python(self, value):
        if isinstance(value, str) and value.strip() and not PLAIN_INTEGER.fullmatch(value.strip()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return read_integer(self, value)

    decimal_to_python.plain = True
    forms.DecimalField.to_python = decimal_to_python
    forms.IntegerField.to_python = integer_to_python
