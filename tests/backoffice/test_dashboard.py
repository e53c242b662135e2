"""The back office's start page (issue "Back office", first part): the work waiting for each
staff role as queues with counts on every admin page (each linking to its filtered list), and
the sales figures, both limited to the dealers the staff member sees (a sales manager: those
assigned to them), in a constant number of queries."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.accounts.services.customers import customer_assign_sales_rep
from apps.backoffice.selectors import dashboard_charts, sales_figures, work_queues
from apps.orders.models import Order
from apps.quotes.models import Quote
from tests.factories import CustomerFactory
from tests.finance.helpers import make_order

pytestmark = [pytest.mark.django_db]
D = Decimal


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def book():
    mine, theirs = CustomerFactory(code="MINE01"), CustomerFactory(code="THEIRS")
    CustomerFactory(status="pending")  # a registration to approve
    for customer in (mine, theirs):
        make_order(customer, status="awaiting_credit_approval", gross="500.00")
        make_order(customer, status="confirmed", gross="120.00")
        Quote.objects.create(number=f"QT-2026-{customer.pk:06d}", customer=customer)
    make_order(mine, status="cancelled", gross="999.00")  # sold nothing
    return mine, theirs


def counts(queues) -> dict[str, int]:
    return {queue["key"]: queue["count"] for queue in queues}


def test_each_role_sees_its_own_queues_with_counts(book, staff_client):
    finance = staff_client("Finance Manager").user
    assert counts(work_queues(user=finance)) == {"credit": 2}
    service = staff_client("Customer Service").user
    assert counts(work_queues(user=service)) == {"dealers": 1, "returns": 0, "notifications": 0}
    admin = staff_client(superuser=True).user
    assert counts(work_queues(user=admin)) == {
        "dealers": 1,
        "credit": 2,
        "returns": 0,
        "quotes": 2,
        "webhooks": 0,
        "notifications": 0,
        "jobs": 0,
    }


def test_a_sales_manager_counts_only_their_dealers(book, staff_client):
    mine, _theirs = book
    manager = staff_client("Sales Manager")
    assert counts(work_queues(user=manager.user)) == {"quotes": 0}
    customer_assign_sales_rep(customer=mine, rep=manager.user, by=None)
    assert counts(work_queues(user=manager.user, use_cache=False)) == {"quotes": 1}
    figures = sales_figures(user=manager.user)
    assert figures["month"] == Decimal("620.00") and figures["active_dealers"] == 1


def test_the_figures_count_sales_of_today_and_the_month(book, staff_client):
    mine, _theirs = book
    old = make_order(mine, status="delivered", gross="1000.00")
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=40))
    figures = sales_figures(user=staff_client(superuser=True).user)
    today_total = Decimal("1240.00")  # 2 x (500 + 120); the cancelled one is not a sale
    assert figures["today"] == today_total
    assert figures["month"] == today_total  # the 40-day-old order is of another month
    assert figures["month_orders"] == 4 and figures["month_average"] == Decimal("310.00")
    assert figures["active_dealers"] == 2


def test_the_start_page_and_every_admin_page_show_the_queues(
    book, staff_client, django_assert_max_num_queries
):
    finance = staff_client("Finance Manager")
    page = finance.get("/admin/").content.decode()
    assert 'data-queue="credit"' in page and "status__exact=awaiting_credit_approval" in page
    assert 'id="backoffice-figures"' in page
    other = finance.get("/admin/orders/order/").content.decode()
    assert 'data-queue="credit"' in other
    finance.get("/admin/")
    with django_assert_max_num_queries(20):  # the queues come from the cache
        finance.get("/admin/")


def test_receivables_and_card_payments_show_only_to_whoever_may_open_finance(book, staff_client):
    """Customer Service sees orders, not the ledger: the start page shows it sales, not what
    dealers owe or how card payments fare."""
    finance = staff_client("Finance Manager").get("/admin/").content.decode()
    assert 'id="chart-aging"' in finance and 'data-figure="payment_success"' in finance
    service = staff_client("Customer Service").get("/admin/").content.decode()
    assert 'id="backoffice-figures"' in service and 'data-figure="month"' in service
    assert 'id="chart-aging"' not in service and 'data-figure="payment_success"' not in service


def test_the_queue_counts_take_one_query_each(book, staff_client, django_assert_num_queries):
    admin = staff_client(superuser=True).user
    with django_assert_num_queries(7):
        work_queues(user=admin, use_cache=False)
    for customer in (CustomerFactory(), CustomerFactory()):
        make_order(customer, status="awaiting_credit_approval")
    with django_assert_num_queries(7):
        work_queues(user=admin, use_cache=False)
    with django_assert_num_queries(1):
        sales_figures(user=admin)


def test_the_charts_and_top_lists_among_the_dealers_seen(book, staff_client):
    from apps.finance.models import CardPayment
    from apps.finance.services.ledger import ledger_post
    from apps.orders.models import Cart, OrderLine
    from tests.catalog.factories import ProductFactory
    from tests.factories import DealerUserFactory

    mine, theirs = book
    product = ProductFactory(sku="TOP-1", name="Çok satan")
    for order in Order.objects.filter(customer=mine).exclude(status="cancelled"):
        OrderLine.objects.create(
            order=order, product=product, sku="TOP-1", name="Çok satan", quantity=7,
            unit_net=D("10"), discount=D("0"), price_source="list", vat_rate=20,
            line_net=D("70"), line_vat=D("14"), line_gross=D("84"),
        )  # fmt: skip
    for status in ("succeeded", "succeeded", "succeeded", "failed"):
        CardPayment.objects.create(
            customer=mine, provider="paynet", reference=f"CP{status}{CardPayment.objects.count()}",
            amount=D("10.00"), status=status,
        )  # fmt: skip
    buyer = DealerUserFactory(customer=mine, role="purchasing")
    Cart.objects.create(user=buyer, customer=mine)  # a cart that never became an order
    owner_cart = Cart.objects.create(user=DealerUserFactory(customer=mine), customer=mine)
    Order.objects.filter(customer=mine).update(placed_by=owner_cart.user)
    ledger_post(
        customer=theirs, kind="invoice", amount="300.00",
        entry_date=timezone.localdate() - datetime.timedelta(days=50),
        due_date=timezone.localdate() - datetime.timedelta(days=40),
    )  # fmt: skip
    admin = staff_client(superuser=True).user
    charts = dashboard_charts(user=admin)
    assert len(charts["days"]) == 90 and charts["days"][-1] == timezone.localdate().isoformat()
    assert sum(charts["orders_per_day"]) == 4  # 2 dealers x (credit approval + confirmed)
    assert [row["customer__code"] for row in charts["top_dealers"]] == ["MINE01", "THEIRS"]
    assert charts["top_products"][0]["sku"] == "TOP-1" and charts["top_products"][0]["units"] == 14
    assert charts["payment_success"] == 75.0
    assert charts["cart_conversion"] == 50.0
    # the share as each language writes it: "75.0 %" in English, "%75,0" in Turkish
    admin_client = staff_client(superuser=True)
    page = admin_client.get("/admin/").content.decode()
    assert "75.0 % (3/4)" in page and "50.0 % (1/2)" in page
    turkish = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="tr").content.decode()
    assert "%75,0 (3/4)" in turkish
    assert charts["aging"][2] == "300.00"  # 31-60 days overdue

    manager = staff_client("Sales Manager").user
    customer_assign_sales_rep(customer=theirs, rep=manager, by=None)
    seen = dashboard_charts(user=manager)
    assert [row["customer__code"] for row in seen["top_dealers"]] == ["THEIRS"]
    assert seen["top_products"] == [] and seen["payment_success"] is None
    assert seen["aging"][2] == "300.00"


def test_the_charts_take_a_fixed_number_of_queries(book, staff_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin = staff_client(superuser=True).user

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            dashboard_charts(user=admin)
        return len(queries)

    before = count()
    for customer in (CustomerFactory(), CustomerFactory(), CustomerFactory()):
        make_order(customer)
    assert count() == before <= 7
