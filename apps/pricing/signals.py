"""Cache invalidation: the price engine caches price-list rows per list and product
(``engine.price_list_rows``); any change of a price or a price list drops that cache, at once
and again when the transaction commits (a reader between the two cannot keep the old rows):
``prices_bump``. Bulk SQL elsewhere (the ERP feed, the demo) calls it itself."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apps.pricing.engine import prices_bump
from apps.pricing.models import Price, PriceList


def prices_changed() -> None:
    prices_bump()


@receiver(post_save, sender=Price, dispatch_uid="pricing-price-saved")
@receiver(post_delete, sender=Price, dispatch_uid="pricing-price-deleted")
@receiver(post_save, sender=PriceList, dispatch_uid="pricing-list-saved")
@receiver(post_delete, sender=PriceList, dispatch_uid="pricing-list-deleted")
def _price_changed(sender, **kwargs):
    prices_changed()
