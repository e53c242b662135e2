"""The back office's work queues (every admin page) and start-page figures."""

from __future__ import annotations

from django import template

from apps.backoffice.selectors import dashboard_charts, sales_figures, work_queues

register = template.Library()


@register.inclusion_tag("admin/backoffice/queues.html", takes_context=True)
def backoffice_queues(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {"queues": []}
    return {"queues": work_queues(user=user)}


@register.inclusion_tag("admin/backoffice/figures.html", takes_context=True)
def backoffice_figures(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {"figures": None}
    if not user.has_perm("orders.view_order"):
        return {"figures": None}
    # money owed and card payments are finance's: shown to whoever may open those screens
    # (Customer Service sees orders, not the ledger)
    return {
        "figures": sales_figures(user=user),
        "charts": dashboard_charts(user=user),
        "show_receivables": user.has_perm("finance.view_ledgerentry"),
        "show_card_payments": user.has_perm("finance.view_cardpayment"),
    }
