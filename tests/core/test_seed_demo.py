"""seed_demo is idempotent, accepts the scale options and prints the logins."""

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

from apps.demo.management.commands.seed_demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD

pytestmark = [pytest.mark.django_db]


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("seed_demo", *args, stdout=out, verbosity=0)
    return out.getvalue()


def test_seed_demo_creates_a_staff_login_and_prints_it():
    output = run("--products", "10", "--dealers", "2")
    assert f"{DEMO_ADMIN_EMAIL} / {DEMO_ADMIN_PASSWORD}" in output
    user = authenticate(email=DEMO_ADMIN_EMAIL, password=DEMO_ADMIN_PASSWORD)
    assert user is not None and user.is_staff and user.is_superuser


def test_seed_demo_twice_leaves_the_same_data():
    run()
    run()
    assert get_user_model().objects.filter(email__iexact=DEMO_ADMIN_EMAIL).count() == 1


def test_seed_demo_reset_recreates_the_demo_data_and_keeps_the_staff():
    """The demo dealers are made afresh; the demo staff are kept (what they did is recorded
    under them, and real dealers may be assigned to them) with the demo password again."""
    from apps.accounts.models import Customer  # the demo's dealers

    run()
    admin = get_user_model().objects.get(email=DEMO_ADMIN_EMAIL)
    admin.set_password("Changed-Since-2026")
    admin.save()
    dealer = Customer.objects.get(code="DEMO001").pk

    run("--reset")

    again = get_user_model().objects.get(email=DEMO_ADMIN_EMAIL)
    assert again.pk == admin.pk and again.check_password(DEMO_ADMIN_PASSWORD)
    assert Customer.objects.get(code="DEMO001").pk != dealer


def test_seed_demo_refuses_bad_numbers():
    with pytest.raises(CommandError):
        call_command("seed_demo", "--products", "-5")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--products", "1000000"], "--products: at most 999999"),
        (["--dealers", "1000"], "--dealers: at most 999"),
    ],
)
def test_seed_demo_checks_every_argument_before_writing_anything(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("seed_demo", *args, verbosity=0)
    assert not get_user_model().objects.filter(email__iexact=DEMO_ADMIN_EMAIL).exists()


def test_the_demo_erp_key_is_printed_works_and_its_batches_fill_the_integration_screens():
    from apps.integrations.models import BatchLog
    from apps.inventory.models import StockMovement
    from apps.pricing.models import PriceChange

    output = run("--products", "30", "--dealers", "4")
    key = next(line for line in output.splitlines() if "ERP connector" in line).split(" / ")[1]
    assert BatchLog.objects.filter(api_key__prefix="demo0001").count() == 3  # customers, ...
    assert set(BatchLog.objects.values_list("resource", flat=True)) == {
        "customers",
        "prices",
        "stock",
    }
    # the ERP batches' changes (the price step's history of earlier months aside)
    changes = PriceChange.objects.filter(source="erp").exclude(reference__startswith="batch:demo")
    assert changes.count() == 12 and all(c.new_amount > c.old_amount for c in changes)
    assert StockMovement.objects.filter(reference__startswith="batch:").exists()

    from rest_framework.test import APIClient

    erp = APIClient()
    erp.credentials(HTTP_X_API_KEY=key.strip())
    assert erp.get("/api/integration/v1/orders").status_code == 200

    run("--products", "30", "--dealers", "4")  # again: the same batches change nothing
    assert changes.count() == 12


def test_demo_orders_are_spread_over_the_last_days_with_their_history_in_order():
    from datetime import timedelta

    from django.utils import timezone

    from apps.orders.models import Order

    run("--products", "30", "--dealers", "4")
    orders = list(Order.objects.prefetch_related("status_history"))
    days = {(timezone.now() - order.created_at).days for order in orders}
    assert len(days) >= 5 and max(days) < 14  # not all placed this minute
    for order in orders:
        steps = [change.created_at for change in order.status_history.all()]
        assert steps == sorted(steps) and steps[0] >= order.created_at - timedelta(seconds=1)
    delivered = [o for o in orders if o.status == "delivered"]
    assert delivered and all(
        timezone.now() - o.delivered_at < timedelta(days=14) for o in delivered
    )


def test_a_demo_invoice_of_an_order_bills_that_order_after_it_shipped():
    from apps.core.clock import business_date
    from apps.finance.models import Invoice

    run("--products", "30", "--dealers", "4")
    invoices = list(
        Invoice.objects.filter(order__isnull=False)
        .select_related("order")
        .prefetch_related("lines", "order__lines")
    )
    assert invoices, "the demo shows invoices of its delivered orders"
    for invoice in invoices:
        order = invoice.order
        billed = sorted((line.sku, line.quantity) for line in invoice.lines.all())
        sold = sorted((line.sku, line.quantity) for line in order.lines.all())
        assert billed == sold, invoice.number
        assert invoice.issue_date >= business_date(order.shipped_at or order.created_at)
