from django.db import migrations, models
from django.db.models import Exists, OuterRef
from django.db.models.functions import Left, Length


def visibility_fill(apps, schema_editor):
    """A category below an inactive one is not visible (``category_visibility_refresh``)."""
    Category = apps.get_model("catalog", "Category")
    hidden = Exists(
        Category.objects.filter(is_active=False, path=Left(OuterRef("path"), Length("path")))
    )
    Category.objects.filter(hidden).update(is_visible=False)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_product_name_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="category",
            name="is_visible",
            field=models.BooleanField(
                default=True, editable=False, verbose_name="visible to dealers"
            ),
        ),
        migrations.RunPython(visibility_fill, migrations.RunPython.noop),
    ]
