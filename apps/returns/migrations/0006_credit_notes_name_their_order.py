"""A return's credit note names its order on the ledger (``LedgerEntry.order``), so it pays
that order's invoices when they come: the credit notes booked before get their order too."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def credit_notes_name_their_order(apps, schema_editor):
    LedgerEntry = apps.get_model("finance", "LedgerEntry")
    ReturnRequest = apps.get_model("returns", "ReturnRequest")
    LedgerEntry.objects.filter(
        order__isnull=True, pk__in=ReturnRequest.objects.values("credit_note")
    ).update(
        order=Subquery(ReturnRequest.objects.filter(credit_note=OuterRef("pk")).values("order")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("finance", "0010_ledger_entry_order"),
        ("returns", "0005_returnrequest_created_by_returnrequest_updated_by"),
    ]

    operations = [
        migrations.RunPython(credit_notes_name_their_order, migrations.RunPython.noop),
    ]
