"""List endpoints run a constant number of queries, whatever the number of rows."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.orders.models import Order
from tests.catalog.factories import StockLevelFactory, WarehouseFactory
from tests.orders.conftest import place

pytestmark = [pytest.mark.django_db]


def count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries)


def test_orders_list_and_detail_do_not_query_per_order_or_line(shop):
    skus = [shop.product(f"Q-{i}").sku for i in range(6)]
    for _ in range(6):
        place(shop.owner, [(sku, 1) for sku in skus])
    small = count(shop.owner, "/api/v1/orders?page_size=2")
    large = count(shop.owner, "/api/v1/orders?page_size=6")
    assert small == large <= 8
    number = shop.owner.get("/api/v1/orders").json()["results"][0]["number"]
    one_line = place(shop.owner, [(skus[0], 1)]).json()["number"]
    assert count(shop.owner, f"/api/v1/orders/{number}") == count(
        shop.owner, f"/api/v1/orders/{one_line}"
    )


def test_cart_read_does_not_query_per_line(shop):
    skus = [shop.product(f"Q-{i}").sku for i in range(10)]
    shop.owner.post("/api/v1/cart/items", {"sku": skus[0], "quantity": 1}, format="json")
    shop.owner.post("/api/v1/cart/items", {"sku": skus[1], "quantity": 1}, format="json")
    two = count(shop.owner, "/api/v1/cart")
    for sku in skus[2:]:
        shop.owner.post("/api/v1/cart/items", {"sku": sku, "quantity": 1}, format="json")
    assert count(shop.owner, "/api/v1/cart") == two <= 8


# --- placement ----------------------------------------------------------------------------------

PLACEMENT_MAX_QUERIES = 25


def _two_warehouse_products(shop, prefix: str, count: int, ank) -> list[str]:
    """``count`` new products (cold price cache), 2 units in IST (preferred) and 50 in ANK:
    a line of 3 draws from both warehouses."""
    skus = []
    for i in range(count):
        product = shop.product(f"{prefix}-{i:02d}", stock=2)
        StockLevelFactory(product=product, warehouse=ank, on_hand=50)
        skus.append(product.sku)
    return skus


def _placement_queries(shop, skus, assert_max_queries) -> list[str]:
    with assert_max_queries(PLACEMENT_MAX_QUERIES) as queries:
        response = place(shop.owner, [(sku, 3) for sku in skus])
    assert response.status_code == 201, response.content
    assert len(response.json()["lines"]) == len(skus)
    return [query["sql"] for query in queries.captured_queries]


def test_placement_runs_the_same_queries_for_1_and_20_lines(shop, django_assert_max_num_queries):
    """One order of 1 line and one of 20 (different products, each line split over two
    warehouses) cost the same queries, at most PLACEMENT_MAX_QUERIES, SAVEPOINTs included:
    prices resolved once for the order (at most one read of the prices, one of the special
    prices),
    the stock levels of all lines locked in one statement and saved in one."""
    ank = WarehouseFactory(code="ANK", sort_order=10)
    warm = _two_warehouse_products(shop, "W", 1, ank)
    place(shop.owner, [(warm[0], 1)])  # the live-campaign cache and the user's permissions
    at_most = django_assert_max_num_queries
    one = _placement_queries(shop, _two_warehouse_products(shop, "ONE", 1, ank), at_most)
    twenty = _placement_queries(shop, _two_warehouse_products(shop, "TWENTY", 20, ank), at_most)

    assert len(one) == len(twenty), "\n".join(twenty)
    for queries in (one, twenty):
        # priced once for the order, not per line
        assert sum('FROM "pricing_price"' in sql for sql in queries) <= 1
        assert sum('FROM "pricing_specialprice"' in sql for sql in queries) <= 1
        locks = [sql for sql in queries if "FOR UPDATE" in sql]
        stock_locks = [sql for sql in locks if 'FROM "inventory_stocklevel"' in sql]
        assert len(stock_locks) == 1  # every line's stock levels in one statement
        assert 'ORDER BY "inventory_stocklevel"."product_id" ASC' in stock_locks[0]
        assert 'FOR UPDATE OF "inventory_stocklevel"' in stock_locks[0]  # not the warehouses
        updates = [sql for sql in queries if sql.startswith("UPDATE") and "stocklevel" in sql]
        assert len(updates) == 1
        assert sum(sql.startswith('INSERT INTO "inventory_stockmovement"') for sql in queries) == 1


def test_the_placement_answer_is_the_order_as_read_back(shop):
    """The 201 body is built from the order as placed, without reading it again: it is the
    same as ``GET /orders/{number}``, field for field."""
    ank = WarehouseFactory(code="ANK", sort_order=10)
    skus = _two_warehouse_products(shop, "SAME", 3, ank)
    response = place(shop.owner, [(sku, q) for sku, q in zip(skus, (1, 3, 7), strict=True)])
    assert response.status_code == 201, response.content
    placed = response.json()
    assert placed == shop.owner.get(f"/api/v1/orders/{placed['number']}").json()


def test_the_placed_order_is_audited_without_reading_the_quote_table(shop):
    """django-auditlog's entry of a new order reads every relation of the order: a new order
    has no quote pointing at it yet, so that costs no query, and the entry is the same (the
    quote is not among the changes, as with an order placed from a quote before its link)."""
    sku = shop.product("AUD-1").sku
    place(shop.owner, [(sku, 1)])  # the live-campaign cache and the user's permissions
    with CaptureQueriesContext(connection) as queries:
        response = place(shop.owner, [(sku, 2)])
    assert response.status_code == 201, response.content
    assert not [q["sql"] for q in queries.captured_queries if '"quotes_quote"' in q["sql"]]
    order = Order.objects.get(number=response.json()["number"])
    entry = LogEntry.objects.get_for_object(order).get()
    assert entry.action == LogEntry.Action.CREATE
    assert entry.actor_id == shop.owner.user.pk
    assert entry.changes_dict["number"] == ["None", order.number]
    assert entry.changes_dict["status"] == ["None", "confirmed"]
    assert "quote" not in entry.changes_dict
