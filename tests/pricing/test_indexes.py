"""The ERP price feeds write every row of the price tables' indexes: no index there may be
covered by another (its columns a leading part of another index's), which would be one more
write per row for nothing."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = [pytest.mark.django_db]

TABLES = ("pricing_price", "pricing_specialprice", "pricing_pricechange")


def _indexes(table: str) -> dict[str, tuple[str, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.relname, array_agg(a.attname ORDER BY k.n)
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)
            JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
            WHERE x.indrelid = %s::regclass AND x.indpred IS NULL
            GROUP BY i.relname
            """,
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
