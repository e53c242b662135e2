"""Pricing a list of lines: the one place that turns ``(product, quantity)`` pairs into priced
lines with rounded line amounts, totals and what is wrong with each line. The cart, order
placement, reorder and the quote endpoint all use it; none formats money (serializers do)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models.functions import Upper
from django.utils.translation import gettext as _

from apps.catalog.models import Product
from apps.core.money import MAX_AMOUNT, line_amounts, money_text
from apps.inventory.selectors import available_subquery, stock_display
from apps.pricing.engine import ResolvedPrice, price_resolve_many

ZERO = Decimal("0.00")


@dataclass
class PricedLine:
    product: Product
    quantity: int
    price: ResolvedPrice
    available: int = 0
    problems: list[dict] = field(default_factory=list)  # [{code, message}]
    line_net: Decimal = ZERO
    line_vat: Decimal = ZERO
    line_gross: Decimal = ZERO

    @property
    def sellable(self) -> bool:
        return self.price.sellable

    @property
    def orderable(self) -> bool:
        return not any(p["code"] != "out_of_stock" for p in self.problems)


def products_by_sku(skus: Iterable[str]) -> dict[str, Product]:
    """Products a dealer may order, by SKU as asked, with their available stock: one query,
    and one more for SKUs typed in another case (``lc1d09m7``), each found when exactly one
    product has it in any case (as the catalog's search finds it)."""
    wanted = set(skus)
    products = (
        Product.objects.visible()
        .select_related("category")
        .annotate(stock_available=available_subquery())
    )
    found = {p.sku: p for p in products.filter(sku__in=wanted)}
    missing = {sku for sku in wanted - found.keys() if isinstance(sku, str) and sku}
    if missing:
        by_upper: dict[str, list[Product]] = defaultdict(list)
        uppers = {sku.upper() for sku in missing}
        for product in products.annotate(sku_upper=Upper("sku")).filter(sku_upper__in=uppers):
            by_upper[product.sku_upper].append(product)
        for sku in missing:
            matches = by_upper.get(sku.upper(), [])
            if len(matches) == 1:
                found[sku] = matches[0]
    return found


def quantity_problems(product: Product, quantity: int) -> list[tuple[str, str]]:
    """``(code, message)`` for each rule of the product that ``quantity`` breaks:
    ``below_minimum`` (min_order_quantity), ``not_multiple`` (order_multiple)."""
    problems = []
    if quantity < product.min_order_quantity:
        problems.append(
            (
                "below_minimum",
                _("The minimum order quantity is %(n)d.") % {"n": product.min_order_quantity},
            )
        )
    if quantity % product.order_multiple:
        problems.append(
            ("not_multiple", _("Order in multiples of %(n)d.") % {"n": product.order_multiple})
        )
    return problems


def lines_price(*, customer, pairs: Sequence[tuple[Product, int]]) -> list[PricedLine]:
    """Price ``(product, quantity)`` pairs for ``customer`` now (one price-engine call) and
    list each line's problems: ``not_sellable``, ``below_minimum``, ``not_multiple``,
    ``out_of_stock``. Products should carry ``stock_available`` (see ``products_by_sku``) for
    the stock check."""
    resolved = price_resolve_many(customer=customer, items=list(pairs))
    lines = []
    for (product, quantity), price in zip(pairs, resolved, strict=True):
        line = PricedLine(product=product, quantity=quantity, price=price)
        line.available = max(int(getattr(product, "stock_available", 0) or 0), 0)
        if not price.sellable:
            line.problems.append(
                {"code": "not_sellable", "message": _("This product has no price for you.")}
            )
        else:
            line.line_net, line.line_vat, line.line_gross = line_amounts(
                price.unit_net, quantity, product.vat_rate
            )
            line.problems += amount_problems(line)
        for code, message in quantity_problems(product, quantity):
            line.problems.append({"code": code, "message": message})
        if line.available < quantity:
            shown = stock_display(line.available)["available"]
            # the number the catalog shows (capped): never the exact stock above it, and
            # never "only 100" where more than 100 would go through
            message = (
                _("Only %(n)d available.")
                if shown >= line.available
                else _("More than %(n)d available, but fewer than you asked for.")
            )
            line.problems.append({"code": "out_of_stock", "message": message % {"n": shown}})
        lines.append(line)
    return lines


def amount_problems(line: PricedLine) -> list[dict]:
    """``too_large``: a line whose gross amount is more than an order can hold
    (``MAX_AMOUNT``): a price of billions times a large quantity."""
    if line.line_gross <= MAX_AMOUNT:
        return []
    return [
        {
            "code": "too_large",
            "message": _("This line comes to more than %(max)s; order fewer units.")
            % {"max": money_text(MAX_AMOUNT)},
        }
    ]


def total_problems(grand_total: Decimal) -> list[dict]:
    """``too_large``: lines each within bounds that together come to more than an order can
    hold (``MAX_AMOUNT``)."""
    if grand_total <= MAX_AMOUNT:
        return []
    return [
        {
            "code": "too_large",
            "message": _("The order comes to more than %(max)s; split it into several orders.")
            % {"max": money_text(MAX_AMOUNT)},
        }
    ]


def totals(lines: Sequence[PricedLine]) -> dict[str, Decimal]:
    """``subtotal_net``, ``vat_total``, ``grand_total``: the sums of the sellable lines'
    rounded amounts (the fields of an order of the same name)."""
    net = sum((line.line_net for line in lines if line.sellable), ZERO)
    vat = sum((line.line_vat for line in lines if line.sellable), ZERO)
    return {"subtotal_net": net, "vat_total": vat, "grand_total": net + vat}
