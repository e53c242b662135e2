"""List endpoints run a constant number of queries, whatever the number of rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

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
