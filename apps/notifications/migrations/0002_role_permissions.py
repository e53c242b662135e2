"""Customer Service reads the notification log (did the dealer get the e-mail?); Super Admin
(every permission) also gets the webhook screens of the integrations app."""

from django.db import migrations


def grant(apps, schema_editor):
    from apps.accounts.roles import grant_new_permissions

    grant_new_permissions(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("integrations", "0002_outbox_webhooks"),
    ]

    operations = [
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
