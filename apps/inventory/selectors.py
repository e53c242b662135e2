"""Reads of the inventory domain used by other apps."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Exists, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from apps.inventory.models import StockLevel, available_expression


def available_subquery(product_ref: str = "pk"):
    """An expression: the product's available units over all active warehouses (one
    correlated subquery, so a whole page of products is annotated in one query)."""
    total = (
        StockLevel.objects.filter(product_id=OuterRef(product_ref), warehouse__is_active=True)
        .values("product_id")
        .annotate(total=Sum(available_expression()))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=IntegerField()), Value(0))


def in_stock_condition(in_stock: bool):
    """A filter on products with (``in_stock``) or without available units. The database holds
    ``reserved <= on_hand`` on every stock row, so "the sum over active warehouses is above 0"
    is "some active warehouse has a row with units available": a semi-join PostgreSQL runs
    once for the whole list, where filtering on the summed annotation runs it per product."""
    has_units = Exists(
        StockLevel.objects.alias(units=available_expression()).filter(
            product_id=OuterRef("pk"), warehouse__is_active=True, units__gt=0
        )
    )
    return has_units if in_stock else ~has_units


def stock_display(available: int) -> dict:
    """What a dealer sees: ``{available, status}``; above STOCK_DISPLAY_CAP the exact number is
    hidden and the cap is shown instead (``available`` is then a lower bound)."""
    available = max(int(available or 0), 0)
    if available == 0:
        status = "out_of_stock"
    elif available < settings.LOW_STOCK_THRESHOLD:
        status = "low_stock"
    else:
        status = "in_stock"
    cap = settings.STOCK_DISPLAY_CAP
    shown = cap if cap and available > cap else available
    return {"available": shown, "status": status}


def serial_tracking_held_by_stock(product_ids: list[int]) -> dict[int, str]:
    """The products with units on hand or reserved in any warehouse: their serial tracking
    cannot change (the units would be counted with serial numbers they do not have, or keep
    ones no longer tracked, and a reserved order could not ship). The catalog asks this
    through ``serial_tracking_guard_register``."""
    held = (
        StockLevel.objects.filter(product_id__in=product_ids)
        .filter(Q(on_hand__gt=0) | Q(reserved__gt=0))
        .values_list("product_id", flat=True)
        .distinct()
    )
    why = _("It has stock on hand or reserved: bring its stock to 0 first.")
    return dict.fromkeys(held, why)
