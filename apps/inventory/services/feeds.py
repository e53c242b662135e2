"""The ERP's stock feed: absolute ``on_hand`` per product and warehouse, applied set-based.

``stock_sync_many`` takes ``{index: {sku, warehouse, on_hand, serial_numbers?}}`` and answers
per record: ``created`` (a new stock level), ``updated`` (``on_hand`` changed), ``unchanged``
(equal: no write, no movement) or errors. Each change of ``on_hand`` becomes an ``erp_sync``
``StockMovement`` (``quantity = new - old``, before and after of on_hand and reserved, the
caller's ``reference``). A product must exist (soft-deleted ones too: their stock is still
kept in step); a warehouse code that is new creates the warehouse (name = code), unless it
differs from a stored code only in case (`ist` beside `IST`: refused on `warehouse` as a typo).

Serial-tracked products: the units are serial numbers, so a change of ``on_hand`` by N names N
distinct ``serial_numbers``, checked under the locks and written in the same transaction as the
movement. Up by N: N serials that are not in stock anywhere (in stock, reserved or returned)
for that product; they are recorded in stock in that warehouse (a serial sold or written off
earlier comes back). Down by N: N serials in stock in that warehouse; they become
``written_off``. A wrong count or serial fails the record; an equal ``on_hand`` is
``unchanged`` whatever the serials say, so a batch sent again changes nothing. A serial may be
named once per product and batch (a move between warehouses is two batches), and a product
that is not serial-tracked takes none.

Reservations run concurrently: the existing rows are locked (``SELECT ... FOR UPDATE`` in id
order) before they are compared, so ``reserved`` cannot move under the comparison, and the
statement that sets them still only touches rows where ``reserved <= new on_hand``
(``ON CONFLICT ... DO UPDATE ... WHERE``): an ``on_hand`` below what is reserved fails that
record and never reaches the database CHECK. The number of queries does not depend on the
batch size; the movements are written by the same statements as the stock levels. The write
goes through the bulk writer (``apps.core.bulk``): a deadlock is retried, a record the
database refuses fails alone.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Mapping
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.catalog.models import Product
from apps.core.bulk import analyze_stale, write_isolating
from apps.core.exceptions import NON_FIELD
from apps.inventory.events import stock_changed_emit
from apps.inventory.models import SerialNumber, StockLevel, StockMovement, Warehouse
from apps.inventory.services.common import serial_tracking_read

Errors = dict[str, list[str]]
Pair = tuple[int, int]  # (product_id, warehouse_id)
Wanted = tuple[Pair, tuple[int, int]]  # (pair, (index, on_hand))

_LEVELS = StockLevel._meta.db_table
_MOVEMENTS = StockMovement._meta.db_table
_PRODUCTS = f"SELECT sku, id, serial_tracked FROM {Product._meta.db_table} WHERE sku = ANY(%s)"  # noqa: S608
_LOCK = (
    f"SELECT s.id, s.product_id, s.warehouse_id, s.on_hand, s.reserved FROM {_LEVELS} s "  # noqa: S608
    "JOIN unnest(%s::bigint[], %s::bigint[]) AS v(product_id, warehouse_id) "
    "ON s.product_id = v.product_id AND s.warehouse_id = v.warehouse_id "
    "ORDER BY s.product_id, s.warehouse_id FOR UPDATE OF s"  # the order every stock lock uses
)
_MOVEMENT_INSERT = (
    f"INSERT INTO {_MOVEMENTS} (product_id, warehouse_id, kind, quantity, on_hand_before, "
    "on_hand_after, reserved_before, reserved_after, reference, reason, created_at) "
)
# The locked rows that change, set the way the raw upsert does (a unique-index probe each,
# whatever the table size) and only where the reservation allows it, with their movements,
# in one statement. Returns the pairs it set.
_UPDATE = (
    "WITH v AS (SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::integer[], "  # noqa: S608
    "%s::integer[]) AS v(product_id, warehouse_id, on_hand, before)), "
    f"up AS (INSERT INTO {_LEVELS} AS s (product_id, warehouse_id, on_hand, reserved, "
    "updated_at) SELECT product_id, warehouse_id, on_hand, 0, %s FROM v ORDER BY 1, 2 "
    "ON CONFLICT (product_id, warehouse_id) DO UPDATE "
    "SET on_hand = EXCLUDED.on_hand, updated_at = EXCLUDED.updated_at "
    "WHERE s.reserved <= EXCLUDED.on_hand "
    "RETURNING s.product_id, s.warehouse_id, s.reserved), "
    f"moved AS ({_MOVEMENT_INSERT}"
    "SELECT v.product_id, v.warehouse_id, %s, v.on_hand - v.before, v.before, v.on_hand, "
    "up.reserved, up.reserved, %s, %s, %s FROM up JOIN v USING (product_id, warehouse_id)) "
    "SELECT product_id, warehouse_id FROM up"
)
# New stock levels, with a movement from 0 for each one that is not 0. A pair created
# concurrently meanwhile is left alone (not returned): the next pass locks it.
_INSERT = (
    "WITH ins AS ("  # noqa: S608
    f"INSERT INTO {_LEVELS} (product_id, warehouse_id, on_hand, reserved, updated_at) "
    "SELECT v.product_id, v.warehouse_id, v.on_hand, 0, %s "
    "FROM unnest(%s::bigint[], %s::bigint[], %s::integer[]) "
    "AS v(product_id, warehouse_id, on_hand) "
    "ORDER BY 1, 2 ON CONFLICT (product_id, warehouse_id) DO NOTHING "
    "RETURNING product_id, warehouse_id, on_hand), "
    f"moved AS ({_MOVEMENT_INSERT}"
    "SELECT product_id, warehouse_id, %s, on_hand, 0, on_hand, 0, 0, %s, %s, %s "
    "FROM ins WHERE on_hand <> 0) "
    "SELECT product_id, warehouse_id FROM ins"
)
# Serial-tracked pairs without a stock level get one at 0 first (no movement), so that every
# stock level a serial change depends on is locked before any serial number: the global lock
# order (levels, then serials). Returns the pairs it created.
_PRECREATE = (
    f"INSERT INTO {_LEVELS} (product_id, warehouse_id, on_hand, reserved, updated_at) "  # noqa: S608
    "SELECT v.product_id, v.warehouse_id, 0, 0, %s "
    "FROM unnest(%s::bigint[], %s::bigint[]) AS v(product_id, warehouse_id) "
    "ORDER BY 1, 2 ON CONFLICT (product_id, warehouse_id) DO NOTHING "
    "RETURNING product_id, warehouse_id"
)
# ... and removed again when their record fails (still ours: nobody else saw it)
_UNCREATE = (
    f"DELETE FROM {_LEVELS} s USING unnest(%s::bigint[], %s::bigint[]) "  # noqa: S608
    "AS v(product_id, warehouse_id) WHERE s.product_id = v.product_id "
    "AND s.warehouse_id = v.warehouse_id AND s.on_hand = 0 AND s.reserved = 0"
)
_SERIALS = SerialNumber._meta.db_table
_SERIAL_LOCK = (
    f"SELECT s.id, s.product_id, s.serial, s.status, s.warehouse_id FROM {_SERIALS} s "  # noqa: S608
    "JOIN unnest(%s::bigint[], %s::text[]) AS v(product_id, serial) "
    "ON s.product_id = v.product_id AND s.serial = v.serial ORDER BY s.id FOR UPDATE OF s"
)
_SERIAL_UPDATE = (
    f"UPDATE {_SERIALS} s SET status = v.status, warehouse_id = v.warehouse_id, "  # noqa: S608
    "reference = %s, updated_at = %s "
    "FROM unnest(%s::bigint[], %s::text[], %s::bigint[]) AS v(id, status, warehouse_id) "
    "WHERE s.id = v.id"
)
_SERIAL_INSERT = (
    f"INSERT INTO {_SERIALS} (product_id, warehouse_id, serial, status, reference, "  # noqa: S608
    "created_at, updated_at) SELECT v.product_id, v.warehouse_id, v.serial, %s, %s, %s, %s "
    "FROM unnest(%s::bigint[], %s::bigint[], %s::text[]) AS v(product_id, warehouse_id, serial)"
)
IN_STOCK_STATUSES = (  # counted as in stock: a new serial may be none of them
    SerialNumber.Status.IN_STOCK.value,
    SerialNumber.Status.RESERVED.value,
    SerialNumber.Status.RETURNED.value,
)
LEAVABLE_STATUSES = (SerialNumber.Status.IN_STOCK.value, SerialNumber.Status.RETURNED.value)
REASON = "ERP stock sync"


def stock_sync_many(
    *, records: Mapping[int, Mapping[str, Any]], reference: str
) -> tuple[dict[int, str], dict[int, Errors]]:
    """Set ``on_hand`` of each (sku, warehouse) pair: ``({index: outcome}, {index: errors})``.

    Each (sku, warehouse) pair may appear once in ``records`` (the caller refuses repeats).
    """
    errors: dict[int, Errors] = {}
    with connection.cursor() as cursor:  # the SKUs as one array: no IN of 5000 parameters
        cursor.execute(_PRODUCTS, [list({r["sku"] for r in records.values()})])
        products = {sku: (pk, tracked) for sku, pk, tracked in cursor.fetchall()}
    claimed: dict[tuple[int, str], int] = {}  # (product, serial) -> the record naming it
    for index, record in records.items():
        if record["sku"] not in products:
            errors[index] = {"sku": [_("No product has this SKU.")]}
            continue
        product_id, tracked = products[record["sku"]]
        problem = _serials_problem(
            record.get("serial_numbers") or [],
            product_id=product_id,
            tracked=tracked,
            index=index,
            claimed=claimed,
        )
        if problem:
            errors[index] = {"serial_numbers": [problem]}
    twins = _case_twins([r["warehouse"] for i, r in sorted(records.items()) if i not in errors])
    for index, record in records.items():
        if index not in errors and record["warehouse"] in twins:
            errors[index] = {
                "warehouse": [
                    _("No warehouse “%(code)s”: codes are case-sensitive; did you mean “%(twin)s”?")
                    % {"code": record["warehouse"], "twin": twins[record["warehouse"]]}
                ]
            }
    known = {i: r for i, r in records.items() if i not in errors}
    if not known:
        return {}, errors
    warehouses = warehouses_get_or_create({r["warehouse"] for r in known.values()})

    wanted: dict[Pair, tuple[int, int]] = {}
    serials: dict[Pair, list[str]] = {}  # the pairs of serial-tracked products: their names
    for index, record in known.items():
        product_id, tracked = products[record["sku"]]
        pair = (product_id, warehouses[record["warehouse"]])
        wanted[pair] = (index, record["on_hand"])
        if tracked:
            serials[pair] = list(record.get("serial_numbers") or [])
    outcomes, sync_errors = write_isolating(
        list(wanted.items()),
        lambda part: _sync(dict(part), serials, reference=reference),
        index_of=_index_of,
    )
    errors.update(sync_errors)
    written = sum(1 for outcome in outcomes.values() if outcome != "unchanged")
    analyze_stale((StockLevel, StockMovement), written=written)
    return outcomes, errors


def _serials_problem(
    names: list[str],
    *,
    product_id: int,
    tracked: bool,
    index: int,
    claimed: dict[tuple[int, str], int],
) -> str | None:
    """What is wrong with a record's serial numbers before any stock is read: serials for a
    product that is not serial-tracked, a serial named twice in the record or already named
    by an earlier record of the batch. Otherwise the record claims its serials."""
    if not names:
        return None
    if not tracked:
        return _("This product is not serial-tracked; send no serial numbers.")
    twice = sorted(name for name, count in Counter(names).items() if count > 1)
    if twice:
        return _("Named twice: %(serials)s.") % {"serials": ", ".join(twice)}
    for name in names:
        first = claimed.get((product_id, name))
        if first is not None:
            return _(
                "%(serial)s is already named by record %(index)d; name a serial once per batch."
            ) % {"serial": name, "index": first}
    claimed.update(dict.fromkeys(((product_id, name) for name in names), index))
    return None


def _index_of(item: Wanted) -> int:
    return item[1][0]


def _case_twins(codes: list[str]) -> dict[str, str]:
    """``{sent code: code meant}`` for the new codes that differ only in case from a stored one
    (``ist`` beside ``IST``) or from a new one sent earlier in the batch (``newwh`` after
    ``NEWWH``): a typo, not a new warehouse whose stock would be sold. ``codes`` in the order
    of the records."""
    stored = list(Warehouse.objects.values_list("code", flat=True))  # a handful of rows
    meant = {_folded(code): code for code in stored}
    twins = {}
    for code in codes:
        if code in stored:
            continue
        first = meant.setdefault(_folded(code), code)  # a new code: its first spelling stands
        if first != code:
            twins[code] = first
    return twins


def _folded(code: str) -> str:
    """A warehouse code without case or accents, the Turkish dotted and dotless i included:
    ``İST``, ``ıst`` and ``ist`` are all ``IST`` (``"İ".lower()`` is ``i`` and a combining
    dot, which no plain lowering matched)."""
    decomposed = unicodedata.normalize("NFKD", code.replace("ı", "i"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def warehouses_get_or_create(codes: set[str]) -> dict[str, int]:
    """``{code: id}``; new codes become warehouses named after their code (one by one: they
    are rare, and django-auditlog records each)."""
    found = dict(Warehouse.objects.filter(code__in=codes).values_list("code", "id"))
    for code in sorted(codes - set(found)):
        # after the warehouses there are: a new one is not where every order draws first
        last = Warehouse.objects.aggregate(last=Max("sort_order"))["last"] or 0
        found[code] = Warehouse.objects.get_or_create(
            code=code, defaults={"name": code, "sort_order": last + 10}
        )[0].pk
    return found


def _sync(
    wanted: Mapping[Pair, tuple[int, int]], serials: Mapping[Pair, list[str]], *, reference: str
) -> tuple[dict[int, str], dict[int, Errors]]:
    now = timezone.now()
    movement = [StockMovement.Kind.ERP_SYNC.value, reference, REASON, now]
    outcomes: dict[int, str] = {}
    errors: dict[int, Errors] = {}
    pending = dict(wanted)
    with transaction.atomic(), connection.cursor() as cursor:
        # the tracking read before the transaction may have changed since: such a record
        # would count units under the wrong tracking (the lock keeps it from changing now)
        tracking = serial_tracking_read(p for p, _w in pending)
        for pair in [pair for pair in pending if tracking.get(pair[0]) != (pair in serials)]:
            errors[pending.pop(pair)[0]] = {
                NON_FIELD: [
                    _("The product's serial tracking changed meanwhile; send the record again.")
                ]
            }
        created: set[Pair] = set()  # levels of serial-tracked products created (at 0) here
        tracked = sorted(pair for pair in pending if pair in serials)
        if tracked:
            cursor.execute(_PRECREATE, [now, [p for p, _w in tracked], [w for _p, w in tracked]])
            created = {(p, w) for p, w in cursor}
        # twice at most: a row created concurrently after our lock is locked on the second
        for _pass in range(2):
            pairs = list(pending)
            cursor.execute(_LOCK, [[p for p, _w in pairs], [w for _p, w in pairs]])
            locked = {(p, w): (on_hand, reserved) for _pk, p, w, on_hand, reserved in cursor}

            changes: dict[Pair, int] = {}  # pair -> on_hand before
            for pair, (on_hand, reserved) in locked.items():
                index, target = pending.pop(pair)
                if target == on_hand:
                    outcomes[index] = "created" if pair in created else "unchanged"
                elif target < reserved:
                    errors[index] = _below_reserved(reserved)
                else:
                    changes[pair] = on_hand
            moves = {
                pair: (before, wanted[pair][1])
                for pair, before in changes.items()
                if pair in serials
            }
            serial_plan, serial_errors = serials_check(cursor, moves, serials)
            for pair, pair_errors in serial_errors.items():
                errors[wanted[pair][0]] = pair_errors
                del changes[pair]
            if changes:
                pairs = sorted(changes)
                cursor.execute(
                    _UPDATE,
                    [
                        [p for p, _w in pairs],
                        [w for _p, w in pairs],
                        [wanted[pair][1] for pair in pairs],
                        [changes[pair] for pair in pairs],
                        now,
                        *movement,
                    ],
                )
                updated = {(p, w) for p, w in cursor}
                for pair in pairs:
                    index = wanted[pair][0]
                    if pair in updated:
                        outcomes[index] = "created" if pair in created else "updated"
                    else:  # cannot happen under the lock; and never a CHECK violation
                        errors[index] = _below_reserved(locked[pair][1])
                serials_write(
                    cursor,
                    {pair: plan for pair, plan in serial_plan.items() if pair in updated},
                    reference=reference,
                    now=now,
                )

            # no stock level yet (a serial-tracked product always has one by now: the
            # precreate; should it have gone, the record is sent again rather than guessed)
            new = sorted(pair for pair in pending if pair not in serials)
            if new:
                cursor.execute(
                    _INSERT,
                    [
                        now,
                        [p for p, _w in new],
                        [w for _p, w in new],
                        [pending[pair][1] for pair in new],
                        *movement,
                    ],
                )
                for pair in cursor.fetchall():
                    outcomes[pending.pop(tuple(pair))[0]] = "created"
            if not pending:
                break
        for index, _target in pending.values():
            errors[index] = {
                NON_FIELD: [_("The stock level changed meanwhile; send the record again.")]
            }
        refused = sorted(pair for pair in created if wanted[pair][0] in errors)
        if refused:  # a failed record leaves nothing behind, not even an empty stock level
            cursor.execute(_UNCREATE, [[p for p, _w in refused], [w for _p, w in refused]])
        # one stock.changed for the set, in its transaction
        stock_changed_emit(
            product_ids={
                pair[0]
                for pair, (index, _target) in wanted.items()
                if outcomes.get(index) in ("created", "updated")
            },
            reference=reference,
        )
    return outcomes, errors


SerialPlan = tuple[str, list[tuple[int | None, str]]]  # new status, [(row id or None, serial)]


def serials_check(
    cursor, moves: Mapping[Pair, tuple[int, int]], serials: Mapping[Pair, list[str]]
) -> tuple[dict[Pair, SerialPlan], dict[Pair, Errors]]:
    """For each change of a serial-tracked level (``{pair: (before, after)}``, levels locked):
    the serial rows to write, or why the record fails. The rows named are locked (by id, after
    the levels: the global lock order), in one statement for the whole set."""
    errors: dict[Pair, Errors] = {}
    counted: dict[Pair, list[str]] = {}
    for pair, (before, after) in moves.items():
        names = serials[pair]
        if len(names) == abs(after - before):
            counted[pair] = names
        else:
            errors[pair] = {"serial_numbers": [_count_message(after - before, len(names))]}
    if not counted:
        return {}, errors
    keys = [(pair[0], name) for pair, names in counted.items() for name in names]
    if connection.vendor == "postgresql":
        cursor.execute(_SERIAL_LOCK, [[p for p, _n in keys], [n for _p, n in keys]])
        rows = {(p, serial): (pk, status, w) for pk, p, serial, status, w in cursor}
    else:  # the demo's SQLite (one writer at a time): a staff count through the ORM
        found = SerialNumber.objects.filter(
            product_id__in={p for p, _n in keys}, serial__in={n for _p, n in keys}
        ).values_list("pk", "product_id", "serial", "status", "warehouse_id")
        rows = {(p, serial): (pk, status, w) for pk, p, serial, status, w in found}

    plans: dict[Pair, SerialPlan] = {}
    for pair, names in counted.items():
        product_id, warehouse_id = pair
        found = [(name, rows.get((product_id, name))) for name in names]
        before, after = moves[pair]
        if after > before:  # new in stock: none of them may be in stock already
            status = SerialNumber.Status.IN_STOCK.value
            bad = [name for name, row in found if row is not None and row[1] in IN_STOCK_STATUSES]
            message = _("Already in stock: %(serials)s.")
        else:  # leaving: each must be in stock in this warehouse
            status = SerialNumber.Status.WRITTEN_OFF.value
            bad = [
                name
                for name, row in found
                if row is None or row[1] not in LEAVABLE_STATUSES or row[2] != warehouse_id
            ]
            message = _("Not in stock in this warehouse: %(serials)s.")
        if bad:
            errors[pair] = {"serial_numbers": [message % {"serials": ", ".join(bad)}]}
        else:
            plans[pair] = (status, [(row[0] if row else None, name) for name, row in found])
    return plans, errors


def serials_write(cursor, plans: Mapping[Pair, SerialPlan], *, reference: str, now) -> None:
    """New serials inserted, known ones moved to their new status and warehouse: at most
    one statement each, whatever the number of records."""
    new: list[tuple[int, int, str]] = []
    moved: list[tuple[int, str, int]] = []
    for (product_id, warehouse_id), (status, entries) in plans.items():
        for pk, name in entries:
            if pk is None:
                new.append((product_id, warehouse_id, name))
            else:
                moved.append((pk, status, warehouse_id))
    if connection.vendor != "postgresql":  # the demo's SQLite: a staff count's few rows
        for pk, status, warehouse_id in moved:
            SerialNumber.objects.filter(pk=pk).update(
                status=status, warehouse_id=warehouse_id, reference=reference, updated_at=now
            )
        SerialNumber.objects.bulk_create(
            SerialNumber(
                product_id=p,
                warehouse_id=w,
                serial=name,
                status=SerialNumber.Status.IN_STOCK,
                reference=reference,
            )
            for p, w, name in new
        )
        return
    if moved:
        cursor.execute(
            _SERIAL_UPDATE,
            [reference, now, [m[0] for m in moved], [m[1] for m in moved], [m[2] for m in moved]],
        )
    if new:
        cursor.execute(
            _SERIAL_INSERT,
            [
                SerialNumber.Status.IN_STOCK.value,
                reference,
                now,
                now,
                [n[0] for n in new],
                [n[1] for n in new],
                [n[2] for n in new],
            ],
        )


def _count_message(change: int, given: int) -> str:
    if change > 0:
        return ngettext(
            "On hand grows by %(count)d: name %(count)d new serial number, not %(given)d.",
            "On hand grows by %(count)d: name %(count)d new serial numbers, not %(given)d.",
            change,
        ) % {"count": change, "given": given}
    return ngettext(
        "On hand drops by %(count)d: name the %(count)d serial number that leaves this "
        "warehouse, not %(given)d.",
        "On hand drops by %(count)d: name the %(count)d serial numbers that leave this "
        "warehouse, not %(given)d.",
        -change,
    ) % {"count": -change, "given": given}


def _below_reserved(reserved: int) -> Errors:
    return {
        "on_hand": [
            _("%(reserved)d units are reserved; on hand cannot go below that.")
            % {"reserved": reserved}
        ]
    }
