"""Order numbers: ``SO-<year>-<6 digits>``, unique, generated without races
(``apps.core.sequences``)."""

from __future__ import annotations

from apps.core.sequences import sequence_next
from apps.orders.models import OrderNumberSequence

PREFIX = "SO"


def order_number_next() -> str:
    return sequence_next(OrderNumberSequence, prefix=PREFIX)
