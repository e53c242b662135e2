"""Prices on GET products and products/{sku}: the engine's price for the caller's company,
price breaks, and price filters and ordering done in the database."""

from decimal import Decimal

import pytest

from apps.campaigns.models import Campaign
from apps.catalog.models import Product
from apps.catalog.services.categories import category_create
from apps.pricing.models import Price, PriceList, SpecialPrice

pytestmark = [pytest.mark.django_db]

D = Decimal


@pytest.fixture
def shop(dealer_client):
    client = dealer_client("viewer", customer__tier="A")
    leaf = category_create(name="Bulbs")
    lists = {p.code: p for p in PriceList.objects.all()}
    made = {}
    for sku, list_price in (("B-1", "30"), ("B-2", "10"), ("B-3", "20"), ("B-4", None)):
        product = Product.objects.create(sku=sku, name=f"Bulb {sku}", category=leaf)
        if list_price:
            Price.objects.create(price_list=lists["LIST"], product=product, amount=D(list_price))
        made[sku] = product
    Price.objects.create(price_list=lists["A"], product=made["B-1"], amount=D("5"))
    Price.objects.create(price_list=lists["A"], product=made["B-1"], amount=D("4"), min_quantity=10)
    SpecialPrice.objects.create(
        customer=client.user.customer, product=made["B-3"], amount=D("15"), min_quantity=1
    )
    return client, made


def prices(client, query=""):
    body = client.get(f"/api/v1/products?page_size=50{query}").json()
    return {p["sku"]: p["price"] for p in body["results"]}


def test_each_product_carries_this_dealers_price(shop):
    client, _ = shop
    listed = prices(client)
    assert listed["B-1"]["source"] == "tier:A" and listed["B-1"]["unit_net"] == "5.0000"
    assert listed["B-1"]["list"] == "30.0000" and listed["B-1"]["unit_gross"] == "6.0000"
    assert listed["B-2"]["source"] == "list"
    assert listed["B-3"]["source"] == "special" and listed["B-3"]["unit_net"] == "15.0000"
    assert listed["B-4"] is None  # no LIST price: not sellable


def test_another_dealer_sees_its_own_prices(shop, dealer_client):
    other = dealer_client("viewer", customer__tier="C")
    listed = prices(other)
    assert listed["B-1"]["source"] == "list" and listed["B-3"]["source"] == "list"


def test_a_campaign_shows_in_the_price(shop):
    client, _ = shop
    campaign = Campaign.objects.create(
        name="Autumn", discount_type="percentage", discount_value=D("10")
    )
    listed = prices(client)
    assert listed["B-2"]["campaign"] == {"id": campaign.id, "name": "Autumn"}
    assert listed["B-2"]["unit_net"] == "9.0000" and listed["B-2"]["discount"] == "1.0000"


def test_detail_has_the_dealers_price_breaks(shop):
    client, _ = shop
    body = client.get("/api/v1/products/B-1").json()
    assert body["price"]["unit_net"] == "5.0000"
    assert [(b["min_quantity"], b["unit_net"]) for b in body["price_breaks"]] == [
        (1, "5.0000"),
        (10, "4.0000"),
    ]


def test_ordering_by_price_uses_the_dealers_price_with_unpriced_last(shop):
    client, _ = shop
    ascending = list(prices(client, "&ordering=price"))
    descending = list(prices(client, "&ordering=-price"))
    assert ascending == ["B-1", "B-2", "B-3", "B-4"]  # 5 (tier), 10 (list), 15 (special), none
    assert descending == ["B-3", "B-2", "B-1", "B-4"]


def test_price_min_and_max_filter_on_the_dealers_price(shop):
    client, _ = shop
    assert set(prices(client, "&price_min=6&price_max=15")) == {"B-2", "B-3"}
    assert set(prices(client, "&price_max=5")) == {"B-1"}


def test_price_min_above_max_answers_400(shop):
    client, _ = shop
    response = client.get("/api/v1/products?price_min=10&price_max=1")
    assert response.status_code == 400
    assert "price_max" in response.json()["errors"]
