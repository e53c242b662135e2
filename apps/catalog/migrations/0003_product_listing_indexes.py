"""Indexes of the dealer product list (PostgreSQL only; a no-op elsewhere).

- ``(name, id)``: the list's order (``-name, -id`` reads it backwards). A page of a large
  selection (the whole catalog, a big category) is read in order and stops after the page
  instead of sorting every matching product.
- ``(category_id)`` of visible products only (active, not deleted; the predicate of
  ``Product.objects.visible()``): the page count of a category, or of the whole catalog, is an
  index-only scan of it.
"""

from django.db import migrations

INDEXES = {
    "catalog_prod_name_id": "ON catalog_product (name, id)",
    "catalog_prod_visible_cat": (
        "ON catalog_product (category_id) WHERE is_active AND NOT is_deleted"
    ),
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} {definition}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_product_search_indexes"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
