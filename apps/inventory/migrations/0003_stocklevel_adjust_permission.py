"""A dedicated permission for stock adjustments; Super Admin (every permission) gets it."""

from django.db import migrations


def grant(apps, schema_editor):
    from apps.accounts.roles import grant_new_permissions

    grant_new_permissions(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0002_role_permissions"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="stocklevel",
            options={
                "permissions": [("adjust_stock", "Can adjust stock")],
                "verbose_name": "stock level",
                "verbose_name_plural": "stock levels",
            },
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
