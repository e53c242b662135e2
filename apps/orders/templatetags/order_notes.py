"""``order_note``: a status change's note the system wrote (the e-mail's ``note_by_system``)
in the reader's language (``apps.orders.notes``), for the e-mails rendered in the
recipient's language."""

from __future__ import annotations

from django import template

from apps.orders.notes import system_note_shown

register = template.Library()


@register.filter
def order_note(note: str) -> str:
    return system_note_shown(note)
