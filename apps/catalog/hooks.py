"""What the catalogue shows that higher apps know: a product's stock (inventory) and its price
for a dealer (pricing).

The catalog sits below both (DESIGN.md, Layout), so it imports neither: they register their
answers here from their ``ready()`` (``stock_provider_register``, ``price_provider_register``),
and the catalog's selectors, admin and API ask through the functions below.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import QuerySet

# the annotation a product list is filtered and ordered by price on (``annotate_base_price``)
PRICE_SORT_FIELD = "dealer_price"

_stock: dict[str, Callable[..., Any]] = {}
_prices: dict[str, Callable[..., Any]] = {}


def stock_provider_register(
    *,
    available_subquery: Callable[..., Any],
    in_stock_condition: Callable[[bool], Any],
    stock_display: Callable[[int], dict],
) -> None:
    _stock.update(
        available_subquery=available_subquery,
        in_stock_condition=in_stock_condition,
        stock_display=stock_display,
    )


def price_provider_register(
    *, price_resolve_many: Callable[..., list], annotate_base_price: Callable[..., QuerySet]
) -> None:
    _prices.update(price_resolve_many=price_resolve_many, annotate_base_price=annotate_base_price)


def _provided(registry: dict[str, Callable[..., Any]], name: str, app: str) -> Callable[..., Any]:
    try:
        return registry[name]
    except KeyError:
        message = f"nothing registered {name} with the catalog (is {app} installed?)"
        raise RuntimeError(message) from None


# --- stock (apps.inventory) ---------------------------------------------------------------------


def available_subquery(product_ref: str = "pk"):
    """An expression: the product's available units over all active warehouses."""
    return _provided(_stock, "available_subquery", "apps.inventory")(product_ref)


def in_stock_condition(in_stock: bool):
    """A filter on products: with (``in_stock``) or without available units."""
    return _provided(_stock, "in_stock_condition", "apps.inventory")(in_stock)


def stock_display(available: int) -> dict:
    """What a dealer sees of a number of available units: ``{available, status}``."""
    return _provided(_stock, "stock_display", "apps.inventory")(available)


# --- prices (apps.pricing) ----------------------------------------------------------------------


def price_resolve_many(*, customer, items: Sequence[tuple], at=None) -> list:
    """The price engine's answer for each ``(product, quantity)`` of ``items``."""
    return _provided(_prices, "price_resolve_many", "apps.pricing")(
        customer=customer, items=items, at=at
    )


def annotate_base_price(queryset: QuerySet, *, customer, at=None) -> QuerySet:
    """Products annotated with the dealer's unit price at quantity 1 (``PRICE_SORT_FIELD``)."""
    return _provided(_prices, "annotate_base_price", "apps.pricing")(
        queryset, customer=customer, at=at
    )
