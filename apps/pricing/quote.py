"""Quotes: lines priced by the engine, with line and order totals (DESIGN.md money rules)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from apps.catalog.models import Product
from apps.core.exceptions import ValidationError
from apps.core.money import line_amounts
from apps.pricing.engine import ResolvedPrice, price_resolve_many


@dataclass
class QuoteLine:
    product: Product
    quantity: int
    price: ResolvedPrice

    def as_api(self) -> dict:
        line = {
            "sku": self.product.sku,
            "name": self.product.name,
            "quantity": self.quantity,
            "vat_rate": self.product.vat_rate,
            "sellable": self.price.sellable,
            "price": self.price.as_api(settings.CURRENCY),
        }
        if self.price.sellable:
            net, vat, gross = line_amounts(
                self.price.unit_net, self.quantity, self.product.vat_rate
            )
            line.update(
                unit_net=f"{self.price.unit_net:.4f}",
                discount=f"{self.price.discount:.4f}",
                line_net=f"{net:.2f}",
                line_vat=f"{vat:.2f}",
                line_gross=f"{gross:.2f}",
            )
        else:
            line["problem"] = _("This product has no price for your company.")
        return line


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


def quote_build(*, customer, items: list[dict]) -> dict:
    """``items`` are ``{sku, quantity}`` (quantity already a positive integer). Unknown or
    invisible skus and quantities that break the product's rules are 400 with per-line errors;
    a product without a price for this dealer is reported on its line."""
    skus = {item["sku"] for item in items}
    products = {
        p.sku: p for p in Product.objects.visible().filter(sku__in=skus).select_related("category")
    }
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
    pairs = [(products[item["sku"]], item["quantity"]) for item in items]
    resolved = price_resolve_many(customer=customer, items=pairs)
    lines = [QuoteLine(p, q, r) for (p, q), r in zip(pairs, resolved, strict=True)]
    subtotal = vat_total = Decimal("0.00")
    for line in lines:
        if line.price.sellable:
            net, vat, _gross = line_amounts(
                line.price.unit_net, line.quantity, line.product.vat_rate
            )
            subtotal += net
            vat_total += vat
    return {
        "currency": settings.CURRENCY,
        "lines": [line.as_api() for line in lines],
        "subtotal_net": f"{subtotal:.2f}",
        "vat_total": f"{vat_total:.2f}",
        "grand_total": f"{subtotal + vat_total:.2f}",
        "all_sellable": all(line.price.sellable for line in lines),
    }
