"""Product search indexes (PostgreSQL only; a no-op elsewhere).

- pg_trgm, and a GIN trigram index on ``search_document``: SKU and barcode fragments
  (``LIKE '%...%'``) and typos (word similarity, ``%>``);
- a GIN index on ``to_tsvector('simple', search_document)``: word search.

``apps.catalog.selectors.product_search`` writes exactly these expressions, so the planner
can use the indexes.
"""

from django.db import migrations

INDEXES = {
    "catalog_prod_search_fts": (
        "CREATE INDEX IF NOT EXISTS catalog_prod_search_fts ON catalog_product "
        "USING gin (to_tsvector('simple'::regconfig, search_document))"
    ),
    "catalog_prod_search_trgm": (
        "CREATE INDEX IF NOT EXISTS catalog_prod_search_trgm ON catalog_product "
        "USING gin (search_document gin_trgm_ops)"
    ),
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for sql in INDEXES.values():
        schema_editor.execute(sql)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    # the extension stays: other objects may use it


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
