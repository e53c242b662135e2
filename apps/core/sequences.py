"""Yearly document numbers (``SO-2026-000123``, ``RMA-2026-000042``), unique, without races.

A sequence model has ``year`` (primary key) and ``last``. The counter row of the year is
created or incremented in one statement (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``:
the row lock is taken and released by that statement alone, committed before the caller's
long transaction, so writers of different dealers do not queue behind it). A transaction that
fails afterwards leaves a gap in the numbers, which is harmless for orders and returns
(invoice numbers, which must not have gaps, come from the ERP).
"""

from __future__ import annotations

from django.db import connection

from apps.core.clock import business_today

_NEXT = (
    'INSERT INTO {table} ("year", "last") VALUES (%s, 1) '
    'ON CONFLICT ("year") DO UPDATE SET "last" = {table}."last" + 1 '
    'RETURNING "last"'
)


def sequence_next(model, *, prefix: str) -> str:
    """The next ``<prefix>-<year>-<6 digits>`` of ``model``'s counter for this year."""
    year = business_today().year
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(_NEXT.format(table=table), [year])
        (last,) = cursor.fetchone()
    return f"{prefix}-{year}-{last:06d}"
