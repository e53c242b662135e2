"""``order_note``: a status change's note in the reader's language when the system wrote it
(``apps.orders.notes``), for the e-mails rendered in the recipient's language."""

from __future__ import annotations

from django import template

from apps.orders.notes import order_note_shown

register = template.Library()


@register.filter
def order_note(note: str) -> str:
    return order_note_shown(note)
