# The outbox moved to core (core/0003_outboxevent): the integrations app forgets the model in
# Django's state only; the table, its rows and the deliveries' foreign key to it stay as they are.
# Its content type (and so the permissions granted on it) becomes core's.

import django.db.models.deletion
from django.db import migrations, models


def content_type_to_core(apps, schema_editor):
    """The ``outboxevent`` content type becomes core's, so the permissions granted on it stay
    granted. (A data migration that created permissions from a historical state between
    core/0003 and this one may have made core's already: groups get its permissions instead,
    and integrations' is removed.)"""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    old = ContentType.objects.filter(app_label="integrations", model="outboxevent").first()
    if old is None:
        return
    new = ContentType.objects.filter(app_label="core", model="outboxevent").first()
    if new is None:
        old.app_label = "core"
        old.save(update_fields=["app_label"])
        return
    for permission in Permission.objects.filter(content_type=old):
        moved, _ = Permission.objects.get_or_create(
            content_type=new, codename=permission.codename, defaults={"name": permission.name}
        )
        for group in permission.group_set.all():
            group.permissions.add(moved)
        for user in permission.user_set.all():
            user.user_permissions.add(moved)
    old.delete()


def content_type_to_integrations(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="integrations", model="outboxevent").exists():
        ContentType.objects.filter(app_label="core", model="outboxevent").update(
            app_label="integrations"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0003_outboxevent"),
        ("integrations", "0002_outbox_webhooks"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="webhookdelivery",
                    name="event",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deliveries",
                        to="core.outboxevent",
                        verbose_name="event",
                    ),
                ),
                migrations.DeleteModel(name="OutboxEvent"),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_to_core, content_type_to_integrations),
    ]
