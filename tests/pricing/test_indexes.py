"""The ERP price feeds write every row of the price tables' indexes: no index there may be
covered by another (its columns a leading part of another index's), which would be one more
write per row for nothing; and the price history's optional references are indexed only on the
rows that have them."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = [pytest.mark.django_db]

TABLES = ("pricing_price", "pricing_specialprice", "pricing_pricechange", "pricing_priceindex")


def _indexes(table: str, *, partial: bool = False) -> dict[str, tuple[str, ...]]:
    """The table's indexes (``partial``: those with a ``WHERE``, else those without) and
    their columns in order (a descending one with `` DESC``)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT i.relname, array_agg(
                a.attname || CASE WHEN x.indoption[k.n - 1] & 1 = 1 THEN ' DESC' ELSE '' END
                ORDER BY k.n
            )
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)
            JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
            WHERE x.indrelid = %s::regclass AND x.indpred IS {"NOT " if partial else ""}NULL
            GROUP BY i.relname
            """,  # noqa: S608
            [table],
        )
        return {name: tuple(columns) for name, columns in cursor.fetchall()}


@pytest.mark.parametrize("table", TABLES)
def test_no_price_table_index_is_covered_by_another(table):
    indexes = _indexes(table)
    assert indexes
    covered = [
        (name, other)
        for name, columns in indexes.items()
        for other, other_columns in indexes.items()
        if other != name and other_columns[: len(columns)] == columns
    ]
    assert not covered, covered


def test_what_the_price_tables_are_looked_up_by_stays_indexed():
    leading = {table: {cols[0] for cols in _indexes(table).values()} for table in TABLES}
    assert {"price_list_id", "product_id"} <= leading["pricing_price"]
    assert {"customer_id", "product_id"} <= leading["pricing_specialprice"]
    assert {"product_id", "changed_at"} <= leading["pricing_pricechange"]


def test_the_price_historys_optional_references_are_indexed_only_where_set():
    # an ERP list price's history row has no dealer and no user: it must not pay for their
    # indexes (nor a special price's row for the list's)
    optional = {"price_list_id", "customer_id", "changed_by_id"}
    full = {cols[0] for cols in _indexes("pricing_pricechange").values()}
    partial = {cols[0] for cols in _indexes("pricing_pricechange", partial=True).values()}
    assert not optional & full
    assert optional <= partial


def test_the_price_index_is_found_by_product_through_its_unique_key():
    indexes = _indexes("pricing_priceindex")
    assert indexes["pricing_index_unique"] == ("product_id", "context")
    assert not [name for name, cols in indexes.items() if cols == ("product_id",)]
