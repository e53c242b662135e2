"""Catalog background jobs. Tasks take ids, call one function and are safe to run twice."""

from __future__ import annotations

from celery import shared_task

from apps.catalog.images import product_image_generate_thumbnail
from apps.core.task_queue import SweptWhenItGivesUp


@shared_task(
    name="catalog.generate_thumbnail",
    base=SweptWhenItGivesUp,  # storage down longer than the retries: beat's sweep resends it
    autoretry_for=(Exception,),  # the storage (S3, disk) failing for a moment; safe to rerun
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def generate_thumbnail(image_id: int) -> str:
    """Render and store the thumbnail of ``ProductImage`` ``image_id`` (queued on commit by the
    image services). An image already done, deleted or unreadable is a no-op."""
    return product_image_generate_thumbnail(image_id=image_id)
