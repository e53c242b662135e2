"""The engine caches price-list rows per list and product in Redis; every change of a price or
a price list invalidates them (rule: "caches what is safe to cache ... with invalidation")."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.catalog.models import Product
from apps.catalog.services.categories import category_create
from apps.pricing.engine import price_resolve_many, prices_bump
from apps.pricing.models import Price, PriceList
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db]

D = Decimal


@pytest.fixture
def priced():
    leaf = category_create(name="Cables")
    lists = {p.code: p for p in PriceList.objects.all()}
    products = [
        Product.objects.create(sku=f"C-{i}", name=f"Cable {i}", category=leaf) for i in range(30)
    ]
    for product in products:
        Price.objects.create(price_list=lists["LIST"], product=product, amount=D("10"))
    return CustomerFactory(tier="A"), products, lists


def unit(customer, product):
    return price_resolve_many(customer=customer, items=[(product, 1)])[0].unit_net


def test_a_warm_page_reads_no_price_list_rows_from_the_database(priced):
    customer, products, _lists = priced
    items = [(p, 1) for p in products]
    with CaptureQueriesContext(connection) as cold:
        price_resolve_many(customer=customer, items=items)
    with CaptureQueriesContext(connection) as warm:
        price_resolve_many(customer=customer, items=items)

    def reads_list_rows(queries):
        return [q for q in queries if 'FROM "pricing_price"' in q["sql"]]

    assert len(reads_list_rows(cold)) == 1
    assert reads_list_rows(warm) == []
    assert len(warm) == 1  # the dealer's special prices (campaigns are cached too)


def test_a_cold_page_reads_its_price_rows_without_touching_the_catalog(priced):
    """The engine's row queries (list prices, special prices) read only the price tables: the
    models' default ordering by product name joined every product, a plan over the whole
    catalog when the planner has no statistics (after a bulk load)."""
    customer, products, _lists = priced
    with CaptureQueriesContext(connection) as cold:
        price_resolve_many(customer=customer, items=[(p, 1) for p in products])
    row_queries = [
        q["sql"]
        for q in cold
        if 'FROM "pricing_price"' in q["sql"] or 'FROM "pricing_specialprice"' in q["sql"]
    ]
    assert len(row_queries) == 2
    assert not [sql for sql in row_queries if "catalog_product" in sql]


def test_saving_a_price_invalidates_the_cached_rows(priced):
    customer, products, lists = priced
    assert unit(customer, products[0]) == D("10.0000")  # cached now
    row = Price.objects.get(product=products[0], price_list=lists["LIST"])
    row.amount = D("12.5")
    row.save()
    assert unit(customer, products[0]) == D("12.5000")
    Price.objects.create(price_list=lists["A"], product=products[0], amount=D("9"))
    assert unit(customer, products[0]) == D("9.0000")
    Price.objects.filter(price_list=lists["A"], product=products[0]).delete()
    assert unit(customer, products[0]) == D("12.5000")


def test_deactivating_a_price_list_invalidates_the_cached_rows(priced):
    customer, products, lists = priced
    Price.objects.create(price_list=lists["A"], product=products[1], amount=D("8"))
    assert unit(customer, products[1]) == D("8.0000")
    lists["A"].is_active = False
    lists["A"].save()
    assert unit(customer, products[1]) == D("10.0000")


def test_bulk_sql_changes_need_prices_bump(priced):
    """Queryset updates send no signals: bulk writers call ``prices_bump`` (the ERP feed, the
    demo). This shows the cache is really used, and that the bump is what refreshes it."""
    customer, products, _lists = priced
    assert unit(customer, products[2]) == D("10.0000")
    Price.objects.filter(product=products[2]).update(amount=D("11"))
    assert unit(customer, products[2]) == D("10.0000")  # still the cached row
    prices_bump()
    assert unit(customer, products[2]) == D("11.0000")


def test_cached_rows_keep_their_validity_window(priced):
    """Rows are cached with their windows and checked at pricing time, so an expired price
    stops applying without any invalidation."""
    from datetime import timedelta

    from django.utils import timezone

    customer, products, lists = priced
    now = timezone.now()
    Price.objects.create(
        price_list=lists["A"], product=products[3], amount=D("7"), valid_to=now + timedelta(hours=1)
    )
    assert unit(customer, products[3]) == D("7.0000")
    later = price_resolve_many(
        customer=customer, items=[(products[3], 1)], at=now + timedelta(hours=2)
    )[0]
    assert later.unit_net == D("10.0000") and later.source == "list"
