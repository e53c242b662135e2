# The outbox moves from the integrations app down into core (issue 14: core holds the outbox and
# the event registry and imports no domain app). Only Django's state moves: the table keeps its
# name (``Meta.db_table``), its rows, indexes and foreign keys; the content type is renamed so
# the permissions granted on it (Super Admin) stay attached.

import django.core.serializers.json
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("core", "0002_idempotency_resource"),
        ("integrations", "0002_outbox_webhooks"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="OutboxEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "type",
                            models.CharField(db_index=True, max_length=64, verbose_name="type"),
                        ),
                        ("subject", models.CharField(max_length=200, verbose_name="subject")),
                        (
                            "data",
                            models.JSONField(
                                default=dict,
                                encoder=django.core.serializers.json.DjangoJSONEncoder,
                                verbose_name="data",
                            ),
                        ),
                        ("group", models.UUIDField(blank=True, editable=False, null=True)),
                        (
                            "created_at",
                            models.DateTimeField(
                                db_index=True,
                                default=django.utils.timezone.now,
                                verbose_name="created at",
                            ),
                        ),
                        (
                            "dispatched_at",
                            models.DateTimeField(
                                blank=True, null=True, verbose_name="dispatched at"
                            ),
                        ),
                        (
                            "coalesced_into",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="core.outboxevent",
                                verbose_name="coalesced into",
                            ),
                        ),
                        (
                            "customer",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="accounts.customer",
                                verbose_name="customer",
                            ),
                        ),
                        (
                            "endpoint",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="integrations.webhookendpoint",
                                verbose_name="only for endpoint",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "outbox event",
                        "verbose_name_plural": "outbox events",
                        "db_table": "integrations_outboxevent",
                        "ordering": ["-id"],
                        "indexes": [
                            models.Index(
                                condition=models.Q(("dispatched_at__isnull", True)),
                                fields=["subject", "id"],
                                name="integ_outbox_undispatched",
                            ),
                            models.Index(
                                condition=models.Q(
                                    ("dispatched_at__isnull", True), ("group__isnull", False)
                                ),
                                fields=["group"],
                                name="integ_outbox_group",
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
