"""``seed_demo --skip-if-seeded`` (what ``./dev demo`` passes): a rerun finds the demo data with
a few queries and only prints the logins; other options that need more data, or ``--reset``,
seed. The demo's e-mail backend writes files and one line per message."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.accounts.models import User
from apps.catalog.models import Product
from apps.orders.models import Order
from apps.orders.services import order_place, order_set_status
from apps.pricing.models import PriceList
from tests.factories import AddressFactory, CustomerFactory, DealerUserFactory

pytestmark = [pytest.mark.django_db]

SMALL = ("--products", "20", "--dealers", "4")


def run(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, verbosity=0)
    return out.getvalue()


def logins(output: str) -> set[str]:
    return {line.strip() for line in output.splitlines() if " / " in line}


def test_a_rerun_prints_the_same_logins_without_seeding(django_assert_max_num_queries):
    first = run(*SMALL, "--skip-if-seeded")
    assert "Demo data ready." in first
    # the checks, then the logins as they are now: which companies are approved, which
    # recovery codes are unused (the super admin's and the Finance Manager's)
    with django_assert_max_num_queries(11):
        again = run(*SMALL, "--skip-if-seeded")
    assert "already there" in again and "Demo data ready." not in again
    assert logins(again) == logins(first)
    assert again.rstrip().splitlines()[-1].startswith("  ERP connector ")
    assert again.rstrip().splitlines()[-2].startswith("  dealer: ")


def test_a_rerun_prints_the_logins_as_they_are_now():
    """After staff approved DEMO004 and the admin used a recovery code, a rerun still said
    "company pending approval" and printed the used code, which the sign-in refuses."""
    from apps.accounts.models import Customer, CustomerStatus
    from apps.accounts.services.two_factor import recovery_code_digest
    from apps.demo.management.commands.seed_demo import DEMO_ADMIN_EMAIL
    from apps.demo.two_factor import demo_recovery_codes

    first = run(*SMALL, "--skip-if-seeded")
    assert "(owner, DEMO004) - company pending approval" in first
    used = demo_recovery_codes(DEMO_ADMIN_EMAIL)[0]
    assert used in first
    Customer.objects.filter(code="DEMO004").update(status=CustomerStatus.ACTIVE)
    from django_otp.plugins.otp_static.models import StaticToken

    StaticToken.objects.filter(token=recovery_code_digest(used)).delete()  # as a sign-in does

    again = run(*SMALL, "--skip-if-seeded")
    assert "already there" in again
    assert "(owner, DEMO004)" in again and "pending approval" not in again
    assert used not in again and demo_recovery_codes(DEMO_ADMIN_EMAIL)[3] in again


def test_more_products_than_there_are_seed_again():
    run(*SMALL)
    output = run("--products", "25", "--dealers", "4", "--skip-if-seeded")
    assert "Demo data ready." in output
    assert Product.objects.filter(sku__startswith="DEMO-").count() == 25


def test_a_missing_login_seeds_again():
    run(*SMALL)
    User.objects.filter(email="viewer@demo002.example.com").delete()
    assert "Demo data ready." in run(*SMALL, "--skip-if-seeded")
    assert User.objects.filter(email="viewer@demo002.example.com").exists()


def test_reset_always_seeds():
    run(*SMALL)
    assert "Demo data ready." in run(*SMALL, "--skip-if-seeded", "--reset")


def test_the_demo_mail_backend_writes_one_file_and_one_line_per_message(settings, tmp_path):
    settings.EMAIL_BACKEND = "apps.demo.mail.EmailBackend"
    settings.MEDIA_ROOT = tmp_path
    stream = StringIO()
    connection = mail.get_connection(stream=stream)
    sent = mail.send_mail(
        "Your order SO-2026-000001",
        "Thank you for your order.",
        "no-reply@example.com",
        ["owner@demo001.example.com"],
        connection=connection,
    )
    assert sent == 1
    files = list((tmp_path / "demo-mail").glob("*.eml"))
    assert len(files) == 1
    text = files[0].read_text()
    assert "Subject: Your order SO-2026-000001" in text and "Thank you for your order." in text
    lines = stream.getvalue().splitlines()
    assert lines == [
        f"e-mail to owner@demo001.example.com: Your order SO-2026-000001 -> {files[0]}"
    ]


def test_reset_refuses_in_one_line_when_real_orders_name_demo_products():
    """A real dealer ordered a demo product: ``--reset`` cannot delete that product. It says so
    in one line and exits non-zero, and nothing is removed (API.md: each command exits
    non-zero with a one-line reason)."""
    run(*SMALL)
    customer = CustomerFactory(code="REAL01")
    AddressFactory(customer=customer, is_default=True)
    AddressFactory(customer=customer, is_default=True, type="billing")
    buyer = DealerUserFactory(customer=customer, role="owner")
    product = Product.objects.filter(sku__startswith="DEMO-", is_active=True).order_by("sku")[3]
    quantity = max(product.min_order_quantity, product.order_multiple)
    order_place(
        user=buyer,
        payment_method="bank_transfer",
        items=[{"sku": product.sku, "quantity": quantity}],
    )
    demo_products = Product.all_objects.filter(sku__startswith="DEMO-").count()

    with pytest.raises(CommandError) as caught:
        run(*SMALL, "--reset")

    assert str(caught.value).startswith("--reset cannot remove the demo data: other data refers")
    assert "\n" not in str(caught.value)
    assert Product.all_objects.filter(sku__startswith="DEMO-").count() == demo_products
    assert Order.objects.filter(customer__code="REAL01").count() == 1


def test_reset_refuses_when_a_real_dealer_has_a_special_price_on_a_demo_product():
    """The database would delete that special price with the demo product (no constraint
    protects it): the reset names it and changes nothing. A real dealer assigned to a demo
    sales manager keeps them through a reset that goes ahead."""
    from apps.accounts.services.customers import customer_assign_sales_rep
    from apps.pricing.models import SpecialPrice  # the pricing side of the check

    run(*SMALL)
    real = CustomerFactory(code="REAL02")
    rep = User.objects.get(email="sales.manager@example.com")
    customer_assign_sales_rep(customer=real, rep=rep, by=None)
    product = Product.objects.filter(sku__startswith="DEMO-").order_by("sku").first()
    special = SpecialPrice.objects.create(customer=real, product=product, min_quantity=1, amount=5)

    with pytest.raises(CommandError) as caught:
        run(*SMALL, "--reset")

    assert "1 special prices of other dealers for demo products" in str(caught.value)
    assert SpecialPrice.objects.filter(pk=special.pk).exists()
    special.delete()
    assert "Demo data ready." in run(*SMALL, "--reset")
    real.refresh_from_db()
    assert real.sales_rep == rep


def test_reset_leaves_a_real_products_stock_ledger_whole(settings):
    """A demo dealer's order of a real product went into that product's stock ledger: the
    reset removes the order, not its movements, so the ledger still adds up to what is on
    hand."""
    from apps.inventory.models import StockLevel  # the inventory side of the check
    from apps.pricing.services.prices import price_set
    from tests.inventory.helpers import assert_ledger_consistent, stocked

    run(*SMALL)
    product, warehouses = stocked({"REALWH": 10}, sku="REAL-CABLE", min_order_quantity=1)
    price_set(
        price_list=PriceList.objects.get(code="LIST"), product=product, min_quantity=1, amount="10"
    )
    buyer = User.objects.get(email="owner@demo001.example.com")
    order = order_place(
        user=buyer, payment_method="on_account", items=[{"sku": "REAL-CABLE", "quantity": 2}]
    )
    for status in ("processing", "shipped"):  # two units left the warehouse
        order, _changed = order_set_status(order=order, status=status, actor="erp")

    run(*SMALL, "--reset")

    level = StockLevel.objects.get(product=product, warehouse=warehouses["REALWH"])
    assert (level.on_hand, level.reserved) == (8, 0)
    assert_ledger_consistent(level)
