"""Keeping what pricing derives from other rows current.

- The price engine caches price-list rows per list and product (``engine.price_list_rows``);
  any change of a price or a price list drops that cache, at once and again when the
  transaction commits (a reader between the two cannot keep the old rows): ``prices_bump``.
- The price index (``apps.pricing.index``): a list price or a product saved through the ORM
  refreshes that product's rows in the same transaction; a campaign, price list, category or
  brand change queues one full sync for after the commit (celery beat catches up if the queue
  is down).

Bulk SQL elsewhere (the ERP feeds, the demo) calls ``prices_bump`` and the index itself.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apps.campaigns.rules import campaigns_changed_listen
from apps.catalog.models import Brand, Category, Product
from apps.core.transactions import after_commit
from apps.pricing.engine import prices_bump
from apps.pricing.index import price_index_refresh
from apps.pricing.models import Price, PriceList
from apps.pricing.tasks import price_index_sync_task


def prices_changed() -> None:
    prices_bump()


def price_index_sync_after_commit() -> None:
    # several in one transaction are cheap: the first sync rebuilds, the next find the
    # signature current and only look at price windows. (Not merged into one per transaction:
    # tests run the callbacks of a transaction that never commits, and one left from an earlier
    # step would swallow the next.)
    after_commit(price_index_sync_task.delay, name="price index sync")


@receiver(post_save, sender=Price, dispatch_uid="pricing-price-saved")
@receiver(post_delete, sender=Price, dispatch_uid="pricing-price-deleted")
def _price_changed(sender, instance, **kwargs):
    prices_changed()
    price_index_refresh([instance.product_id])


@receiver(post_save, sender=PriceList, dispatch_uid="pricing-list-saved")
@receiver(post_delete, sender=PriceList, dispatch_uid="pricing-list-deleted")
def _price_list_changed(sender, **kwargs):
    prices_changed()
    price_index_sync_after_commit()


@receiver(post_save, sender=Product, dispatch_uid="pricing-product-saved")
def _product_saved(sender, instance, created, raw=False, **kwargs):
    # a new product has no price yet; a changed one may have a new name, category or brand
    if not created and not raw:
        price_index_refresh([instance.pk])


@receiver(post_save, sender=Category, dispatch_uid="pricing-category-saved")
@receiver(post_delete, sender=Category, dispatch_uid="pricing-category-deleted")
@receiver(post_save, sender=Brand, dispatch_uid="pricing-brand-saved")
@receiver(post_delete, sender=Brand, dispatch_uid="pricing-brand-deleted")
def _everything_may_change(sender, **kwargs):
    price_index_sync_after_commit()


# a campaign, its audience or its scope changed (the campaigns app tells its listeners)
campaigns_changed_listen(price_index_sync_after_commit)
