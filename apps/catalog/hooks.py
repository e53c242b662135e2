"""What the catalogue shows that higher apps know: a product's stock (inventory) and its price
for a dealer (pricing).

The catalog sits below both (DESIGN.md, Layout), so it imports neither: they register their
answers here from their ``ready()`` (``stock_provider_register``, ``price_provider_register``),
and the catalog's selectors, admin and API ask through the functions below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.db.models import QuerySet

from apps.catalog.models import Product

_stock: dict[str, Callable[..., Any]] = {}
_prices: dict[str, Callable[..., Any]] = {}
_product_listeners: list[Callable[[Iterable[int]], Any]] = []
_serial_guards: list[Callable[[list[int]], Mapping[int, str]]] = []


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
    *,
    price_resolve_many: Callable[..., list],
    price_filter: Callable[..., QuerySet],
    price_ordered_ids: Callable[..., list],
) -> None:
    _prices.update(
        price_resolve_many=price_resolve_many,
        price_filter=price_filter,
        price_ordered_ids=price_ordered_ids,
    )


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


def price_filter(queryset: QuerySet, *, customer, low=None, high=None) -> QuerySet:
    """Products of ``queryset`` whose unit price for ``customer`` at quantity 1 is within
    ``[low, high]`` (either may be None); products without a price are left out."""
    return _provided(_prices, "price_filter", "apps.pricing")(
        queryset, customer=customer, low=low, high=high
    )


def price_ordered_ids(
    queryset: QuerySet,
    *,
    customer,
    descending: bool,
    offset: int,
    limit: int,
    seek_key: str | None = None,
    seek_seconds: int = 0,
) -> list[int]:
    """Ids of ``queryset``'s products ``[offset, offset + limit)`` by the unit price for
    ``customer`` at quantity 1 (ties by name; products without a price last). ``seek_key``
    names the filters and the dealer: a deep page then starts from a seek point cached for
    ``seek_seconds``."""
    return _provided(_prices, "price_ordered_ids", "apps.pricing")(
        queryset,
        customer=customer,
        descending=descending,
        offset=offset,
        limit=limit,
        seek_key=seek_key,
        seek_seconds=seek_seconds,
    )


# --- products written with bulk SQL ---------------------------------------------------------------


def products_written_register(listener: Callable[[Iterable[int]], Any]) -> None:
    """``listener(product_ids)`` runs in the writer's transaction whenever existing products
    are rewritten with bulk SQL (the ERP product feed), which sends no model signals."""
    if listener not in _product_listeners:
        _product_listeners.append(listener)


def products_written(product_ids: Iterable[int]) -> None:
    ids = list(product_ids)
    if ids:
        for listener in _product_listeners:
            listener(ids)


# --- what serial tracking hangs on ----------------------------------------------------------------


def serial_tracking_guard_register(guard: Callable[[list[int]], Mapping[int, str]]) -> None:
    """``guard(product_ids)`` answers ``{product_id: why}`` for the products whose serial
    tracking must not change now: units on hand or reserved (inventory) are counted as
    serial numbers or not, and units sold can come back (returns) as they shipped."""
    if guard not in _serial_guards:
        _serial_guards.append(guard)


def serial_tracking_refusals(wanted: Mapping[int, bool]) -> dict[int, str]:
    """Why the serial tracking of these saved products cannot become what ``wanted`` says
    (``{product_id: serial_tracked}``) now; a product not in the answer may change.

    Runs in the transaction that writes the change. It locks the products first (``FOR
    UPDATE``, in id order), then asks the guards (one query each) about those whose stored
    tracking differs from the wanted one. Whatever adds stock reads the tracking under ``FOR
    KEY SHARE`` (inventory's ``serial_tracking_read``): either it waits for this transaction
    and sees the new tracking, or this lock waits for it and the guards see its units. So no
    unit is added under the old tracking between this answer and the commit."""
    stored = (
        Product.all_objects.select_for_update()
        .filter(pk__in=list(wanted))
        .order_by("pk")
        .values_list("pk", "serial_tracked")
    )
    changing = [pk for pk, tracked in stored if tracked != wanted[pk]]
    refusals: dict[int, str] = {}
    if changing:
        for guard in _serial_guards:
            for product_id, why in guard(changing).items():
                refusals.setdefault(product_id, why)
    return refusals
