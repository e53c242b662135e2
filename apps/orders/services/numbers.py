"""Order numbers: ``SO-<year>-<6 digits>``, unique, generated without races.

The counter row of the year is created or incremented in one statement (``INSERT ... ON
CONFLICT DO UPDATE ... RETURNING``: the row lock is taken and released by that statement
alone, committed before the placement's long transaction, so placements of different dealers
do not queue behind it). A placement that fails afterwards leaves a gap in the numbers, which
is harmless for orders (invoice numbers, which must not have gaps, come from the ERP).
"""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from apps.orders.models import OrderNumberSequence

PREFIX = "SO"

_NEXT = (
    'INSERT INTO {table} ("year", "last") VALUES (%s, 1) '
    'ON CONFLICT ("year") DO UPDATE SET "last" = {table}."last" + 1 '
    'RETURNING "last"'
)


def order_number_next() -> str:
    year = timezone.localdate().year
    table = connection.ops.quote_name(OrderNumberSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(_NEXT.format(table=table), [year])
        (last,) = cursor.fetchone()
    return f"{PREFIX}-{year}-{last:06d}"
