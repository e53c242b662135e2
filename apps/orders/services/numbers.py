"""Order numbers: ``SO-<year>-<6 digits>``, unique, generated without races.

The counter row of the year is incremented under its row lock in a short transaction of its
own (committed before the placement's long one, so placements of different dealers do not
queue behind it). A placement that fails afterwards leaves a gap in the numbers, which is
harmless for orders (invoice numbers, which must not have gaps, come from the ERP).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.orders.models import OrderNumberSequence

PREFIX = "SO"


def order_number_next() -> str:
    year = timezone.localdate().year
    for _attempt in range(3):
        with transaction.atomic():
            updated = OrderNumberSequence.objects.filter(year=year).update(last=F("last") + 1)
            if updated:
                last = OrderNumberSequence.objects.get(year=year).last
                return f"{PREFIX}-{year}-{last:06d}"
            try:
                with transaction.atomic():
                    OrderNumberSequence.objects.create(year=year, last=1)
            except IntegrityError:  # created by a concurrent placement: increment that one
                continue
            return f"{PREFIX}-{year}-{1:06d}"
    raise RuntimeError("could not take an order number")
