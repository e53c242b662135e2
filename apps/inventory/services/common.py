"""Pieces shared by the stock services: the allocation record, argument checks, row locks in
one global order, and the ledger row that goes with every change of a stock level.

Lock order (every service follows it, so two transactions never wait on each other in a
circle): Product rows read for their serial tracking (``FOR KEY SHARE``, by id) by what adds
stock, then StockLevel rows ordered by ``(product_id, warehouse_id)``, then SerialNumber rows
ordered by ``id``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils.translation import gettext as _

from apps.catalog.models import Product
from apps.core.exceptions import ValidationError
from apps.inventory.events import stock_changed_emit
from apps.inventory.models import StockLevel, StockMovement, Warehouse

REFERENCE_MAX = StockMovement._meta.get_field("reference").max_length
REASON_MAX = StockMovement._meta.get_field("reason").max_length

Key = tuple[int, int]  # (product_id, warehouse_id)


@dataclass(frozen=True, slots=True)
class Allocation:
    """``quantity`` units of a product drawn from (or given back to) one warehouse."""

    product_id: int
    warehouse_id: int
    quantity: int


def actor_or_none(actor):
    """The user to record on a movement: nobody for anonymous or unsaved users."""
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.pk is None:
        return None
    return actor


def clean_reference(reference: str, *, required: bool = True, field: str = "reference") -> str:
    reference = (reference or "").strip()
    if required and not reference:
        raise ValidationError({field: [_("A reference is required.")]})
    if len(reference) > REFERENCE_MAX:
        raise ValidationError({field: [_("At most %(max)d characters.") % {"max": REFERENCE_MAX}]})
    return reference


def clean_reason(reason: str, *, required: bool, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise ValidationError({field: [_("Say why the stock changes.")]})
    if len(reason) > REASON_MAX:
        raise ValidationError({field: [_("At most %(max)d characters.") % {"max": REASON_MAX}]})
    return reason


def is_whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def clean_quantity(value, *, field: str = "quantity") -> int:
    if not is_whole(value) or value <= 0:
        raise ValidationError({field: [_("Enter a whole number greater than zero.")]})
    return value


def pk_of(obj) -> int:
    return obj if is_whole(obj) else obj.pk


def resolve_product(product) -> Product:
    if isinstance(product, Product):
        return product
    found = Product.all_objects.filter(pk=product).first() if is_whole(product) else None
    if found is None:
        raise ValidationError({"product": [_("Unknown product.")]})
    return found


def resolve_warehouse(warehouse) -> Warehouse:
    if isinstance(warehouse, Warehouse):
        return warehouse
    found = Warehouse.objects.filter(pk=warehouse).first() if is_whole(warehouse) else None
    if found is None:
        raise ValidationError({"warehouse": [_("Unknown warehouse.")]})
    return found


_TRACKING = (
    f"SELECT id, serial_tracked FROM {Product._meta.db_table} "  # noqa: S608
    "WHERE id = ANY(%s) ORDER BY id FOR KEY SHARE"
)


def serial_tracking_read(product_ids: Iterable[int]) -> dict[int, bool]:
    """``{product_id: serial_tracked}``, read under ``FOR KEY SHARE`` for the rest of the
    transaction, by whatever adds stock. A change of the tracking locks the product ``FOR
    UPDATE`` before the catalog asks whether stock hangs on it (``serial_tracking_refusals``):
    either that change waits for this transaction and sees its units, or this read waits for
    the change and answers the new tracking. Never units counted under a tracking that is
    no longer the product's. (SQLite, the demo's database, has no row locks: one writer at a
    time.)"""
    ids = sorted(set(product_ids))
    if connection.vendor != "postgresql":
        return dict(Product.all_objects.filter(pk__in=ids).values_list("pk", "serial_tracked"))
    with connection.cursor() as cursor:
        cursor.execute(_TRACKING, [ids])
        return dict(cursor.fetchall())


def lock_levels(
    *, product_ids: Iterable[int], warehouse_ids: Iterable[int] | None = None
) -> dict[Key, StockLevel]:
    """``SELECT ... FOR UPDATE`` the stock levels of these products (in these warehouses),
    in the global lock order, in one statement. PostgreSQL locks the rows after sorting them,
    so the order of the ``ORDER BY`` is the order the locks are taken in."""
    product_ids = sorted(set(product_ids))
    if not product_ids:
        return {}
    # the warehouse comes along (joined, not locked: ``of=("self",)``) for the callers that
    # need its order or its code, without another query while the locks are held
    rows = (
        StockLevel.objects.select_for_update(of=("self",))
        .select_related("warehouse")
        .filter(product_id__in=product_ids)
    )
    if warehouse_ids is not None:
        rows = rows.filter(warehouse_id__in=sorted(set(warehouse_ids)))
    rows = rows.order_by("product_id", "warehouse_id")
    return {(row.product_id, row.warehouse_id): row for row in rows}


def lock_level(*, product_id: int, warehouse_id: int) -> StockLevel:
    """The one stock level of a product in a warehouse, created at zero if missing, locked."""
    StockLevel.objects.get_or_create(product_id=product_id, warehouse_id=warehouse_id)
    return StockLevel.objects.select_for_update().get(
        product_id=product_id, warehouse_id=warehouse_id
    )


def change_level(
    level: StockLevel,
    *,
    kind: str,
    quantity: int,
    on_hand: int,
    reserved: int,
    now: datetime,
    reference: str = "",
    reason: str = "",
    actor=None,
) -> StockMovement:
    """Set a locked level's new numbers in memory and return its (unsaved) ledger row; the
    caller saves both (``save_changes``)."""
    movement = StockMovement(
        product_id=level.product_id,
        warehouse_id=level.warehouse_id,
        kind=kind,
        quantity=quantity,
        on_hand_before=level.on_hand,
        on_hand_after=on_hand,
        reserved_before=level.reserved,
        reserved_after=reserved,
        reference=reference,
        reason=reason,
        actor=actor,
        created_at=now,
    )
    level.on_hand, level.reserved, level.updated_at = on_hand, reserved, now
    return movement


_LEVELS_UPDATE = (
    f"UPDATE {StockLevel._meta.db_table} AS sl SET on_hand = v.on_hand, "  # noqa: S608 (constants only)
    "reserved = v.reserved, updated_at = v.updated_at "
    "FROM unnest(%s::bigint[], %s::integer[], %s::integer[], %s::timestamptz[]) "
    "AS v(id, on_hand, reserved, updated_at) WHERE sl.id = v.id"
)


def _levels_update(levels: list[StockLevel]) -> None:
    """Write the new on hand, reserved and time of these (locked) levels in one ``UPDATE``
    joined to arrays of the new values: what ``bulk_update`` does, without its ``CASE`` per
    row and column, which cost more Python time than the rest of a reservation while the
    stock locks are held. The table's checks (never negative, never oversold) apply as
    always. (SQLite, the demo's, takes ``bulk_update``.)"""
    if connection.vendor != "postgresql":
        StockLevel.objects.bulk_update(levels, ["on_hand", "reserved", "updated_at"])
        return
    with connection.cursor() as cursor:
        cursor.execute(
            _LEVELS_UPDATE,
            [
                [level.pk for level in levels],
                [level.on_hand for level in levels],
                [level.reserved for level in levels],
                [level.updated_at for level in levels],
            ],
        )


def save_changes(
    levels: list[StockLevel],
    movements: list[StockMovement],
    *,
    locked: Mapping[Key, StockLevel] | None = None,
    skus: Mapping[int, str] | None = None,
) -> None:
    """Save the changed levels and their ledger rows, and publish ``stock.changed`` for them
    (one event per transaction, however many services it calls). ``locked``: every stock
    level of the changed products, locked by the caller with their warehouses (``lock_levels``
    without ``warehouse_ids``), and ``skus`` of those products: the event is built from them
    instead of reading them again."""
    if levels:
        _levels_update(levels)
    if movements:
        StockMovement.objects.bulk_create(movements)
        stock_changed_emit(
            product_ids={m.product_id for m in movements},
            reference=movements[0].reference,
            levels=None if locked is None else locked.values(),
            skus=skus,
        )
