"""The four price lists every installation has: LIST and the tiers A, B, C."""

from django.db import migrations

LISTS = [
    ("LIST", "List price"),
    ("A", "Tier A"),
    ("B", "Tier B"),
    ("C", "Tier C"),
]


def create(apps, schema_editor):
    PriceList = apps.get_model("pricing", "PriceList")
    for code, name in LISTS:
        PriceList.objects.get_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("pricing", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
