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
customer code (``customer_code``), a window that ends before it starts (``valid_to``) or a
time outside 2000-2999 (``valid_from``, ``valid_to``, as the back office's windows). A
soft-deleted product or customer is still priced: its prices are kept in step with the ERP
(like its stock), and a later upsert that brings it back finds them right.

Every created or updated row writes, in the same statement, a ``PriceChange`` (source ``erp``,
reference ``batch:<id>``, old and new amount) and the django-auditlog entry that the ORM would
have written (bulk SQL sends no signals): every field of a new row, the changed fields of an
updated one, with the batch id and the caller's address, built in SQL from what the statement
wrote (``apps.core.bulk.audit_insert_sql``). In the same transaction, the batch's
``price.changed`` event. Then the engine's cached price-list rows are dropped
(``prices_bump``), at once and again on commit, and a large batch refreshes the tables'
statistics (``analyze_stale``).

The number of queries does not depend on the batch size: the SKUs, lists and customers are
looked up as arrays, then one statement per pass (``_Feed.write_sql``) takes the wanted rows as
arrays, locks the stored rows that differ in key order (equal rows are never locked nor
written), updates them, inserts the missing ones, and writes history and audit rows from what it
wrote; no row comes back to Python but the outcome of each key. A key created concurrently
meanwhile is settled on a second pass; a deadlock is retried; a row the database refuses fails
alone (the set is halved until it is found): the bulk writer, ``apps.core.bulk``.
"""

from __future__ import annotations

import datetime
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
    AUDIT_CREATE,
    AUDIT_UPDATE,
    CREATED,
    UNCHANGED,
    UPDATED,
    analyze_stale,
    audit_insert_sql,
    audit_text,
    audit_text_sql,
    write_isolating,
)
from apps.core.clock import planned_moment_problem
from apps.core.exceptions import NON_FIELD
from apps.pricing.engine import prices_bump
from apps.pricing.events import price_changed_emit
from apps.pricing.index import price_index_refresh
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
    def audit_source(self) -> str:
        """The audit entries of the written rows (``w``) as django-auditlog records a save:
        every field of a new row, the changed fields of an updated one, in its text."""
        text = audit_text_sql
        created = (
            "jsonb_build_object('amount', jsonb_build_array('None', amount::text), "
            "'product', jsonb_build_array('None', product_id::text), "
            f"'{self.owner}', jsonb_build_array('None', owner_id::text), "
            "'min_quantity', jsonb_build_array('None', min_quantity::text), "
            f"'valid_from', jsonb_build_array('None', {text('valid_from')}), "
            f"'valid_to', jsonb_build_array('None', {text('valid_to')}), "
            "'created_at', jsonb_build_array('None', %(created_text)s::text), "
            "'id', jsonb_build_array('None', id::text))"
        )
        # the changed fields of an updated row (``AUDITED``), as the ORM's save records them
        updated = (
            "jsonb_strip_nulls(jsonb_build_object("
            "'amount', CASE WHEN old_amount IS DISTINCT FROM amount "
            "THEN jsonb_build_array(old_amount::text, amount::text) END, "
            "'valid_from', CASE WHEN old_from IS DISTINCT FROM valid_from "
            f"THEN jsonb_build_array({text('old_from')}, {text('valid_from')}) END, "
            "'valid_to', CASE WHEN old_to IS DISTINCT FROM valid_to "
            f"THEN jsonb_build_array({text('old_to')}, {text('valid_to')}) END))"
        )
        return (
            "SELECT id::text AS object_pk, id AS object_id, "  # noqa: S608
            f"{self.repr_sql} AS object_repr, "
            f"CASE WHEN inserted THEN {AUDIT_CREATE} ELSE {AUDIT_UPDATE} END AS action, "
            f"CASE WHEN inserted THEN {created} ELSE {updated} END AS changes FROM w"
        )

    @cached_property
    def repr_sql(self) -> str:
        """What ``str()`` of the written row says with its relations loaded (the model's
        ``__str__``, ``break_label``, in English): ``LIST · CBL-1, from 10 units: 1,250.00 ₺``,
        ``DLR1 · CBL-1, from 1 unit: 55.00 ₺``."""
        owner_model = PriceList if self.owner == "price_list" else Customer
        owner = f"(SELECT code FROM {owner_model._meta.db_table} WHERE id = owner_id)"  # noqa: S608
        sku = f"(SELECT sku FROM {Product._meta.db_table} WHERE id = product_id)"  # noqa: S608
        owner = f"{owner} || ' · ' || {sku}"
        # two decimals, a unit price's third and fourth only when they are not zero
        amount = (
            "CASE WHEN amount = round(amount, 2) THEN to_char(amount, 'FM999,999,999,990.00') "
            "WHEN amount = round(amount, 3) THEN to_char(amount, 'FM999,999,999,990.000') "
            "ELSE to_char(amount, 'FM999,999,999,990.0000') END"
        )
        return (
            f"{owner} || ', from ' || min_quantity || "
            "CASE WHEN min_quantity = 1 THEN ' unit: ' ELSE ' units: ' END || "
            f"{amount} || ' ₺'"
        )

    @cached_property
    def write_sql(self) -> str:
        """One statement for a set of wanted rows (``v``): each wanted key looked up once on
        the table's unique key (an index probe per row: the cost follows the batch, not the
        table), the stored rows that differ locked in key order (the order every writer of
        these rows locks them in), compared again under the lock and updated, the missing ones
        inserted (``DO NOTHING``: a key created concurrently is left for the next pass), each
        written row's history and audit entry inserted from what the statement wrote. Answers
        one row per wanted key it settled: ``c`` created, ``u`` updated, ``e`` equal to what is
        stored (nothing written, nothing locked). ``{audit}`` is left for ``audit_insert_sql``
        of ``audit_source``."""
        table, owner = self.table, self.owner_column
        key = f"{owner}, product_id, min_quantity"
        stored, sent = (
            "(p.amount, p.valid_from, p.valid_to)",
            "(v.amount, v.valid_from, v.valid_to)",
        )
        history_owner = "owner_id, NULL" if self.owner == "price_list" else "NULL, owner_id"
        return (
            "WITH v AS (SELECT * FROM unnest(%(owners)s::bigint[], %(products)s::bigint[], "  # noqa: S608
            "%(quantities)s::integer[], %(amounts)s::numeric[], %(froms)s::timestamptz[], "
            "%(tos)s::timestamptz[]) AS v(owner_id, product_id, min_quantity, amount, "
            "valid_from, valid_to)), "
            # the stored row of each wanted key, by the unique index (``LIMIT 1`` keeps the
            # lookup a probe per key: joined flat, the planner hashes the whole table)
            "cur AS MATERIALIZED (SELECT v.*, p.id AS stored_id, "
            f"{stored} IS NOT DISTINCT FROM {sent} AS same FROM v LEFT JOIN LATERAL "
            f"(SELECT p.id, p.amount, p.valid_from, p.valid_to FROM {table} p "
            f"WHERE p.{owner} = v.owner_id AND p.product_id = v.product_id "
            "AND p.min_quantity = v.min_quantity LIMIT 1) p ON true), "
            # the rows that differ, locked by id in key order and compared again under the
            # lock (a concurrent writer may have written the same values meanwhile)
            f"old AS (SELECT p.id, p.{owner} AS owner_id, p.product_id, p.min_quantity, "
            f"p.amount, p.valid_from, p.valid_to FROM {table} p JOIN cur v ON v.stored_id = p.id "
            "WHERE p.id = ANY(ARRAY(SELECT stored_id FROM cur WHERE NOT same)) "
            f"AND {stored} IS DISTINCT FROM {sent} "
            f"ORDER BY p.{owner}, p.product_id, p.min_quantity FOR UPDATE OF p), "
            # the ERP's change: nobody's (``updated_by``, as the products feed writes it)
            f"upd AS (UPDATE {table} p SET amount = v.amount, valid_from = v.valid_from, "
            "valid_to = v.valid_to, updated_at = %(now)s, updated_by_id = NULL "
            "FROM old JOIN v USING (owner_id, product_id, min_quantity) WHERE p.id = old.id "
            "RETURNING p.id, old.owner_id, old.product_id, old.min_quantity, p.amount, "
            "p.valid_from, p.valid_to, old.amount AS old_amount, old.valid_from AS old_from, "
            "old.valid_to AS old_to), "
            f"ins AS (INSERT INTO {table} ({key}, amount, valid_from, valid_to, created_at, "
            "updated_at) SELECT owner_id, product_id, min_quantity, amount, valid_from, "
            "valid_to, %(now)s, %(now)s FROM cur WHERE stored_id IS NULL ORDER BY 1, 2, 3 "
            f"ON CONFLICT ({key}) DO NOTHING "
            f"RETURNING id, {owner} AS owner_id, product_id, min_quantity, amount, valid_from, "
            "valid_to), "
            "w AS (SELECT *, false AS inserted FROM upd UNION ALL SELECT *, NULL::numeric, "
            "NULL::timestamptz, NULL::timestamptz, true FROM ins), "
            f"history AS (INSERT INTO {PriceChange._meta.db_table} (product_id, price_list_id, "
            "customer_id, min_quantity, old_amount, new_amount, source, reference, "
            f"changed_by_id, changed_at) SELECT product_id, {history_owner}, min_quantity, "
            "old_amount, amount, %(source)s, %(reference)s, NULL, %(now)s FROM w), "
            "audit AS ({audit}) "
            "SELECT owner_id, product_id, min_quantity, "
            "CASE WHEN inserted THEN 'c' ELSE 'u' END FROM w UNION ALL "
            "SELECT owner_id, product_id, min_quantity, 'e' FROM cur WHERE same"
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
    return _apply(
        PRICES, wanted, errors, records=records, batch_id=batch_id, remote_addr=remote_addr
    )


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
    return _apply(
        SPECIAL_PRICES, wanted, errors, records=records, batch_id=batch_id, remote_addr=remote_addr
    )


def _emit(records, outcomes, owner: str, *, batch_id) -> None:
    """One ``price.changed`` event for what the batch created or updated (values as the
    event's JSON has them: amounts as text, times ISO 8601 in UTC with a Z)."""
    code = "price_list" if owner == "price_list" else "customer_code"
    changed = [
        {
            "sku": records[index]["sku"],
            code: records[index][code],
            "min_quantity": records[index]["min_quantity"],
            "amount": str(records[index]["amount"]),
            "valid_from": _iso(records[index].get("valid_from")),
            "valid_to": _iso(records[index].get("valid_to")),
            "deleted": False,
        }
        for index, outcome in sorted(outcomes.items())
        if outcome in (CREATED, UPDATED)
    ]
    if changed:
        price_changed_emit(
            **{"special_prices" if code == "customer_code" else "prices": changed},
            source="erp",
            reference=f"batch:{batch_id}" if batch_id is not None else "",
        )


def _iso(moment: datetime.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


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
    for field, moment in (("valid_from", valid_from), ("valid_to", valid_to)):
        problem = moment and planned_moment_problem(moment)  # as the back office's windows
        if problem:
            errors[field] = [problem]
    if errors.keys() & {"valid_from", "valid_to"}:
        return errors
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
    records: Mapping[int, Mapping[str, Any]],
    batch_id: int | None,
    remote_addr: str | None,
) -> tuple[dict[int, str], dict[int, Errors]]:
    """Write what differs from what is stored: a transaction per part (the bulk writer's
    retries and halving), one statement per pass."""
    if not wanted:
        return {}, errors
    context = _WriteContext(
        feed=feed,
        records=records,
        reference=f"batch:{batch_id}" if batch_id is not None else "",
        batch_id=batch_id,
        remote_addr=remote_addr,
    )
    outcomes, failed = write_isolating(
        sorted(wanted.items()), lambda part: context.write(dict(part)), index_of=_index_of
    )
    errors.update(failed)
    written = sum(1 for outcome in outcomes.values() if outcome != UNCHANGED)
    if written:
        prices_bump()  # the engine's cached rows, now and again on commit
        analyze_stale((feed.model, PriceChange), written=written)
    return outcomes, errors


def _array(values) -> str:
    """Values as one PostgreSQL array literal (``{1,2,NULL}``): quoting 5000 values one by one
    costs more in Python than the statement costs to run. Only numbers and ISO times, which
    need no quotes."""
    return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"


def _time_array(values) -> str:
    return "{" + ",".join("NULL" if v is None else v.isoformat() for v in values) + "}"


@dataclass(frozen=True)
class _WriteContext:
    feed: _Feed
    records: Mapping[int, Mapping[str, Any]]  # for the event
    reference: str
    batch_id: int | None
    remote_addr: str | None

    def write(self, changes: Mapping[Key, Target]) -> tuple[dict[int, str], dict[int, Errors]]:
        """Write ``changes`` (what differs: locked, compared and written by one statement,
        with history and audit), in one transaction; then, in it, the ``price.changed``
        event of what was written."""
        now = timezone.now()
        feed = self.feed
        outcomes: dict[int, str] = {}
        changed_products: set[int] = set()
        pending = dict(changes)
        audit, audit_params = audit_insert_sql(
            model=feed.model,
            source=feed.audit_source,
            timestamp=now,
            remote_addr=self.remote_addr,
            batch_id=self.batch_id,
        )
        sql = feed.write_sql.replace("{audit}", audit)
        fixed = {
            "now": now,
            "created_text": audit_text(now),
            "source": PriceChange.Source.ERP.value,
            "reference": self.reference[:100],
            **audit_params,
        }
        with transaction.atomic(), connection.cursor() as cursor:
            # twice at most: a key created concurrently meanwhile is locked on the second
            for _pass in range(2):
                keys = sorted(pending)
                values = [pending[key][1] for key in keys]
                cursor.execute(
                    sql,
                    {
                        "owners": _array(k[0] for k in keys),
                        "products": _array(k[1] for k in keys),
                        "quantities": _array(k[2] for k in keys),
                        "amounts": _array(v[0] for v in values),
                        "froms": _time_array(v[1] for v in values),
                        "tos": _time_array(v[2] for v in values),
                        **fixed,
                    },
                )
                for owner_id, product_id, min_quantity, outcome in cursor.fetchall():
                    index, _values = pending.pop((owner_id, product_id, min_quantity))
                    outcomes[index] = _OUTCOMES[outcome]
                    if outcome != "e":
                        changed_products.add(product_id)
                if not pending:
                    break
            # the rows are written: what derives from them in this transaction goes here
            if feed.model is Price:  # special prices are merged at query time, not indexed
                price_index_refresh(changed_products, at=now)
            _emit(self.records, outcomes, feed.owner, batch_id=self.batch_id)
        errors = {
            index: {NON_FIELD: [_("The price changed meanwhile; send the record again.")]}
            for index, _target in pending.values()
        }
        return outcomes, errors


_OUTCOMES = {"c": CREATED, "u": UPDATED, "e": UNCHANGED}
AUDITED = ("amount", "valid_from", "valid_to")  # the fields an update's audit entry compares


def _index_of(item: tuple[Key, Target]) -> int:
    return item[1][0]
