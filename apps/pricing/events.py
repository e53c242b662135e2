"""The price event of the outbox (``price.changed``): its catalogue entry and its emit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from apps.core.events import EventType, event_emit, merge_by_key, register_event_type


def _price_merge(old: dict, new: dict) -> dict:
    prices = merge_by_key("prices", ("sku", "price_list", "min_quantity"))(old, new)
    specials = merge_by_key("special_prices", ("customer_code", "sku", "min_quantity"))(old, new)
    return {**prices, "special_prices": specials["special_prices"]}


PRICE_CHANGED = EventType(
    "price.changed",
    "Prices changed: one event per transaction (an ERP prices batch, a price saved in "
    "the back office), listing the changed list prices and special prices.",
    "price",
    {
        "source": "erp",
        "reference": "batch:44",
        "prices": [
            {
                "sku": "DEMO-000001",
                "price_list": "LIST",
                "min_quantity": 1,
                "amount": "1250.0000",
                "valid_from": None,
                "valid_to": None,
                "deleted": False,
            }
        ],
        "special_prices": [
            {
                "customer_code": "DEMO001",
                "sku": "DEMO-000001",
                "min_quantity": 1,
                "amount": "1100.0000",
                "valid_from": None,
                "valid_to": None,
                "deleted": False,
            }
        ],
    },
    merge=_price_merge,
    scope="prices:write",
)


def register() -> None:
    register_event_type(PRICE_CHANGED)


def price_changed_emit(
    *,
    prices: Iterable[Mapping[str, Any]] = (),
    special_prices: Iterable[Mapping[str, Any]] = (),
    source: str,
    reference: str = "",
) -> None:
    """``price.changed`` for the pricing services to call in their transaction: ``prices``
    ``{sku, price_list, min_quantity, amount, valid_from, valid_to, deleted}``,
    ``special_prices`` the same with ``customer_code``. One event per transaction."""
    prices, special_prices = list(prices), list(special_prices)
    if not prices and not special_prices:
        return
    event_emit(
        "price.changed",
        {
            "source": source,
            "reference": reference,
            "prices": prices,
            "special_prices": special_prices,
        },
        subject="price",
        coalesce=True,
    )
