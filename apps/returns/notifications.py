"""The dealer's return e-mails (queued in the transaction, sent after it commits):
``returns/return_status`` to the user who asked for the return at each step (requested,
approved, rejected, received, credited; not the dealer's own cancellation). Written in the
company's language. ``returns/return_requested`` to the staff who decide, in theirs."""

from __future__ import annotations

from django.utils import translation

from apps.accounts.services.alerts import staff_alert
from apps.core.links import back_office_link, portal_link
from apps.notifications.services import customer_language, email_notify
from apps.returns.models import ReturnReason, ReturnRequest, ReturnStatus


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
            "portal_url": portal_link("returns", request.number),
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


def return_requested_alert(request: ReturnRequest) -> None:
    """``returns/return_requested`` to the staff who decide returns (``staff_alert``), in
    the back office's language."""
    customer = request.customer

    def context() -> dict:
        return {
            "number": request.number,
            "dealer": f"{customer.code} {customer.name}",
            "order_number": request.order.number,
            "note": request.note,
            "lines": [
                {
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "reason": str(ReturnReason(line.reason).label),
                    "reason_text": line.reason_text,
                }
                for line in request.lines.all().order_by("id")
            ],
            "back_office_url": back_office_link("admin:returns_returnrequest_change", request.pk),
        }

    staff_alert(
        customer=customer,
        permission="returns.decide_returnrequest",
        template="returns/return_requested",
        context=context,
    )
