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
from apps.backoffice.selectors import sales_figures, work_queues
from apps.orders.models import Order
from apps.quotes.models import Quote
from tests.factories import CustomerFactory
from tests.finance.helpers import make_order

pytestmark = [pytest.mark.django_db]


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


def test_the_queue_counts_take_one_query_each(book, staff_client, django_assert_num_queries):
    admin = staff_client(superuser=True).user
    with django_assert_num_queries(6):
        work_queues(user=admin, use_cache=False)
    for customer in (CustomerFactory(), CustomerFactory()):
        make_order(customer, status="awaiting_credit_approval")
    with django_assert_num_queries(6):
        work_queues(user=admin, use_cache=False)
    with django_assert_num_queries(1):
        sales_figures(user=admin)
