"""Template helpers of the dealer portal: money in the reader's format (Turkish:
``1.234,56 ₺``; English: ``1,234.56 ₺``)."""

from __future__ import annotations

import uuid

from django import template
from django.utils.html import format_html

from apps.core.money import money_text
from apps.orders.models import OrderStatus
from apps.orders.notes import order_note_shown, status_note_shown
from apps.pricing.engine import source_label
from apps.returns.models import ReturnStatus

register = template.Library()


@register.simple_tag
def form_key() -> str:
    """The hidden ``form_key`` of a form that must act once however often it is submitted (a
    double click, a reload): a new key with every page (``apps.portal.views.form_once``)."""
    return format_html('<input type="hidden" name="form_key" value="{}">', uuid.uuid4())


@register.filter
def money(value, currency: str = "TRY") -> str:
    """An amount as ``core.money.money_text`` writes it for the reader (a unit price's third
    and fourth decimals too, when they are not zero), the sign held to the number by a
    no-break space (a phone wrapped ``₺`` alone onto the next line); a dash for none."""
    if value is None or value == "":
        return "–"
    try:
        return money_text(value, currency_code=currency).replace(" ", "\u00a0")
    except (TypeError, ValueError):
        return str(value)


@register.filter
def get_item(mapping, key):
    """``mapping[key]`` (a form's errors by field name), or nothing."""
    try:
        return mapping.get(key) or []
    except AttributeError:
        return []


@register.filter
def price_source(source: str | None) -> str:
    """The price engine's ``source`` (``special``, ``tier:B``, ``list``) in the dealer's words."""
    return source_label(source, to_dealer=True)


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


@register.filter
def history_note(note: str) -> str:
    """An order's own note in the reader's language when the system wrote it (an accepted
    quote's): the note is stored in the language of the request that made it, and the
    system's notes are messages of the catalogue. A person's own note is shown as written."""
    return order_note_shown(note)


@register.filter
def status_note(change) -> str:
    """An order status change's note in the reader's language when the system wrote it on
    that move ("Placed.", through the API in English); a person's note as written, even one
    that reads like the system's."""
    return status_note_shown(change)
