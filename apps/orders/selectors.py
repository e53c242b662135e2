"""Reads of the orders domain used in more than one place."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import F, Prefetch, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from apps.catalog.models import Product
from apps.inventory.selectors import available_subquery
from apps.orders.models import (
    CartItem,
    Order,
    OrderLine,
    OrderStatusChange,
    RequisitionList,
    RequisitionListItem,
)
from apps.orders.states import UNINVOICED_STATUSES
from apps.pricing.engine import ResolvedPrice
from apps.pricing.lines import lines_price, total_problems, totals

ZERO = Decimal("0.00")


def open_orders_total(*, customer) -> Decimal:
    """What the dealer's orders are worth beyond what the ERP has invoiced of them: confirmed,
    processing, shipped or delivered orders, each its gross less the gross of the invoices
    naming it (they count against the credit limit with the ledger balance, which holds the
    invoiced part). An order delivered but not invoiced yet, or invoiced in part, still counts
    for the rest."""
    total = Order.objects.filter(
        customer=customer,
        status__in=UNINVOICED_STATUSES,
        invoiced_total__lt=F("grand_total"),
    ).aggregate(total=Sum(F("grand_total") - F("invoiced_total")))["total"]
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


@dataclass
class CartLine:
    """A cart line priced now; ``price`` and the line amounts are None when not sellable."""

    id: int
    product: Product
    quantity: int
    price: ResolvedPrice | None
    line_net: Decimal | None
    line_vat: Decimal | None
    line_gross: Decimal | None
    available: int
    problems: list[dict]  # [{code, message}]


@dataclass
class CartContents:
    currency: str
    lines: list[CartLine]
    problems: list[dict]  # of the whole cart: [{code, message}]
    subtotal_net: Decimal
    vat_total: Decimal
    grand_total: Decimal

    @property
    def line_count(self) -> int:
        return len(self.lines)

    @property
    def orderable(self) -> bool:
        return (
            bool(self.lines) and not self.problems and not any(line.problems for line in self.lines)
        )


def cart_view(*, user) -> CartContents:
    """The user's cart priced now: lines with the engine's price (source, campaign), line
    amounts, available stock and problems, and the totals of the sellable lines."""
    items = list(
        CartItem.objects.filter(cart__user=user)
        .select_related("product", "product__category")
        .annotate(stock_available=available_subquery("product_id"))
        .order_by("added_at", "id")
    )
    for item in items:
        item.product.stock_available = item.stock_available
    priced = lines_price(customer=user.customer, pairs=[(i.product, i.quantity) for i in items])
    visible = [
        item.product.is_active and not item.product.is_deleted and item.product.category.is_visible
        for item in items
    ]
    # the totals are what ordering the cart would charge: not the lines no longer sold
    amounts = totals([line for line, shown in zip(priced, visible, strict=True) if shown])
    lines = []
    for item, line, shown in zip(items, priced, visible, strict=True):
        product = item.product
        problems = list(line.problems)
        if not shown:
            problems.insert(0, {"code": "not_available", "message": _not_available()})
        sellable = line.sellable and shown
        lines.append(
            CartLine(
                id=item.pk,
                product=product,
                quantity=item.quantity,
                price=line.price if sellable else None,
                line_net=line.line_net if sellable else None,
                line_vat=line.line_vat if sellable else None,
                line_gross=line.line_gross if sellable else None,
                available=line.available,
                problems=problems,
            )
        )
    return CartContents(
        currency=settings.CURRENCY,
        lines=lines,
        problems=total_problems(amounts["grand_total"]) if lines else [_empty_cart()],
        **amounts,
    )


def _empty_cart() -> dict:
    # what placing it would answer, so a client reads why ``orderable`` is false
    return {"code": "empty_cart", "message": _("Your cart is empty.")}


def _not_available() -> str:
    return _("This product is no longer sold.")


# --- requisition lists --------------------------------------------------------------------------


def requisition_list_visible(*, user, queryset: QuerySet | None = None) -> QuerySet:
    """The requisition lists ``user`` may see: their own, and their company's shared ones.
    Another company's list and a colleague's private list are simply not there."""
    queryset = RequisitionList.objects.all() if queryset is None else queryset
    customer_id = getattr(user, "customer_id", None)
    if customer_id is None:
        return queryset.none()
    return queryset.filter(customer_id=customer_id).filter(Q(owner_id=user.pk) | Q(shared=True))


def requisition_list_detail_queryset(queryset: QuerySet | None = None) -> QuerySet:
    """Lists with their owner and their lines (with the products) loaded in one more query,
    whatever the number of lists and lines."""
    queryset = RequisitionList.objects.all() if queryset is None else queryset
    return queryset.select_related("owner").prefetch_related(
        Prefetch(
            "items",
            queryset=RequisitionListItem.objects.select_related("product").order_by(
                "added_at", "id"
            ),
        )
    )
