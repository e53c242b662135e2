"""Orders the ERP has invoiced. What is not invoiced yet of a confirmed, processing, shipped or
delivered order counts against the credit limit with the ledger balance (DESIGN.md, Orders,
step 2: the invoiced part is in the ledger already)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Case, F, Value, When
from django.db.models.functions import Coalesce

from apps.orders.models import Order


def orders_mark_invoiced(*, invoices: Iterable[tuple[int, Decimal]], at: datetime.datetime) -> int:
    """``invoices``: ``(order_id, gross)`` of new invoices naming orders. Each order's
    ``invoiced_total`` grows by its invoices' gross and ``invoiced_at`` is stamped when not yet
    (an order invoiced in parts keeps its first invoice's time). One statement; the number of
    orders changed."""
    amounts: dict[int, Decimal] = defaultdict(Decimal)
    for order_id, gross in invoices:
        amounts[order_id] += gross
    if not amounts:
        return 0
    ids = sorted(amounts)
    added = Case(
        *(When(pk=pk, then=Value(amounts[pk])) for pk in ids),
        default=Value(Decimal("0.00")),
        output_field=Order._meta.get_field("invoiced_total"),
    )
    return Order.objects.filter(pk__in=ids).update(
        invoiced_total=F("invoiced_total") + added,
        invoiced_at=Coalesce(F("invoiced_at"), Value(at)),
    )
