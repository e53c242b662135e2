"""DESIGN.md, "One price engine computes this for the catalog, the cart, the quote endpoint and
order placement": one dealer, one product, one quantity read the same unit price and source on
every surface: the catalog list (quantity 1), the product's price breaks, ``prices/quote``,
the cart and the order placed from it, through tier prices, quantity breaks, a special price
and campaigns that do or do not apply to special prices."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.campaigns.models import Campaign
from apps.pricing.models import Price, SpecialPrice
from tests.orders.conftest import Shop, place

pytestmark = [pytest.mark.django_db]

D = Decimal


@pytest.fixture
def shop(dealer_client):
    shop = Shop(dealer_client)  # a tier B dealer
    tiered = shop.product("T-1", price="100", stock=100)
    Price.objects.create(price_list=shop.lists["B"], product=tiered, amount=D("80"))
    Price.objects.create(
        price_list=shop.lists["B"], product=tiered, amount=D("70"), min_quantity=10
    )
    special = shop.product("S-1", price="50", stock=100)
    for amount, minimum in (("40", 1), ("35", 5)):
        SpecialPrice.objects.create(
            customer=shop.customer, product=special, amount=D(amount), min_quantity=minimum
        )
    # 10 % for tier B on everything, not on special prices; 2.00 off S-1, special prices too
    Campaign.objects.create(
        name="Tier B",
        discount_type="percentage",
        discount_value=D("10"),
        audience="tiers",
        tiers=["B"],
    )
    specials = Campaign.objects.create(
        name="S-1 days",
        discount_type="fixed",
        discount_value=D("2"),
        scope="products",
        applies_to_special_prices=True,
    )
    specials.products.add(special)
    return shop


# what DESIGN.md's rule gives, worked out by hand: (unit net, source)
EXPECTED = {
    ("T-1", 1): ("72.0000", "tier:B"),  # 80 less 10 %
    ("T-1", 10): ("63.0000", "tier:B"),  # the break from 10: 70 less 10 %
    ("S-1", 1): ("38.0000", "special"),  # 40 less 2.00 (the tier campaign skips specials)
    ("S-1", 5): ("33.0000", "special"),  # the break from 5: 35 less 2.00
}


def _break_at(breaks: list[dict], quantity: int) -> str:
    return [b["unit_net"] for b in breaks if b["min_quantity"] <= quantity][-1]


@pytest.mark.parametrize(("sku", "quantity"), list(EXPECTED))
def test_the_catalog_the_quote_the_cart_and_the_order_read_one_price(shop, sku, quantity):
    client = shop.owner
    unit, source = EXPECTED[(sku, quantity)]

    listed = {p["sku"]: p["price"] for p in client.get("/api/v1/products").json()["results"]}
    if quantity == 1:
        assert (listed[sku]["unit_net"], listed[sku]["source"]) == (unit, source)
    detail = client.get(f"/api/v1/products/{sku}").json()
    assert _break_at(detail["price_breaks"], quantity) == unit

    quoted = client.post(
        "/api/v1/prices/quote", {"items": [{"sku": sku, "quantity": quantity}]}, format="json"
    ).json()["lines"][0]
    assert (quoted["unit_net"], quoted["price"]["source"]) == (unit, source)

    added = client.post("/api/v1/cart/items", {"sku": sku, "quantity": quantity}, format="json")
    assert added.status_code == 201, added.json()
    (line,) = client.get("/api/v1/cart").json()["lines"]
    assert (line["price"]["unit_net"], line["price"]["source"]) == (unit, source)

    placed = place(client)  # from the cart
    assert placed.status_code == 201, placed.json()
    (ordered,) = placed.json()["lines"]
    assert (ordered["unit_net"], ordered["source"]) == (unit, source)
    assert ordered["line_net"] == f"{D(unit) * quantity:.2f}"
