"""Checks shared by the inventory tests."""

from __future__ import annotations

from apps.inventory.models import StockLevel, StockMovement
from apps.inventory.services import stock_receive
from tests.inventory.factories import ProductFactory, WarehouseFactory


def stocked(quantities: dict[str, int], *, product=None, **product_kwargs):
    """A product received into warehouses ``{code: units}`` (in that order of preference),
    through the service, so the ledger starts at zero. Returns (product, {code: warehouse})."""
    product = product or ProductFactory(**product_kwargs)
    warehouses = {}
    for position, (code, units) in enumerate(quantities.items()):
        warehouse = WarehouseFactory(code=code, sort_order=position * 10)
        warehouses[code] = warehouse
        if units:
            stock_receive(product=product, warehouse=warehouse, quantity=units, reference="setup")
    return product, warehouses


def level(product, warehouse) -> StockLevel:
    return StockLevel.objects.get(product=product, warehouse=warehouse)


def assert_ledger_consistent(stock_level: StockLevel) -> None:
    """Each movement of the level starts where the one before ended, its quantity is the
    change it claims, and the last one ends at the level's numbers."""
    movements = list(
        StockMovement.objects.filter(
            product_id=stock_level.product_id, warehouse_id=stock_level.warehouse_id
        ).order_by("id")
    )
    on_hand, reserved = 0, 0
    for movement in movements:
        assert (movement.on_hand_before, movement.reserved_before) == (on_hand, reserved), movement
        on_hand_change = movement.on_hand_after - movement.on_hand_before
        reserved_change = movement.reserved_after - movement.reserved_before
        if movement.kind in (StockMovement.Kind.RESERVATION, StockMovement.Kind.RELEASE):
            assert (on_hand_change, reserved_change) == (0, movement.quantity), movement
        elif movement.kind == StockMovement.Kind.SALE:
            assert on_hand_change == reserved_change == movement.quantity < 0, movement
        else:
            assert (on_hand_change, reserved_change) == (movement.quantity, 0), movement
        assert 0 <= movement.reserved_after <= movement.on_hand_after, movement
        on_hand, reserved = movement.on_hand_after, movement.reserved_after
    stock_level.refresh_from_db()
    assert (stock_level.on_hand, stock_level.reserved) == (on_hand, reserved)
