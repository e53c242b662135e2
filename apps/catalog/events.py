"""The product event of the outbox (``product.updated``): its catalogue entry and its emit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from apps.core.events import EventType, event_emit, merge_by_key, register_event_type

PRODUCT_UPDATED = EventType(
    "product.updated",
    "Products were created or changed: one event per ERP products batch (listing every "
    "product it created or changed), one per product saved in the back office, "
    "activated, deactivated, deleted or restored. `change` is `created`, `updated` or "
    "`deleted` (a deleted product brought back, by the back office or the ERP, is `updated`).",
    "product",
    {
        "source": "erp",
        "reference": "batch:42",
        "products": [
            {
                "sku": "DEMO-000001",
                "name": "LED panel 60x60 40 W",
                "is_active": True,
                "change": "updated",
            }
        ],
    },
    merge=merge_by_key("products", "sku"),
    scope="catalog:write",
)


def register() -> None:
    register_event_type(PRODUCT_UPDATED)


def product_updated_emit(
    *, products: Iterable[Mapping[str, Any]], source: str, reference: str = ""
) -> None:
    """``products``: ``{sku, name, is_active, change}`` each (``change``: created, updated,
    deleted). One event per transaction."""
    items = list(products)
    if not items:
        return
    event_emit(
        "product.updated",
        {"source": source, "reference": reference, "products": items},
        subject="product",
        coalesce=True,
    )
