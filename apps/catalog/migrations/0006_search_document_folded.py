"""Search documents stored before Turkish folding (``apps.catalog.search.search_fold``) are
folded in place: BOĞAZİÇİ, Boğaziçi and bogazici now find the same products."""

from django.db import migrations

# the letters a lower-cased document can hold, and their base (U+0307, the combining dot that
# lower() leaves after an "İ", is dropped); as search_fold folds them
FOLD_FROM = "ışğçöüâîû\u0307"
FOLD_TO = "isgcouaiu"


def fold_documents(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE catalog_product SET search_document = translate(search_document, %s, %s) "
                "WHERE search_document ~ %s",
                [FOLD_FROM, FOLD_TO, f"[{FOLD_FROM}]"],
            )
        return
    table = str.maketrans(FOLD_FROM[:-1], FOLD_TO, FOLD_FROM[-1])
    Product = apps.get_model("catalog", "Product")
    changed = []
    for product in Product.objects.only("id", "search_document").iterator():
        folded = product.search_document.translate(table)
        if folded != product.search_document:
            product.search_document = folded
            changed.append(product)
    Product.objects.bulk_update(changed, ["search_document"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_category_is_visible")]

    operations = [migrations.RunPython(fold_documents, migrations.RunPython.noop)]
