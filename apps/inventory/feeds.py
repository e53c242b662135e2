"""The ERP's stock feed: absolute ``on_hand`` per product and warehouse, applied set-based.

``stock_sync_many`` takes ``{index: {sku, warehouse, on_hand}}`` and answers per record:
``created`` (a new stock level), ``updated`` (``on_hand`` changed), ``unchanged`` (equal: no
write, no movement) or errors. Each change of ``on_hand`` becomes an ``erp_sync``
``StockMovement`` (``quantity = new - old``, before and after of on_hand and reserved, the
caller's ``reference``). A product must exist (soft-deleted ones too: their stock is still
kept in step); a warehouse code that is new creates the warehouse (name = code).

Reservations run concurrently: the existing rows are locked (``SELECT ... FOR UPDATE`` in id
order) before they are compared, so ``reserved`` cannot move under the comparison, and the
statement that sets them still only touches rows where ``reserved <= new on_hand``
(``ON CONFLICT ... DO UPDATE ... WHERE``): an ``on_hand`` below what is reserved fails that
record and never reaches the database CHECK. The number of queries does not depend on the
batch size; the movements are written by the same statements as the stock levels.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from django.db import DatabaseError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg import errors as pg_errors

from apps.catalog.models import Product
from apps.core.exceptions import NON_FIELD
from apps.integrations.events import stock_changed_emit
from apps.inventory.models import StockLevel, StockMovement, Warehouse

Errors = dict[str, list[str]]
Pair = tuple[int, int]  # (product_id, warehouse_id)

ATTEMPTS = 3  # a deadlock with a concurrent writer is retried this many times
RETRYABLE = (pg_errors.DeadlockDetected, pg_errors.SerializationFailure)

_LEVELS = StockLevel._meta.db_table
_MOVEMENTS = StockMovement._meta.db_table
_PRODUCTS = f"SELECT sku, id FROM {Product._meta.db_table} WHERE sku = ANY(%s)"  # noqa: S608
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
        products = dict(cursor.fetchall())
    for index, record in records.items():
        if record["sku"] not in products:
            errors[index] = {"sku": [_("No product has this SKU.")]}
    known = {i: r for i, r in records.items() if i not in errors}
    if not known:
        return {}, errors
    warehouses = warehouses_get_or_create({r["warehouse"] for r in known.values()})

    wanted: dict[Pair, tuple[int, int]] = {
        (products[r["sku"]], warehouses[r["warehouse"]]): (i, r["on_hand"])
        for i, r in known.items()
    }
    outcomes, sync_errors = _sync_isolating(wanted, reference=reference)
    errors.update(sync_errors)
    return outcomes, errors


def _sync_retrying(
    wanted: Mapping[Pair, tuple[int, int]], *, reference: str
) -> tuple[dict[int, str], dict[int, Errors]]:
    """``_sync``, again after a deadlock with a concurrent writer (all of it rolled back)."""
    for attempt in range(ATTEMPTS):
        try:
            return _sync(wanted, reference=reference)
        except OperationalError as exc:
            if attempt == ATTEMPTS - 1 or not isinstance(exc.__cause__, RETRYABLE):
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def _sync_isolating(
    wanted: Mapping[Pair, tuple[int, int]], *, reference: str
) -> tuple[dict[int, str], dict[int, Errors]]:
    """When the database refuses the set (a product deleted meanwhile...), halve it until the
    refused records are found: they fail alone, the others are applied."""
    try:
        return _sync_retrying(wanted, reference=reference)
    except DatabaseError as exc:
        if len(wanted) == 1:
            (index, _target), *_rest = wanted.values()
            first_line = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            message = _("Rejected by the database: %(e)s") % {"e": first_line}
            return {}, {index: {NON_FIELD: [message]}}
    items = list(wanted.items())
    first, first_errors = _sync_isolating(dict(items[: len(items) // 2]), reference=reference)
    second, second_errors = _sync_isolating(dict(items[len(items) // 2 :]), reference=reference)
    return first | second, first_errors | second_errors


def warehouses_get_or_create(codes: set[str]) -> dict[str, int]:
    """``{code: id}``; new codes become warehouses named after their code (one by one: they
    are rare, and django-auditlog records each)."""
    found = dict(Warehouse.objects.filter(code__in=codes).values_list("code", "id"))
    for code in sorted(codes - set(found)):
        found[code] = Warehouse.objects.get_or_create(code=code, defaults={"name": code})[0].pk
    return found


def _sync(
    wanted: Mapping[Pair, tuple[int, int]], *, reference: str
) -> tuple[dict[int, str], dict[int, Errors]]:
    now = timezone.now()
    movement = [StockMovement.Kind.ERP_SYNC.value, reference, REASON, now]
    outcomes: dict[int, str] = {}
    errors: dict[int, Errors] = {}
    pending = dict(wanted)
    with transaction.atomic(), connection.cursor() as cursor:
        # twice at most: a row created concurrently after our lock is locked on the second
        for _pass in range(2):
            pairs = list(pending)
            cursor.execute(_LOCK, [[p for p, _w in pairs], [w for _p, w in pairs]])
            locked = {(p, w): (on_hand, reserved) for _pk, p, w, on_hand, reserved in cursor}

            changes: dict[Pair, int] = {}  # pair -> on_hand before
            for pair, (on_hand, reserved) in locked.items():
                index, target = pending.pop(pair)
                if target == on_hand:
                    outcomes[index] = "unchanged"
                elif target < reserved:
                    errors[index] = _below_reserved(reserved)
                else:
                    changes[pair] = on_hand
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
                        outcomes[index] = "updated"
                    else:  # cannot happen under the lock; and never a CHECK violation
                        errors[index] = _below_reserved(locked[pair][1])

            if pending:  # no stock level yet
                new = sorted(pending)
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


def _below_reserved(reserved: int) -> Errors:
    return {
        "on_hand": [
            _("%(reserved)d units are reserved; on hand cannot go below that.")
            % {"reserved": reserved}
        ]
    }
