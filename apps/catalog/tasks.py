"""Catalog background jobs. Tasks take ids, call one function and are safe to run twice."""

from __future__ import annotations

from celery import shared_task

from apps.catalog.images import product_image_generate_thumbnail


@shared_task(
    name="catalog.generate_thumbnail",
    autoretry_for=(Exception,),  # the storage (S3, disk) failing for a moment; safe to rerun
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def generate_thumbnail(image_id: int) -> str:
    """Render and store the thumbnail of ``ProductImage`` ``image_id`` (queued on commit by the
    image services). An image already done, deleted or unreadable is a no-op."""
    return product_image_generate_thumbnail(image_id=image_id)
