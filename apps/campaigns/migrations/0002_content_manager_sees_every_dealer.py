"""Content Managers aim banners and collections at chosen dealers, any of them: the back
office's dealer scope (apps/accounts/admin/scoping.py) lets them name every dealer."""

from django.db import migrations


def grant(apps, schema_editor):
    from apps.accounts.roles import grant_new_permissions

    grant_new_permissions(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0001_initial"),
        ("accounts", "0002_role_groups"),
        ("pricing", "0003_role_permissions"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
