"""Quotes: lines priced by the engine, with line and order totals (DESIGN.md money rules).
The lines are priced by ``apps.pricing.lines`` like the cart's and an order's."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from apps.core.exceptions import ValidationError
from apps.pricing.lines import PricedLine, lines_price, products_by_sku, quantity_problems, totals


@dataclass
class Quote:
    currency: str
    lines: list[PricedLine]
    subtotal_net: Decimal
    vat_total: Decimal
    grand_total: Decimal

    @property
    def all_sellable(self) -> bool:
        return all(line.sellable for line in self.lines)


def quote_build(*, customer, items: list[dict]) -> Quote:
    """``items`` are ``{sku, quantity}`` (quantity already a positive integer). Unknown or
    invisible skus and quantities that break the product's rules are 400 with per-line errors;
    a product without a price for this dealer is reported on its line."""
    products = products_by_sku(item["sku"] for item in items)
    errors: dict[str, list[str]] = {}
    for index, item in enumerate(items):
        product = products.get(item["sku"])
        if product is None:
            errors[f"items.{index}.sku"] = [_("Unknown product.")]
            continue
        problems = quantity_problems(product, item["quantity"])
        if problems:
            errors[f"items.{index}.quantity"] = [message for _code, message in problems]
    if errors:
        raise ValidationError(errors)
    lines = lines_price(
        customer=customer, pairs=[(products[item["sku"]], item["quantity"]) for item in items]
    )
    return Quote(currency=settings.CURRENCY, lines=lines, **totals(lines))
