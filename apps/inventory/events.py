"""The stock event of the outbox (``stock.changed``): its catalogue entry and its emit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from apps.core.events import EventType, event_emit, merge_by_key, register_event_type
from apps.inventory.models import StockLevel, units_available

STOCK_CHANGED = EventType(
    "stock.changed",
    "Stock changed: one event per transaction (an ERP stock batch, an adjustment, an "
    "order's reservation...), listing each product whose stock changed with its "
    "available units over all active warehouses and all its stock levels (every warehouse, "
    "the unchanged ones too: the event is the product's whole stock).",
    "stock",
    {
        "reference": "batch:43",
        "products": [
            {
                "sku": "DEMO-000001",
                "available": 37,
                "levels": [{"warehouse": "IST", "on_hand": 40, "reserved": 3}],
            }
        ],
    },
    merge=merge_by_key("products", "sku"),
    scope="stock:write",
)


def register() -> None:
    register_event_type(STOCK_CHANGED)


def stock_changed_emit(
    *,
    product_ids: Iterable[int],
    reference: str = "",
    levels: Iterable[StockLevel] | None = None,
    skus: Mapping[int, str] | None = None,
) -> None:
    """``stock.changed`` for these products, read as they are now in this transaction: the
    available units over active warehouses and every stock level. One event per
    transaction (merged by SKU).

    A caller that holds every stock level of these products, locked and saved, with its
    ``warehouse`` loaded (a reservation), passes them as ``levels`` with the products'
    ``skus``: the event is then built from them, without reading them again."""
    product_ids = sorted(set(product_ids))
    if not product_ids:
        return
    if levels is not None and skus is not None:
        wanted = set(product_ids)
        rows: Iterable[tuple] = sorted(
            (
                (
                    level.product_id,
                    skus[level.product_id],
                    level.warehouse.code,
                    level.warehouse.is_active,
                    level.on_hand,
                    level.reserved,
                )
                for level in levels
                if level.product_id in wanted
            ),
            key=lambda row: (row[0], row[2]),
        )
    else:
        rows = (
            StockLevel.objects.filter(product_id__in=product_ids)
            .order_by("product_id", "warehouse__code")
            .values_list(
                "product_id",
                "product__sku",
                "warehouse__code",
                "warehouse__is_active",
                "on_hand",
                "reserved",
            )
        )
    products: dict[int, dict[str, Any]] = {}
    for product_id, sku, warehouse, active, on_hand, reserved in rows:
        item = products.setdefault(product_id, {"sku": sku, "available": 0, "levels": []})
        if active:
            item["available"] += units_available(on_hand, reserved)
        item["levels"].append({"warehouse": warehouse, "on_hand": on_hand, "reserved": reserved})
    if not products:
        return
    event_emit(
        "stock.changed",
        {"reference": reference, "products": list(products.values())},
        subject="stock",
        coalesce=True,
    )
