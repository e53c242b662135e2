"""Sales Managers (and Super Admins) change prices and campaigns; Content Managers manage
banners and collections."""

from django.db import migrations


def grant(apps, schema_editor):
    from apps.accounts.roles import grant_new_permissions

    grant_new_permissions(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("pricing", "0002_price_lists"),
        ("campaigns", "0001_initial"),
        ("inventory", "0002_role_permissions"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
