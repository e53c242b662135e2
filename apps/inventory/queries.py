"""More reads of the inventory domain (``selectors.py`` holds the ones the catalog uses)."""

from __future__ import annotations

from django.db.models import F, Sum

from apps.inventory.models import StockMovement

# the movements that move units into or out of a reference's reservation
HOLDING_KINDS = (
    StockMovement.Kind.RESERVATION,
    StockMovement.Kind.RELEASE,
    StockMovement.Kind.SALE,
)


def stock_held_for_reference(*, reference: str) -> dict[tuple[int, int], int]:
    """What ``reference`` (e.g. ``order:SO-2026-000123``) still holds reserved, per
    ``(product_id, warehouse_id)``: its reservations minus its releases and sales, read from
    the ledger (each movement's change of ``reserved``). Only positive holdings are listed."""
    rows = (
        StockMovement.objects.filter(reference=reference, kind__in=HOLDING_KINDS)
        .values("product_id", "warehouse_id")
        .annotate(held=Sum(F("reserved_after") - F("reserved_before")))
        .order_by("product_id", "warehouse_id")
    )
    return {
        (row["product_id"], row["warehouse_id"]): row["held"] for row in rows if row["held"] > 0
    }
