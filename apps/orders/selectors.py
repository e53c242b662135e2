"""Reads of the orders domain used in more than one place."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Prefetch, QuerySet, Sum

from apps.orders.models import Order, OrderLine, OrderStatusChange
from apps.orders.states import OPEN_STATUSES

ZERO = Decimal("0.00")


def open_orders_total(*, customer) -> Decimal:
    """Gross total of the dealer's open orders: confirmed, processing or shipped and not yet
    invoiced (they count against the credit limit with the ledger balance)."""
    total = Order.objects.filter(
        customer=customer, status__in=OPEN_STATUSES, invoiced_at__isnull=True
    ).aggregate(total=Sum("grand_total"))["total"]
    return (total or ZERO).quantize(ZERO)


def order_detail_queryset(queryset: QuerySet | None = None) -> QuerySet:
    """Orders with their lines and history loaded in two more queries, whatever their number."""
    queryset = Order.objects.all() if queryset is None else queryset
    return queryset.select_related("customer", "placed_by").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
        Prefetch(
            "status_history",
            queryset=OrderStatusChange.objects.select_related("changed_by").order_by(
                "created_at", "id"
            ),
        ),
    )


def cart_view(*, user) -> dict:
    """The user's cart priced now: lines with the engine's price (source, campaign), line
    amounts, available stock and problems, and the totals of the sellable lines."""
    from django.conf import settings

    from apps.inventory.selectors import available_subquery, stock_display
    from apps.orders.lines import lines_price, totals
    from apps.orders.models import CartItem

    items = list(
        CartItem.objects.filter(cart__user=user)
        .select_related("product", "product__category")
        .annotate(stock_available=available_subquery("product_id"))
        .order_by("added_at", "id")
    )
    for item in items:
        item.product.stock_available = item.stock_available
    lines = lines_price(customer=user.customer, pairs=[(i.product, i.quantity) for i in items])
    amounts = totals(lines)
    out = []
    for item, line in zip(items, lines, strict=True):
        product = item.product
        visible = product.is_active and not product.is_deleted and product.category.is_active
        problems = list(line.problems)
        if not visible:
            problems.insert(0, {"code": "not_available", "message": _not_available()})
        out.append(
            {
                "id": item.pk,
                "sku": product.sku,
                "name": product.name,
                "quantity": item.quantity,
                "vat_rate": product.vat_rate,
                "price": line.price.as_api(settings.CURRENCY),
                "line_net": f"{line.line_net:.2f}" if line.price.sellable else None,
                "line_vat": f"{line.line_vat:.2f}" if line.price.sellable else None,
                "line_gross": f"{line.line_gross:.2f}" if line.price.sellable else None,
                "stock": stock_display(line.available),
                "problems": problems,
            }
        )
    return {
        "currency": settings.CURRENCY,
        "lines": out,
        "line_count": len(out),
        "subtotal_net": f"{amounts['subtotal_net']:.2f}",
        "vat_total": f"{amounts['vat_total']:.2f}",
        "grand_total": f"{amounts['grand_total']:.2f}",
        "orderable": bool(out) and not any(line["problems"] for line in out),
    }


def _not_available() -> str:
    from django.utils.translation import gettext as _

    return _("This product is no longer sold.")
