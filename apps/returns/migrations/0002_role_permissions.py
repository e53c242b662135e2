from django.db import migrations


def grant(apps, schema_editor):
    """Dealers ask for and see returns; customer service decides and receives them, finance
    credits them (apps/accounts/roles.py)."""
    from apps.accounts.roles import grant_new_permissions

    grant_new_permissions(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("returns", "0001_initial"),
        ("accounts", "0003_verification_token_version_country"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
