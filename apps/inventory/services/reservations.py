"""Reservations for orders: reserve (all or nothing), release, and turning a reservation into
a sale at shipping. A reservation belongs to a ``reference`` (``order:SO-2026-000123``); what
the reference still holds is read from its ledger rows, so release and sale are idempotent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.catalog.models import Product
from apps.core.exceptions import Conflict, ValidationError
from apps.inventory.models import SerialNumber, StockLevel, StockMovement, Warehouse
from apps.inventory.queries import stock_held_for_reference
from apps.inventory.selectors import stock_display
from apps.inventory.services.common import (
    Allocation,
    Key,
    actor_or_none,
    change_level,
    clean_reference,
    is_whole,
    lock_levels,
    save_changes,
)


def _merge_lines(lines) -> dict[int, int]:
    """``[(product_id, quantity), ...]`` -> ``{product_id: quantity}`` in first-seen order
    (a product named twice is reserved once, for the sum)."""
    if not lines:
        raise ValidationError({"lines": [_("Name at least one product to reserve.")]})
    wanted: dict[int, int] = {}
    errors: dict[str, list[str]] = {}
    for index, line in enumerate(lines):
        try:
            product_id, quantity = line
        except (TypeError, ValueError):
            errors[f"lines.{index}"] = [_("A line is a product id and a quantity.")]
            continue
        if not is_whole(product_id):
            errors[f"lines.{index}.product_id"] = [_("Unknown product.")]
        elif not is_whole(quantity) or quantity <= 0:
            errors[f"lines.{index}.quantity"] = [_("Enter a whole number greater than zero.")]
        else:
            wanted[product_id] = wanted.get(product_id, 0) + quantity
    if errors:
        raise ValidationError(errors)
    return wanted


def _warehouse_order(level: StockLevel) -> tuple:
    return (level.warehouse.sort_order, level.warehouse.code)


def stock_reserve(
    *,
    lines: list[tuple[int, int]],
    reference: str,
    actor=None,
    skus: Mapping[int, str] | None = None,
    savepoint: bool = True,
) -> list[Allocation]:
    """Reserve every line or none. Each product is drawn from the active warehouses in
    ``(sort_order, code)`` order, split over several when one is not enough. A short line
    raises ``Conflict("insufficient_stock")`` listing every short line as
    ``{sku, requested, available}``, ``available`` as the catalog shows it (``stock_display``:
    capped at STOCK_DISPLAY_CAP, no internal ids; the body reaches the dealer as it is); nothing
    changes then.

    The stock levels of all lines are locked in one statement, in the global lock order, and
    saved in one more (with one insert for the ledger rows and one for the event), whatever
    the number of lines. ``skus`` (``{product_id: sku}`` of every line's product), when the
    caller has loaded the products already, saves reading them again. ``savepoint=False``
    when the caller's transaction is rolled back on any error anyway (order placement): no
    savepoint round trips then.

    Serial-tracked products reserve units, not serial numbers (those are chosen at shipping).
    """
    reference = clean_reference(reference)
    wanted = _merge_lines(lines)
    actor = actor_or_none(actor)
    if skus is None or any(pid not in skus for pid in wanted):
        skus = dict(Product.objects.filter(pk__in=wanted).values_list("pk", "sku"))
    unknown = [pid for pid in wanted if pid not in skus]
    if unknown:
        raise ValidationError(
            {"lines": [_("Unknown product: %(ids)s.") % {"ids": ", ".join(map(str, unknown))}]}
        )

    with transaction.atomic(savepoint=savepoint):
        levels = lock_levels(product_ids=wanted)
        sources: dict[int, list[StockLevel]] = defaultdict(list)
        for level in levels.values():
            if level.warehouse.is_active:
                sources[level.product_id].append(level)
        for candidates in sources.values():
            candidates.sort(key=_warehouse_order)

        short = []
        for product_id, quantity in wanted.items():
            available = sum(max(level.available, 0) for level in sources[product_id])
            if available < quantity:
                # what the dealer may see: the catalog's number (capped), no internal id
                short.append(
                    {
                        "sku": skus[product_id],
                        "requested": quantity,
                        "available": stock_display(available)["available"],
                    }
                )
        if short:
            raise Conflict(
                ngettext(
                    "Not enough stock for %(count)d line.",
                    "Not enough stock for %(count)d lines.",
                    len(short),
                )
                % {"count": len(short)},
                code="insufficient_stock",
                extra={"lines": short},
            )

        now = timezone.now()
        allocations, changed, movements = [], [], []
        for product_id, quantity in wanted.items():
            remaining = quantity
            for level in sources[product_id]:
                take = min(max(level.available, 0), remaining)
                if take <= 0:
                    continue
                movements.append(
                    change_level(
                        level,
                        kind=StockMovement.Kind.RESERVATION,
                        quantity=take,
                        on_hand=level.on_hand,
                        reserved=level.reserved + take,
                        now=now,
                        reference=reference,
                        actor=actor,
                    )
                )
                changed.append(level)
                allocations.append(Allocation(product_id, level.warehouse_id, take))
                remaining -= take
                if remaining == 0:
                    break
        save_changes(changed, movements, locked=levels, skus=skus)
    return allocations


def _release_order(held: dict[Key, int]) -> list[Key]:
    """Give back from the warehouses drawn from last first, so the preferred warehouses keep
    their reservations on a partial release."""
    warehouses = {
        w.pk: (w.sort_order, w.code)
        for w in Warehouse.objects.filter(pk__in={wid for _pid, wid in held})
    }
    return sorted(held, key=lambda key: (key[0], warehouses.get(key[1], (0, ""))), reverse=True)


def stock_release(
    *, reference: str, actor=None, lines: list[tuple[int, int]] | None = None
) -> list[Allocation]:
    """Give back what ``reference`` still holds reserved (everything, or at most the
    quantities of ``lines`` per product). Releasing what is no longer held changes nothing, so
    calling it twice is safe. Returns what was released."""
    reference = clean_reference(reference)
    limits = _merge_lines(lines) if lines is not None else None
    actor = actor_or_none(actor)
    with transaction.atomic():
        held = stock_held_for_reference(reference=reference)
        if not held:
            return []
        levels = lock_levels(
            product_ids={pid for pid, _wid in held}, warehouse_ids={wid for _pid, wid in held}
        )
        # read again under the locks: a concurrent release or sale may have just committed
        held = stock_held_for_reference(reference=reference)
        now = timezone.now()
        allocations, changed, movements = [], [], []
        for key in _release_order(held):
            level = levels.get(key)
            if level is None:
                continue
            quantity = min(held[key], level.reserved)
            if limits is not None:
                quantity = min(quantity, limits.get(key[0], 0))
                if key[0] in limits:
                    limits[key[0]] -= max(quantity, 0)
            if quantity <= 0:
                continue
            movements.append(
                change_level(
                    level,
                    kind=StockMovement.Kind.RELEASE,
                    quantity=-quantity,
                    on_hand=level.on_hand,
                    reserved=level.reserved - quantity,
                    now=now,
                    reference=reference,
                    actor=actor,
                )
            )
            changed.append(level)
            allocations.append(Allocation(key[0], key[1], quantity))
        save_changes(changed, movements)
    allocations.reverse()
    return allocations


def _normalize_serials(serials) -> dict[int, list[str]]:
    """``{product_id: [serial, ...]}`` with whole-number keys (JSON gives strings)."""
    if not isinstance(serials, dict):
        raise ValidationError({"serials": [_("Give the serial numbers per product.")]})
    out: dict[int, list[str]] = {}
    for key, values in serials.items():
        try:
            product_id = int(key)
        except (TypeError, ValueError):
            raise ValidationError(
                {"serials": [_("Unknown product: %(id)s.") % {"id": key}]}
            ) from None
        if isinstance(values, str) or not isinstance(values, list | tuple):
            raise ValidationError({f"serials.{key}": [_("Give a list of serial numbers.")]})
        if not all(isinstance(value, str) for value in values):  # 1 is not the serial "1"
            raise ValidationError({f"serials.{key}": [_("Serial numbers are text.")]})
        out[product_id] = [value.strip() for value in values]
    return out


_SELLABLE = (SerialNumber.Status.IN_STOCK, SerialNumber.Status.RETURNED)


def serials_for_sale(*, reference: str, product_ids) -> dict[int, list[str]]:
    """For each of ``product_ids`` (serial-tracked) that ``reference`` holds, the oldest
    sellable serial numbers in the very warehouses that hold its units, as many in each as it
    holds there, locked (skipping those a parallel shipment is taking, so two never pick the
    same one). Taken from any warehouse, a shipment from Istanbul marked Ankara's serials
    sold: the serials and the stock of both warehouses disagreed for good."""
    wanted = set(product_ids)
    chosen: dict[int, list[str]] = defaultdict(list)
    held = stock_held_for_reference(reference=clean_reference(reference))
    for (product_id, warehouse_id), quantity in sorted(held.items()):
        if product_id not in wanted or quantity <= 0:
            continue
        chosen[product_id] += list(
            SerialNumber.objects.select_for_update(skip_locked=True)
            .filter(product_id=product_id, warehouse_id=warehouse_id, status__in=_SELLABLE)
            .order_by("id")
            .values_list("serial", flat=True)[:quantity]
        )
    return dict(chosen)


def _check_serials(
    *, held: dict[tuple[int, int], int], serials: dict, reference: str
) -> dict[int, list[SerialNumber]]:
    """The named serial numbers of every serial-tracked product being sold, locked; refuses
    (ValidationError per product) unknown, already sold or foreign serials, wrong counts, and
    serials in stock elsewhere than the warehouses whose units are sold (``held``: the units
    sold per product and warehouse)."""
    held_per_product: dict[int, int] = defaultdict(int)
    for (product_id, _warehouse_id), quantity in held.items():
        held_per_product[product_id] += quantity
    serials = _normalize_serials(serials)
    tracked = dict(
        Product.all_objects.filter(pk__in=held_per_product, serial_tracked=True).values_list(
            "pk", "sku"
        )
    )
    errors: dict[str, list[str]] = {}
    for product_id in serials:
        if product_id not in tracked:
            errors[f"serials.{product_id}"] = [
                _("This product is not serial-tracked or not part of this reservation.")
            ]
    wanted_rows: dict[int, list[str]] = {}
    for product_id, sku in tracked.items():
        names = serials.get(product_id, [])
        quantity = held_per_product[product_id]
        if len(names) != quantity:
            errors[f"serials.{product_id}"] = [
                ngettext(
                    "Name %(quantity)d serial number for %(sku)s, not %(given)d.",
                    "Name %(quantity)d serial numbers for %(sku)s, not %(given)d.",
                    quantity,
                )
                % {"quantity": quantity, "sku": sku, "given": len(names)}
            ]
        elif len(set(names)) != len(names):
            errors[f"serials.{product_id}"] = [_("A serial number is named twice.")]
        else:
            wanted_rows[product_id] = names
    if errors:
        raise ValidationError(errors)

    found: dict[int, list[SerialNumber]] = defaultdict(list)
    if wanted_rows:
        rows = SerialNumber.objects.select_for_update().filter(
            product_id__in=wanted_rows,
            serial__in=[name for names in wanted_rows.values() for name in names],
        )
        for row in rows.order_by("id"):
            if row.serial in wanted_rows.get(row.product_id, ()):
                found[row.product_id].append(row)
    warehouses = dict(Warehouse.objects.values_list("pk", "code"))
    for product_id, names in wanted_rows.items():
        by_name = {row.serial: row for row in found[product_id]}
        room = {wid: qty for (pid, wid), qty in held.items() if pid == product_id}
        problems = []
        for name in names:
            row = by_name.get(name)
            if row is None:
                problems.append(_("%(serial)s: unknown serial number.") % {"serial": name})
            elif row.status == SerialNumber.Status.RESERVED:
                if row.reference not in ("", reference):
                    problems.append(_("%(serial)s: reserved for another order.") % {"serial": name})
            elif row.status not in _SELLABLE:
                problems.append(
                    _("%(serial)s: not in stock (%(status)s).")
                    % {"serial": name, "status": row.get_status_display()}
                )
            elif room.get(row.warehouse_id, 0) <= 0:
                # the serial must leave from where its unit leaves
                problems.append(
                    _(
                        "%(serial)s: in stock in %(warehouse)s; this shipment's units are in "
                        "%(where)s."
                    )
                    % {
                        "serial": name,
                        "warehouse": warehouses.get(row.warehouse_id, "-"),
                        "where": ", ".join(
                            f"{warehouses.get(wid, '-')} ({qty})"
                            for wid, qty in sorted(room.items())
                            if qty > 0
                        ),
                    }
                )
            else:
                room[row.warehouse_id] -= 1
        if problems:
            errors[f"serials.{product_id}"] = problems
    if errors:
        raise ValidationError(errors)
    return found


def stock_commit_sale(
    *, reference: str, actor=None, serials: dict[int, list[str]] | None = None
) -> list[Allocation]:
    """Turn everything ``reference`` holds reserved into a sale (at shipping): on hand and
    reserved both drop, one ``sale`` movement per stock level (quantity = the change of on
    hand, so negative). Serial-tracked products need exactly that many serial numbers in
    ``serials[product_id]``; they become ``sold`` with the reference. A second call finds
    nothing held and changes nothing."""
    reference = clean_reference(reference)
    actor = actor_or_none(actor)
    with transaction.atomic():
        held = stock_held_for_reference(reference=reference)
        if not held:
            return []
        levels = lock_levels(
            product_ids={pid for pid, _wid in held}, warehouse_ids={wid for _pid, wid in held}
        )
        held = stock_held_for_reference(reference=reference)
        quantities = {
            key: min(quantity, levels[key].reserved)
            for key, quantity in held.items()
            if key in levels
        }
        quantities = {key: quantity for key, quantity in quantities.items() if quantity > 0}
        sold_serials = _check_serials(held=quantities, serials=serials or {}, reference=reference)

        now = timezone.now()
        allocations, changed, movements = [], [], []
        for key in sorted(quantities):
            level, quantity = levels[key], quantities[key]
            movements.append(
                change_level(
                    level,
                    kind=StockMovement.Kind.SALE,
                    quantity=-quantity,
                    on_hand=level.on_hand - quantity,
                    reserved=level.reserved - quantity,
                    now=now,
                    reference=reference,
                    actor=actor,
                )
            )
            changed.append(level)
            allocations.append(Allocation(key[0], key[1], quantity))
        save_changes(changed, movements)
        rows = [row for rows in sold_serials.values() for row in rows]
        for row in rows:
            row.status, row.reference, row.updated_at = SerialNumber.Status.SOLD, reference, now
        if rows:
            SerialNumber.objects.bulk_update(rows, ["status", "reference", "updated_at"])
    return allocations
