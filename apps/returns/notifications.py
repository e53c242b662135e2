"""The dealer's return e-mails (queued in the transaction, sent after it commits):
``returns/return_status`` to the user who asked for the return at each step (requested,
approved, rejected, received, credited; not the dealer's own cancellation). Written in the
company's language."""

from __future__ import annotations

from django.utils import translation

from apps.notifications.services import customer_language, email_notify
from apps.returns.models import ReturnRequest, ReturnStatus


def return_status_notify(request: ReturnRequest, *, note: str = "") -> None:
    user = request.requested_by
    if request.status == ReturnStatus.CANCELLED or user is None or not user.email:
        return
    if not user.is_active:
        return
    language = customer_language(request.customer)
    with translation.override(language):
        context = {
            "number": request.number,
            "order_number": request.order.number,
            "status": request.status,
            "status_label": str(ReturnStatus(request.status).label),
            "note": note,
            "currency": request.order.currency,
            "credit_total": (
                f"{request.credit_total:.2f}" if request.credit_total is not None else ""
            ),
            "lines": [
                {
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "received_quantity": line.received_quantity,
                }
                for line in request.lines.all().order_by("id")
            ],
        }
    email_notify(
        template="returns/return_status",
        to=user.email,
        context=context,
        user=user,
        customer=request.customer,
        language=language,
    )
