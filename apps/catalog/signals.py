"""What the catalog listens to.

- Category and Brand saves and deletes (the admin, services, anything going through the ORM)
  bump the catalog cache version, so the cached category tree and brand list are rebuilt on
  the next read (at once and again after commit: ``apps.core.cache.cache_version_bump``);
  a category's also brings the categories' ``is_visible`` in line (``category_visibility_refresh``).
  Bulk SQL (``QuerySet.update``, ``bulk_create``) sends no signals: callers of those call
  ``apps.catalog.cache.catalog_cache_bump()`` themselves.

Connected in ``CatalogConfig.ready()``.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from apps.catalog.cache import catalog_cache_bump
from apps.catalog.models import Brand, Category
from apps.catalog.services.categories import (
    category_visibility_refresh,
    category_visibility_set_new,
)


def catalog_changed(sender, instance=None, created=False, **kwargs) -> None:
    if sender is Category:
        if created:
            # a new category has nothing below it: only its own visibility can be off (one row,
            # where the whole tree's refresh made an ERP batch of new paths quadratic)
            category_visibility_set_new(instance)
        else:
            category_visibility_refresh()  # a category below one switched off is hidden too
    catalog_cache_bump()


def connect_receivers() -> None:
    for model in (Category, Brand):
        for signal in (post_save, post_delete):
            signal.connect(
                catalog_changed,
                sender=model,
                dispatch_uid=f"catalog_cache_bump_{model.__name__}_{signal is post_save}",
            )
