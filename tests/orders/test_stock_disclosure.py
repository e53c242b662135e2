"""A dealer learns no more about stock than the catalog shows: above STOCK_DISPLAY_CAP (100)
the exact number is hidden, in the 409 ``insufficient_stock`` of an order as in the cart's
per-line problems, and no internal id (``product_id``) is named."""

from __future__ import annotations

import json

import pytest

from apps.orders.models import Order
from tests.orders.conftest import place

pytestmark = [pytest.mark.django_db]


def test_a_short_order_line_shows_the_capped_stock_and_no_internal_id(shop):
    shop.product("BIG-1", stock=260)
    shop.product("FEW-1", stock=2)

    response = place(shop.owner, [("BIG-1", 300), ("FEW-1", 5)])

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "insufficient_stock"
    assert body["lines"] == [
        {"sku": "BIG-1", "requested": 300, "available": 100},  # as the catalog shows it
        {"sku": "FEW-1", "requested": 5, "available": 2},  # below the cap: exact
    ]
    assert "260" not in json.dumps(body) and "product_id" not in json.dumps(body)
    assert not Order.objects.exists()


def test_the_409_shows_what_the_product_list_shows(shop):
    shop.product("BIG-1", stock=260)
    listed = shop.owner.get("/api/v1/products").json()["results"][0]["stock"]["available"]

    short = place(shop.owner, [("BIG-1", 261)]).json()["lines"][0]

    assert short["available"] == listed == 100


def test_the_cap_follows_the_setting(shop, settings):
    settings.STOCK_DISPLAY_CAP = 0  # 0: never hidden
    shop.product("BIG-1", stock=260)
    assert place(shop.owner, [("BIG-1", 300)]).json()["lines"][0]["available"] == 260


def test_a_cart_line_above_the_stock_does_not_tell_the_exact_stock(shop):
    shop.product("BIG-1", stock=260)
    response = shop.owner.post(
        "/api/v1/cart/items", {"sku": "BIG-1", "quantity": 300}, format="json"
    )
    assert response.status_code == 201

    (line,) = shop.owner.get("/api/v1/cart").json()["lines"]

    assert line["stock"]["available"] == 100
    assert [p["code"] for p in line["problems"]] == ["out_of_stock"]
    assert "260" not in json.dumps(line) and "100" in line["problems"][0]["message"]


def test_the_carts_problem_does_not_say_only_the_cap_where_more_would_go(shop):
    """620 free, 5,000 asked: "Only 100 available." led the dealer to order 100."""
    shop.product("BIG-1", stock=620)
    shop.product("FEW-1", stock=2)
    for sku, quantity in (("BIG-1", 5000), ("FEW-1", 5)):
        assert shop.owner.post(
            "/api/v1/cart/items", {"sku": sku, "quantity": quantity}
        ).status_code in (200, 201)
    lines = shop.owner.get("/api/v1/cart", HTTP_ACCEPT_LANGUAGE="en").json()["lines"]
    problems = {line["sku"]: [p["message"] for p in line["problems"]] for line in lines}
    assert problems["BIG-1"] == ["More than 100 available, but fewer than you asked for."]
    assert problems["FEW-1"] == ["Only 2 available."]
    assert "620" not in json.dumps(lines)
