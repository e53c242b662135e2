"""The demo's prices show every screen something: each dealer, whatever its tier, sees a
quantity break on a product page, and a few products have a price history."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from apps.accounts.models import User
from apps.catalog.models import Product
from apps.pricing.models import Price, PriceChange

pytestmark = [pytest.mark.django_db]


def test_every_tier_sees_a_carton_break_and_some_products_have_a_price_history(api_client):
    call_command("seed_demo", "--products", "40", "--dealers", "4", stdout=StringIO())

    for code in ("DEMO001", "DEMO002", "DEMO003"):  # tiers A, B and C
        api_client.force_authenticate(User.objects.get(email=f"owner@{code.lower()}.example.com"))
        item = api_client.get("/api/v1/products", {"page_size": 1}).json()["results"][0]
        breaks = api_client.get(f"/api/v1/products/{item['sku']}").json()["price_breaks"]
        assert len(breaks) >= 2, (code, breaks)
        assert breaks[1]["min_quantity"] >= 10

    # a break a dealer can order: 4 times the minimum order, in the product's multiple
    # (a product sold by 25 from 25 got its break at 2,500 units)
    for product in Product.objects.filter(sku__startswith="DEMO-"):
        minimum, multiple = max(product.min_order_quantity, 1), max(product.order_multiple, 1)
        top = Price.objects.filter(product=product, price_list__code="LIST")
        carton = max(top.values_list("min_quantity", flat=True))
        assert carton % multiple == 0, (product.sku, carton, multiple)
        assert max(10, minimum * 4) <= carton < max(10, minimum * 4) + multiple, product.sku

    history = PriceChange.objects.filter(reference__in=("batch:demo", "batch:demo-2"))
    assert history.count() == 24
    assert all(change.new_amount for change in history)


def test_the_demo_collections_reach_their_audience(api_client):
    call_command("seed_demo", "--products", "40", "--dealers", "4", stdout=StringIO())

    def names(code: str) -> list[str]:
        api_client.force_authenticate(User.objects.get(email=f"owner@{code.lower()}.example.com"))
        return [c["name"] for c in api_client.get("/api/v1/collections").json()["results"]]

    assert len(names("DEMO001")) == 2  # tier A: both
    assert names("DEMO002") == ["Demo: sezonun çok satanları"]  # tier B: the one for everyone
