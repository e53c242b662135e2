"""Filters for the messages we send: an amount or a day kept in a notification's context as
plain text (``"12240.00"``, ``"2026-12-08"``: JSON, rendered when sent) written the way the
recipient's language writes it (``12.240,00`` and ``08 Aralık 2026`` in Turkish). Anything
else is left as it is."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import date_format, number_format

register = template.Library()


@register.filter
def amount(value):
    """``"12240.00"`` -> ``12,240.00`` / ``12.240,00``: grouped, two places, and a unit
    price's third and fourth only when they are not zero (``286,1424``: nothing hidden)."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return value
    if not number.is_finite():
        return value
    places = 2
    for more in (3, 4):
        if number != number.quantize(Decimal(1).scaleb(-places)):
            places = more
    return number_format(number, places, use_l10n=True, force_grouping=True)


@register.filter
def day(value):
    """``"2026-12-08"`` -> ``Dec. 8, 2026`` / ``08 Aralık 2026``."""
    try:
        moment = value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        return value
    return date_format(moment, "DATE_FORMAT")
