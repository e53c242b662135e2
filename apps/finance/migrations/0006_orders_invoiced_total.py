"""Each order's ``invoiced_total``: the gross of the invoices stored so far that name it."""

from django.db import migrations
from django.db.models import OuterRef, Subquery, Sum


def backfill(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    Invoice = apps.get_model("finance", "Invoice")
    totals = (
        Invoice.objects.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(total=Sum("gross_total"))
        .values("total")
    )
    Order.objects.filter(pk__in=Invoice.objects.filter(order__isnull=False).values("order")).update(
        invoiced_total=Subquery(totals)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("finance", "0005_ledger_date_business_day"),
        ("orders", "0004_order_invoiced_total"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
