"""E-mails to staff that something of a dealer waits for them (a registration to approve, an
order over the credit limit, a return to decide, a disputed balance): sent to whoever has that
job (``staff_to_alert``), in the back office's language (``LANGUAGE_CODE``), whatever language
the dealer whose action raised it speaks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils import translation

from apps.accounts.models import Customer
from apps.accounts.selectors import staff_to_alert
from apps.notifications.services import email_notify


def staff_alert(
    *,
    customer: Customer,
    permission: str,
    template: str,
    context: Callable[[], dict[str, Any]],
) -> int:
    """Queue ``template`` (sent after the transaction commits) to the staff who hold
    ``permission`` for ``customer``; ``context`` is called in the staff's language. Returns
    how many e-mails were queued."""
    recipients = staff_to_alert(customer=customer, permission=permission)
    if not recipients:
        return 0
    language = settings.LANGUAGE_CODE
    with translation.override(language):
        data = context()
    for user in recipients:
        email_notify(
            template=template,
            to=user.email,
            context=data,
            user=user,
            customer=customer,
            language=language,
        )
    return len(recipients)
