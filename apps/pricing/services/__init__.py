"""Price writes (see ``prices``); reads live in ``apps.pricing.selectors``."""

from apps.pricing.services.prices import (
    CREATED,
    UNCHANGED,
    UPDATED,
    Source,
    price_break_validate,
    price_delete,
    price_set,
    price_update,
    price_upsert,
    special_price_delete,
    special_price_set,
    special_price_update,
    special_price_upsert,
)

__all__ = [
    "CREATED",
    "UNCHANGED",
    "UPDATED",
    "Source",
    "price_break_validate",
    "price_delete",
    "price_set",
    "price_update",
    "price_upsert",
    "special_price_delete",
    "special_price_set",
    "special_price_update",
    "special_price_upsert",
]
