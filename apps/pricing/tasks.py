"""Celery tasks of pricing: keeping the price index current (``apps.pricing.index``)."""

from __future__ import annotations

from celery import shared_task

from apps.pricing.index import price_index_sync


@shared_task(name="pricing.price_index_sync", ignore_result=True)
def price_index_sync_task(force: bool = False) -> dict:
    """Beat runs it every ``PRICE_INDEX_SYNC_SECONDS``; campaign, price list, category and
    brand changes queue it after their commit."""
    return price_index_sync(force=force)
