"""The dealer's order e-mails (queued in the transaction, sent after it commits):
``orders/order_placed`` to the user who placed it (and to the owners when it waits for their
approval), ``orders/order_status`` to that user when the order moves on. Written in the
company's language. ``orders/credit_approval_waiting`` to finance staff, in theirs."""

from __future__ import annotations

from django.utils import translation

from apps.accounts.models import DealerRole
from apps.accounts.selectors import customer_credit_exposure
from apps.accounts.services.alerts import staff_alert
from apps.core.links import back_office_link, portal_link
from apps.notifications.services import customer_language, email_notify, notify_customer_users
from apps.orders.models import Order
from apps.orders.models import OrderStatus as S

# statuses the dealer hears about (processing is internal)
ANNOUNCED = {
    S.CONFIRMED,
    S.AWAITING_CREDIT_APPROVAL,
    S.AWAITING_PAYMENT,
    S.SHIPPED,
    S.DELIVERED,
    S.CANCELLED,
    S.REJECTED,
}


def _context(order: Order) -> dict:
    return {
        "number": order.number,
        "order_url": portal_link("orders", order.number),
        "status": order.status,
        "status_label": str(S(order.status).label),
        "currency": order.currency,
        "subtotal_net": f"{order.subtotal_net:.2f}",
        "vat_total": f"{order.vat_total:.2f}",
        "grand_total": f"{order.grand_total:.2f}",
        "tracking_number": order.tracking_number,
        "carrier": order.carrier,
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "line_gross": f"{line.line_gross:.2f}",
            }
            for line in order.lines.all()
        ],
    }


def _credit_approval_alert(order: Order) -> None:
    """Finance staff (``staff_alert``) hear of an order that waits for their credit approval,
    whether it was placed so or came there from the owner's approval."""
    if order.status != S.AWAITING_CREDIT_APPROVAL:
        return
    customer = order.customer
    # the exposure the order would make: an order waiting for approval is not counted yet
    exposure = customer_credit_exposure(customer=customer, extra=order.grand_total)
    staff_alert(
        customer=customer,
        permission="orders.approve_credit",
        template="orders/credit_approval_waiting",
        context=lambda: {
            "number": order.number,
            "dealer": f"{customer.code} {customer.name}",
            "grand_total": f"{order.grand_total:.2f}",
            "currency": order.currency,
            "exposure": f"{exposure:.2f}",
            "credit_limit": f"{customer.credit_limit:.2f}",
            "back_office_url": back_office_link("admin:orders_order_change", order.pk),
        },
    )


def order_placed_notify(order: Order) -> None:
    _credit_approval_alert(order)
    language = customer_language(order.customer)
    with translation.override(language):
        context = _context(order)
    user = order.placed_by
    if user is not None and user.email:
        email_notify(
            template="orders/order_placed",
            to=user.email,
            context=context,
            user=user,
            customer=order.customer,
            language=language,
        )
    if order.status == S.AWAITING_APPROVAL:  # the owners decide: who placed it, for how much
        limit = getattr(user, "order_limit", None)
        placed_by = (user.get_full_name() or user.email) if user is not None else ""
        notify_customer_users(
            customer=order.customer,
            template="orders/approval_needed",
            context={
                **context,
                "placed_by": placed_by,
                "order_limit": f"{limit:.2f}" if limit is not None else "",
                "approvals_url": portal_link("approvals"),
            },
            roles=[DealerRole.OWNER],
            language=language,
        )


def order_status_notify(order: Order, *, note: str = "", note_by_system: bool = False) -> None:
    """E-mail the placing user the order's new status; ``note_by_system``: the system wrote
    the note (it is then written again in the recipient's language; a person's as written)."""
    _credit_approval_alert(order)
    user = order.placed_by
    if order.status not in ANNOUNCED or user is None or not user.email or not user.is_active:
        return
    language = customer_language(order.customer)
    with translation.override(language):
        context = {**_context(order), "note": note, "note_by_system": note_by_system}
    email_notify(
        template="orders/order_status",
        to=user.email,
        context=context,
        user=user,
        customer=order.customer,
        language=language,
    )
