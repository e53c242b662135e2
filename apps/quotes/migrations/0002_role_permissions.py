from django.db import migrations


def grant(apps, schema_editor):
    """Owners and purchasing users ask for quotes, every dealer role reads them; sales managers
    answer them (apps/accounts/roles.py)."""
    from apps.accounts.roles import grant_new_permissions

    grant_new_permissions(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("quotes", "0001_initial"),
        ("accounts", "0005_sms_login"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
