"""Orders the ERP has invoiced: they leave the open-orders exposure of the credit rule
(DESIGN.md, Orders, step 2: open orders are confirmed, processing or shipped and not yet
invoiced)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from apps.orders.models import Order


def orders_mark_invoiced(*, order_ids: Iterable[int], at: datetime.datetime) -> int:
    """Stamp ``invoiced_at`` on the orders not stamped yet (an order invoiced in parts keeps
    its first invoice's time). One statement; the number of orders stamped."""
    ids = sorted(set(order_ids))
    if not ids:
        return 0
    return Order.objects.filter(pk__in=ids, invoiced_at__isnull=True).update(invoiced_at=at)
