"""The ERP's price feeds: list prices and dealer special prices, upserted set-based.

``price_upsert_many`` takes ``{index: {sku, price_list, min_quantity, amount, valid_from?,
valid_to?}}`` and ``special_price_upsert_many`` ``{index: {customer_code, sku, min_quantity,
amount, valid_from?, valid_to?}}`` (fields already checked, e.g. by the integration API's record
schema: ``amount`` a ``Decimal`` with 4 places, the times aware). A row is one quantity break,
keyed by (price list, product, min_quantity) or (customer, product, min_quantity); an absent
``valid_from`` / ``valid_to`` is an open end (and clears a stored one).

Each record is answered: ``created``, ``updated`` (amount or validity changed), ``unchanged``
(equal to what is stored: nothing is written, no history, no audit entry) or errors by field:
an unknown SKU (``sku``), an unknown or switched-off price list (``price_list``), an unknown
customer code (``customer_code``), a window that ends before it starts (``valid_to``). A
soft-deleted product or customer is still priced: its prices are kept in step with the ERP
(like its stock), and a later upsert that brings it back finds them right.

Every created or updated row writes, in the same statement, a ``PriceChange`` (source ``erp``,
reference ``batch:<id>``, old and new amount), and, in the same transaction, the
django-auditlog entry that the ORM would have written (bulk SQL sends no signals): every field
of a new row, the changed fields of an updated one, with the batch id and the caller's
address. Then the engine's cached price-list rows are dropped (``prices_bump``), at once and
again on commit.

The number of queries does not depend on the batch size: the SKUs, lists and customers are
looked up as arrays, the stored rows read once (unlocked: equal rows are never locked nor
written), the rows to change locked in key order and re-compared, and all of them written by one
``INSERT ... ON CONFLICT`` statement with their history, and one ``COPY`` of their audit rows.
A key created concurrently meanwhile is locked on a second pass; a deadlock is retried; a row
the database refuses fails alone (the set is halved until it is found): the bulk writer,
``apps.core.bulk``, which also saves the audit entries as django-auditlog's ``LogEntry`` rows.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import Customer
from apps.catalog.models import Product
from apps.core.bulk import (
    CREATED,
    UNCHANGED,
    UPDATED,
    AuditEntry,
    audit_log_many,
    audit_text,
    write_isolating,
)
from apps.core.exceptions import NON_FIELD
from apps.pricing.engine import prices_bump
from apps.pricing.events import price_changed_emit
from apps.pricing.models import Price, PriceChange, PriceList, SpecialPrice

Errors = dict[str, list[str]]
Key = tuple[int, int, int]  # (price list or customer id, product id, min_quantity)
Values = tuple[Decimal, datetime.datetime | None, datetime.datetime | None]
Target = tuple[int, Values]  # (index, (amount, valid_from, valid_to))

_PRODUCTS = f"SELECT sku, id FROM {Product._meta.db_table} WHERE sku = ANY(%s)"  # noqa: S608
_CUSTOMERS = f"SELECT code, id FROM {Customer._meta.db_table} WHERE code = ANY(%s)"  # noqa: S608


@dataclass(frozen=True)
class _Feed:
    """What differs between the two feeds: the table and the owner of a row."""

    model: type[Price] | type[SpecialPrice]
    owner: str  # "price_list" | "customer"

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def owner_column(self) -> str:
        return f"{self.owner}_id"

    @cached_property
    def read_sql(self) -> str:
        return (
            f"SELECT p.{self.owner_column}, p.product_id, p.min_quantity, p.amount, "  # noqa: S608
            f"p.valid_from, p.valid_to FROM {self.table} p "
            "JOIN unnest(%s::bigint[], %s::bigint[], %s::integer[]) "
            "AS v(owner_id, product_id, min_quantity) "
            f"ON p.{self.owner_column} = v.owner_id AND p.product_id = v.product_id "
            "AND p.min_quantity = v.min_quantity"
        )

    @cached_property
    def lock_sql(self) -> str:
        # the order every writer of these rows locks them in
        return (
            f"{self.read_sql} ORDER BY p.{self.owner_column}, p.product_id, p.min_quantity "
            "FOR UPDATE OF p"
        )

    @cached_property
    def write_sql(self) -> str:
        """One statement: the locked rows that changed (``known``: ``ON CONFLICT DO UPDATE``,
        only where something differs), the new ones (``DO NOTHING``: a key created
        concurrently is left for the next pass) and the history of what was written. Returns
        the ids and keys it wrote, and whether each was inserted."""
        key = f"{self.owner_column}, product_id, min_quantity"
        columns = f"{key}, amount, valid_from, valid_to, created_at, updated_at"
        select = "SELECT owner_id, product_id, min_quantity, amount, valid_from, valid_to, %s, %s"
        history_owner = "v.owner_id, NULL" if self.owner == "price_list" else "NULL, v.owner_id"
        # the rows come as one JSON document: a client-side bound array of 5000 JSON texts
        # costs more to quote in Python than the whole statement costs to run
        return (
            "WITH v AS (SELECT * FROM json_to_recordset(%s::json) AS v(owner_id bigint, "  # noqa: S608
            "product_id bigint, min_quantity integer, amount numeric, valid_from timestamptz, "
            "valid_to timestamptz, known boolean, old_amount numeric)), "
            f"up AS (INSERT INTO {self.table} AS p ({columns}) {select} FROM v WHERE known "
            f"ORDER BY 1, 2, 3 ON CONFLICT ({key}) DO UPDATE SET amount = EXCLUDED.amount, "
            "valid_from = EXCLUDED.valid_from, valid_to = EXCLUDED.valid_to, "
            "updated_at = EXCLUDED.updated_at "
            "WHERE (p.amount, p.valid_from, p.valid_to) IS DISTINCT FROM "
            "(EXCLUDED.amount, EXCLUDED.valid_from, EXCLUDED.valid_to) "
            f"RETURNING p.id, p.{self.owner_column} AS owner_id, p.product_id, p.min_quantity, "
            "(p.xmax = 0) AS inserted), "
            f"ins AS (INSERT INTO {self.table} ({columns}) {select} FROM v WHERE NOT known "
            f"ORDER BY 1, 2, 3 ON CONFLICT ({key}) DO NOTHING "
            f"RETURNING id, {self.owner_column} AS owner_id, product_id, min_quantity, "
            "true AS inserted), "
            "w AS (SELECT * FROM up UNION ALL SELECT * FROM ins), "
            f"history AS (INSERT INTO {PriceChange._meta.db_table} (product_id, price_list_id, "
            "customer_id, min_quantity, old_amount, new_amount, source, reference, "
            f"changed_by_id, changed_at) SELECT v.product_id, {history_owner}, v.min_quantity, "
            "CASE WHEN w.inserted THEN NULL ELSE v.old_amount END, v.amount, %s, %s, NULL, %s "
            "FROM w JOIN v USING (owner_id, product_id, min_quantity)) "
            "SELECT id, owner_id, product_id, min_quantity, inserted FROM w"
        )


PRICES = _Feed(Price, "price_list")
SPECIAL_PRICES = _Feed(SpecialPrice, "customer")


# --- the two feeds ----------------------------------------------------------------------------


def price_upsert_many(
    *,
    records: Mapping[int, Mapping[str, Any]],
    batch_id: int | None = None,
    remote_addr: str | None = None,
) -> tuple[dict[int, str], dict[int, Errors]]:
    """Create or update list prices by (price list, SKU, min_quantity): ``({index: outcome},
    {index: errors})``. Each key may appear once in ``records`` (the caller refuses repeats).
    ``batch_id`` goes into the history reference and the audit entries, ``remote_addr`` into
    the audit entries."""
    products = _ids(_PRODUCTS, {r["sku"] for r in records.values()})
    lists = {code: (pk, active) for code, pk, active in _price_lists()}
    errors: dict[int, Errors] = {}
    wanted: dict[Key, Target] = {}
    for index, record in records.items():
        record_errors = _check(record, products)
        code = record["price_list"]
        if code not in lists:
            known = ", ".join(c for c, (_pk, active) in sorted(lists.items()) if active)
            record_errors["price_list"] = [
                _("No price list “%(code)s” (there are: %(known)s).")
                % {"code": code, "known": known}
            ]
        elif not lists[code][1]:
            record_errors["price_list"] = [_("The price list is switched off.")]
        if record_errors:
            errors[index] = record_errors
            continue
        key = (lists[code][0], products[record["sku"]], record["min_quantity"])
        wanted[key] = (index, _values(record))
    outcomes, errors = _apply(PRICES, wanted, errors, batch_id=batch_id, remote_addr=remote_addr)
    _emit(records, outcomes, "price_list", batch_id=batch_id, special=False)
    return outcomes, errors


def special_price_upsert_many(
    *,
    records: Mapping[int, Mapping[str, Any]],
    batch_id: int | None = None,
    remote_addr: str | None = None,
) -> tuple[dict[int, str], dict[int, Errors]]:
    """Create or update dealer special prices by (customer code, SKU, min_quantity), as
    ``price_upsert_many`` does list prices."""
    products = _ids(_PRODUCTS, {r["sku"] for r in records.values()})
    customers = _ids(_CUSTOMERS, {r["customer_code"] for r in records.values()})
    errors: dict[int, Errors] = {}
    wanted: dict[Key, Target] = {}
    for index, record in records.items():
        record_errors = _check(record, products)
        code = record["customer_code"]
        if code not in customers:
            record_errors["customer_code"] = [
                _("No customer with the code: %(codes)s.") % {"codes": code}
            ]
        if record_errors:
            errors[index] = record_errors
            continue
        key = (customers[code], products[record["sku"]], record["min_quantity"])
        wanted[key] = (index, _values(record))
    outcomes, errors = _apply(
        SPECIAL_PRICES, wanted, errors, batch_id=batch_id, remote_addr=remote_addr
    )
    _emit(records, outcomes, "customer_code", batch_id=batch_id, special=True)
    return outcomes, errors


def _emit(records, outcomes, owner: str, *, batch_id, special: bool) -> None:
    """One ``price.changed`` event for what the batch created or updated."""
    changed = [
        {
            "sku": records[index]["sku"],
            owner: records[index][owner],
            "min_quantity": records[index]["min_quantity"],
            "amount": records[index]["amount"],
            "valid_from": records[index].get("valid_from"),
            "valid_to": records[index].get("valid_to"),
            "deleted": False,
        }
        for index, outcome in sorted(outcomes.items())
        if outcome in (CREATED, UPDATED)
    ]
    if changed:
        price_changed_emit(
            **{"special_prices" if special else "prices": changed},
            source="erp",
            reference=f"batch:{batch_id}" if batch_id is not None else "",
        )


# --- reading and checking ---------------------------------------------------------------------


def _ids(sql: str, codes: set[str]) -> dict[str, int]:
    """``{code: id}`` of the rows having one of ``codes`` (soft-deleted ones too), in one query
    with the codes as one array parameter."""
    with connection.cursor() as cursor:
        cursor.execute(sql, [sorted(codes)])
        return dict(cursor.fetchall())


def _price_lists() -> list[tuple[str, int, bool]]:
    return list(PriceList.objects.values_list("code", "id", "is_active"))


def _check(record: Mapping[str, Any], products: Mapping[str, int]) -> Errors:
    errors: Errors = {}
    if record["sku"] not in products:
        errors["sku"] = [_("No product has this SKU.")]
    valid_from, valid_to = record.get("valid_from"), record.get("valid_to")
    if valid_from is not None and valid_to is not None and valid_to <= valid_from:
        errors["valid_to"] = [_("The end of validity must be after its start.")]
    return errors


def _values(record: Mapping[str, Any]) -> Values:
    return record["amount"], record.get("valid_from"), record.get("valid_to")


# --- writing ----------------------------------------------------------------------------------


def _apply(
    feed: _Feed,
    wanted: dict[Key, Target],
    errors: dict[int, Errors],
    *,
    batch_id: int | None,
    remote_addr: str | None,
) -> tuple[dict[int, str], dict[int, Errors]]:
    """Compare ``wanted`` with what is stored and write the difference."""
    if not wanted:
        return {}, errors
    stored = _read(feed.read_sql, list(wanted))
    outcomes: dict[int, str] = {}
    changes: dict[Key, Target] = {}
    for key, (index, values) in wanted.items():
        if stored.get(key) == values:
            outcomes[index] = UNCHANGED
        else:
            changes[key] = (index, values)
    if changes:
        known = frozenset(changes) & stored.keys()
        context = _WriteContext(
            feed=feed,
            known=known,
            reference=f"batch:{batch_id}" if batch_id is not None else "",
            batch_id=batch_id,
            remote_addr=remote_addr,
        )
        written, failed = write_isolating(
            list(changes.items()), lambda part: context.write(dict(part)), index_of=_index_of
        )
        outcomes.update(written)
        errors.update(failed)
        if any(outcome != UNCHANGED for outcome in written.values()):
            prices_bump()  # the engine's cached rows, now and again on commit
    return outcomes, errors


def _read(sql: str, keys: list[Key]) -> dict[Key, Values]:
    with connection.cursor() as cursor:
        cursor.execute(sql, _key_arrays(keys))
        return {(o, p, q): (amount, vf, vt) for o, p, q, amount, vf, vt in cursor.fetchall()}


def _key_arrays(keys: list[Key]) -> list[str]:
    """The keys as three PostgreSQL array literals (``{1,2,3}``): quoting a list of 5000 numbers
    element by element costs more in Python than the query itself."""
    return ["{" + ",".join(str(k[n]) for k in keys) + "}" for n in range(3)]


@dataclass(frozen=True)
class _WriteContext:
    feed: _Feed
    known: frozenset[Key]  # the keys stored when read (locked on the first pass)
    reference: str
    batch_id: int | None
    remote_addr: str | None

    def write(self, changes: Mapping[Key, Target]) -> tuple[dict[int, str], dict[int, Errors]]:
        """Lock the stored rows among ``changes`` (in key order), compare them again and write
        what differs, with history and audit, in one transaction."""
        now = timezone.now()
        outcomes: dict[int, str] = {}
        pending = dict(changes)
        feed = self.feed
        with transaction.atomic(), connection.cursor() as cursor:
            # twice at most: a key created concurrently after our read is locked on the second
            for attempt in range(2):
                to_lock = sorted(k for k in pending if attempt or k in self.known)
                locked: dict[Key, Values] = {}
                if to_lock:
                    cursor.execute(feed.lock_sql, _key_arrays(to_lock))
                    locked = {(o, p, q): (a, vf, vt) for o, p, q, a, vf, vt in cursor.fetchall()}
                rows = []
                for key in sorted(pending):
                    index, values = pending[key]
                    old = locked.get(key)
                    if old == values:
                        outcomes[index] = UNCHANGED
                        del pending[key]
                    else:
                        rows.append((key, values, old))
                if not rows:
                    break
                cursor.execute(feed.write_sql, self._parameters(rows, now))
                written = cursor.fetchall()
                for _pk, owner_id, product_id, min_quantity, inserted in written:
                    index, _target = pending.pop((owner_id, product_id, min_quantity))
                    outcomes[index] = CREATED if inserted else UPDATED
                self._audit(rows, written, now)
                for key, _target, old in rows:
                    if old is not None and key in pending:  # equal after all: nothing to do
                        outcomes[pending.pop(key)[0]] = UNCHANGED
                if not pending:
                    break
        errors = {
            index: {NON_FIELD: [_("The price changed meanwhile; send the record again.")]}
            for index, _target in pending.values()
        }
        return outcomes, errors

    def _parameters(self, rows: list[tuple[Key, Values, Values | None]], now) -> list:
        document = [
            {
                "owner_id": owner_id,
                "product_id": product_id,
                "min_quantity": min_quantity,
                "amount": str(amount),
                "valid_from": None if valid_from is None else valid_from.isoformat(),
                "valid_to": None if valid_to is None else valid_to.isoformat(),
                "known": old is not None,
                "old_amount": None if old is None else str(old[0]),
            }
            for (owner_id, product_id, min_quantity), (amount, valid_from, valid_to), old in rows
        ]
        return [
            json.dumps(document),
            now,
            now,
            now,
            now,
            PriceChange.Source.ERP.value,
            self.reference[:100],
            now,
        ]

    def _audit(self, rows: list[tuple[Key, Values, Values | None]], written, now) -> None:
        """The audit entries of the written rows, as django-auditlog records a save: every
        field of a new row, the changed fields of an updated one."""
        by_key = {key: (values, old) for key, values, old in rows}
        owner = self.feed.owner
        created_at = ["None", audit_text(now)]
        entries = []
        for pk, owner_id, product_id, min_quantity, inserted in written:
            values, old = by_key[(owner_id, product_id, min_quantity)]
            amount, valid_from, valid_to = values
            if inserted:
                changes = {
                    "amount": ["None", audit_text(amount)],
                    "product": ["None", str(product_id)],
                    owner: ["None", str(owner_id)],
                    "min_quantity": ["None", str(min_quantity)],
                    "valid_from": ["None", audit_text(valid_from)],
                    "valid_to": ["None", audit_text(valid_to)],
                    "created_at": created_at,
                    "id": ["None", str(pk)],
                }
            else:
                changes = {
                    name: [audit_text(before), audit_text(after)]
                    for name, before, after in zip(AUDITED, old, values, strict=True)
                    if before != after
                }
            entries.append(
                AuditEntry(
                    pk=pk,
                    # what ``str()`` of the saved row says (the model's __str__)
                    repr=f"{owner_id}:{product_id} x{min_quantity} = {amount}",
                    created=bool(inserted),
                    changes=changes,
                )
            )
        audit_log_many(
            model=self.feed.model,
            entries=entries,
            timestamp=now,
            remote_addr=self.remote_addr,
            batch_id=self.batch_id,
        )


AUDITED = ("amount", "valid_from", "valid_to")


def _index_of(item: tuple[Key, Target]) -> int:
    return item[1][0]
