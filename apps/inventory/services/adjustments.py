"""Changes of stock on hand: staff adjustments (and ERP syncs), goods received, returns."""

from __future__ import annotations

import unicodedata

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.catalog.models import Product
from apps.core.exceptions import ValidationError
from apps.core.text import key_problem
from apps.inventory.models import SerialNumber, StockMovement, Warehouse
from apps.inventory.services.common import (
    actor_or_none,
    change_level,
    clean_quantity,
    clean_reason,
    clean_reference,
    is_whole,
    lock_level,
    resolve_product,
    resolve_warehouse,
    save_changes,
    serial_tracking_read,
)
from apps.inventory.services.feeds import serials_check, serials_write

ADJUSTMENT_KINDS = (StockMovement.Kind.ADJUSTMENT, StockMovement.Kind.ERP_SYNC)


MAX_ON_HAND = 2**31 - 1  # the database column's limit
SERIAL_MAX = SerialNumber._meta.get_field("serial").max_length


def stock_adjust(
    *,
    product: Product | int,
    warehouse: Warehouse | int,
    new_on_hand: int | None = None,
    delta: int | None = None,
    reason: str,
    actor=None,
    kind: str = StockMovement.Kind.ADJUSTMENT,
    reference: str = "",
    serials: list[str] | None = None,
) -> StockMovement | None:
    """Set the units on hand (``new_on_hand``) or change them (``delta``) after a count, with
    a reason. Never below zero, never below what orders hold reserved (a field error says
    so). Returns the ``adjustment`` movement, or ``None`` when nothing changes.

    A serial-tracked product's units are its serial numbers: a change by N names N
    ``serials``, as the ERP's stock feed does (``serials_check``): up, serials not in stock
    (recorded in stock in this warehouse); down, serials in stock in this warehouse (written
    off)."""
    field = "new_on_hand" if new_on_hand is not None else "delta"
    if (new_on_hand is None) == (delta is None):
        raise ValidationError(
            {"new_on_hand": [_("Give either the new quantity on hand or a change, not both.")]}
        )
    if not is_whole(new_on_hand if new_on_hand is not None else delta):
        raise ValidationError({field: [_("Enter a whole number.")]})
    if kind not in ADJUSTMENT_KINDS:
        raise ValidationError({"kind": [_("Not a kind of adjustment.")]})
    reason = clean_reason(reason, required=True)
    reference = clean_reference(reference, required=False)
    product, warehouse = resolve_product(product), resolve_warehouse(warehouse)
    actor = actor_or_none(actor)

    with transaction.atomic():
        tracked = serial_tracking_read([product.pk])[product.pk]
        if serials and not tracked:
            raise ValidationError({"serials": [_("This product is not serial-tracked.")]})
        level = lock_level(product_id=product.pk, warehouse_id=warehouse.pk)
        target = new_on_hand if new_on_hand is not None else level.on_hand + delta
        if target < 0:
            raise ValidationError({field: [_("Stock on hand cannot go below zero.")]})
        if target > MAX_ON_HAND:
            raise ValidationError(
                {field: [_("At most %(max)d units on hand.") % {"max": MAX_ON_HAND}]}
            )
        if target < level.reserved:
            raise ValidationError(
                {
                    field: [
                        ngettext(
                            "%(reserved)d unit is reserved for orders: on hand cannot go below "
                            "that.",
                            "%(reserved)d units are reserved for orders: on hand cannot go "
                            "below that.",
                            level.reserved,
                        )
                        % {"reserved": level.reserved}
                    ]
                }
            )
        if target == level.on_hand:
            return None
        now = timezone.now()
        names = []
        if tracked:
            names = _clean_serials(serials or [], quantity=abs(target - level.on_hand))
        movement = change_level(
            level,
            kind=kind,
            quantity=target - level.on_hand,
            on_hand=target,
            reserved=level.reserved,
            now=now,
            reference=reference,
            reason=reason,
            actor=actor,
        )
        save_changes([level], [movement])
        if names:
            _serials_counted(movement, names, reference=reference)
    return movement


def _serials_counted(movement: StockMovement, names, *, reference) -> None:
    """The serial numbers of a staff count or a receipt (``movement``: its on hand before and
    after), checked and written by the ERP stock feed's own ``serials_check`` and
    ``serials_write``: up, serials not in stock anywhere (in stock here); down, serials in
    stock here (written off). A wrong serial is a ``serials`` error and the caller's
    transaction rolls back."""
    pair = (movement.product_id, movement.warehouse_id)
    move = (movement.on_hand_before, movement.on_hand_after)
    with connection.cursor() as cursor:
        plans, errors = serials_check(cursor, {pair: move}, {pair: names})
        if errors:
            raise ValidationError({"serials": errors[pair]["serial_numbers"]})
        serials_write(cursor, plans, reference=reference, now=movement.created_at)


def _clean_serials(serials, *, quantity: int) -> list[str]:
    # composed, and keys by the feeds' rules (nothing invisible, no look-alike of another)
    names = [unicodedata.normalize("NFC", str(name).strip()) for name in serials]
    if any(not name for name in names):
        raise ValidationError({"serials": [_("A serial number cannot be empty.")]})
    problems = [f"{name}: {key_problem(name)}" for name in names if key_problem(name)]
    if problems:
        raise ValidationError({"serials": problems})
    too_long = [name for name in names if len(name) > SERIAL_MAX]
    if too_long:
        raise ValidationError(
            {
                "serials": [
                    _("At most %(max)d characters: %(serials)s.")
                    % {"max": SERIAL_MAX, "serials": ", ".join(too_long)}
                ]
            }
        )
    if len(set(names)) != len(names):
        raise ValidationError({"serials": [_("A serial number is named twice.")]})
    if len(names) != quantity:
        raise ValidationError(
            {
                "serials": [
                    ngettext(
                        "Name %(quantity)d serial number, not %(given)d.",
                        "Name %(quantity)d serial numbers, not %(given)d.",
                        quantity,
                    )
                    % {"quantity": quantity, "given": len(names)}
                ]
            }
        )
    return names


def _add_on_hand(
    *, product: Product, warehouse: Warehouse, quantity: int, kind: str, reference, reason, actor
) -> StockMovement:
    level = lock_level(product_id=product.pk, warehouse_id=warehouse.pk)
    movement = change_level(
        level,
        kind=kind,
        quantity=quantity,
        on_hand=level.on_hand + quantity,
        reserved=level.reserved,
        now=timezone.now(),
        reference=reference,
        reason=reason,
        actor=actor,
    )
    save_changes([level], [movement])
    return movement


def stock_receive(
    *,
    product: Product | int,
    warehouse: Warehouse | int,
    quantity: int,
    reference: str = "",
    reason: str = "",
    actor=None,
    serials: list[str] | None = None,
) -> StockMovement:
    """Goods in: on hand grows by ``quantity`` (a ``receipt`` movement). ``serials`` (one per
    unit, serial-tracked products only) are recorded in stock in that warehouse; a serial we
    sold or wrote off before comes back in stock, one already in stock (or returned) is
    refused."""
    quantity = clean_quantity(quantity)
    reference = clean_reference(reference, required=False)
    reason = clean_reason(reason, required=False)
    product, warehouse = resolve_product(product), resolve_warehouse(warehouse)
    names = _clean_serials(serials, quantity=quantity) if serials is not None else []
    actor = actor_or_none(actor)

    with transaction.atomic():
        tracked = serial_tracking_read([product.pk])[product.pk]
        if names and not tracked:
            raise ValidationError({"serials": [_("This product is not serial-tracked.")]})
        if tracked and not names:
            raise ValidationError({"serials": [_("Name the serial number of each unit.")]})
        movement = _add_on_hand(
            product=product,
            warehouse=warehouse,
            quantity=quantity,
            kind=StockMovement.Kind.RECEIPT,
            reference=reference,
            reason=reason,
            actor=actor,
        )
        if names:
            _serials_counted(movement, names, reference=reference)
    return movement


def stock_return(
    *,
    product: Product | int,
    warehouse: Warehouse | int,
    quantity: int,
    reference: str,
    actor=None,
    serials: list[str] | None = None,
    reason: str = "",
) -> StockMovement:
    """Returned goods back on hand (a ``return`` movement, e.g. ``return:RMA-2026-000042``).
    Serial-tracked products name one sold serial number per unit; they become ``returned``
    (on hand in this warehouse, and sellable again)."""
    quantity = clean_quantity(quantity)
    reference = clean_reference(reference)
    reason = clean_reason(reason, required=False)
    product, warehouse = resolve_product(product), resolve_warehouse(warehouse)
    names = _clean_serials(serials, quantity=quantity) if serials is not None else []
    actor = actor_or_none(actor)

    with transaction.atomic():
        tracked = serial_tracking_read([product.pk])[product.pk]
        if serials is not None and not tracked:
            raise ValidationError({"serials": [_("This product is not serial-tracked.")]})
        if tracked and serials is None:
            raise ValidationError({"serials": [_("Name the serial numbers that come back.")]})
        movement = _add_on_hand(
            product=product,
            warehouse=warehouse,
            quantity=quantity,
            kind=StockMovement.Kind.RETURN,
            reference=reference,
            reason=reason,
            actor=actor,
        )
        if names:
            rows = list(
                SerialNumber.objects.select_for_update()
                .filter(product=product, serial__in=names)
                .order_by("id")
            )
            by_name = {row.serial: row for row in rows}
            problems = [
                _("%(serial)s: unknown serial number.") % {"serial": name}
                if name not in by_name
                else _("%(serial)s: was not sold.") % {"serial": name}
                for name in names
                if name not in by_name or by_name[name].status != SerialNumber.Status.SOLD
            ]
            if problems:
                raise ValidationError({"serials": problems})
            now = timezone.now()
            for row in rows:
                row.status, row.warehouse, row.reference, row.updated_at = (
                    SerialNumber.Status.RETURNED,
                    warehouse,
                    reference,
                    now,
                )
            SerialNumber.objects.bulk_update(
                rows, ["status", "warehouse", "reference", "updated_at"]
            )
    return movement
