"""Template helpers of the dealer portal: money in the reader's format (Turkish:
``1.234,56 ₺``; English: ``1,234.56 ₺``)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils import translation
from django.utils.translation import gettext

from apps.orders.models import OrderStatus
from apps.returns.models import ReturnStatus

register = template.Library()

SYMBOLS = {"TRY": "₺"}


@register.filter
def money(value, currency: str = "TRY") -> str:
    if value is None or value == "":
        return "–"
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return str(value)
    text = f"{abs(amount):,.2f}"  # 1,234.56
    if (translation.get_language() or "tr").startswith("tr"):
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")  # 1.234,56
    sign = "-" if amount < 0 else ""
    return f"{sign}{text} {SYMBOLS.get(currency, currency)}"


@register.filter
def get_item(mapping, key):
    """``mapping[key]`` (a form's errors by field name), or nothing."""
    try:
        return mapping.get(key) or []
    except AttributeError:
        return []


@register.filter
def price_source(source: str | None) -> str:
    """The price engine's ``source`` (``special``, ``tier:B``, ``list``) in the reader's words."""
    if not source:
        return ""
    if source == "special":
        return gettext("your special price")
    if source.startswith("tier:"):
        return gettext("tier %(tier)s price list") % {"tier": source.split(":", 1)[1]}
    if source == "list":
        return gettext("list price")
    return source


@register.filter
def order_status(value: str) -> str:
    """An order status code (``shipped``) as its label in the reader's language."""
    try:
        return str(OrderStatus(value).label)
    except ValueError:
        return value


@register.filter
def return_status(value: str) -> str:
    """A return status code (``approved``) as its label in the reader's language."""
    try:
        return str(ReturnStatus(value).label)
    except ValueError:
        return value
