"""GET campaigns, banners, collections: live now, for this dealer's audience."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.campaigns.models import Banner, Campaign, Collection, CollectionItem
from apps.catalog.models import Product
from apps.catalog.services.categories import category_create

pytestmark = [pytest.mark.django_db]


def make_campaign(name, **kwargs):
    return Campaign.objects.create(
        name=name, discount_type="percentage", discount_value=5, **kwargs
    )


def test_campaigns_for_everyone_my_tier_and_me_only(dealer_client):
    client = dealer_client("viewer", customer__tier="B")
    me = client.user.customer
    make_campaign("all")
    make_campaign("tier B", audience="tiers", tiers=["B"])
    make_campaign("tier A", audience="tiers", tiers=["A"])
    mine = make_campaign("mine", audience="dealers")
    mine.customers.add(me)
    make_campaign("others", audience="dealers")
    make_campaign("ended", ends_at=timezone.now() - timedelta(days=1))
    make_campaign("off", is_active=False)
    names = {c["name"] for c in client.get("/api/v1/campaigns").json()["results"]}
    assert names == {"all", "tier B", "mine"}


def test_banners_and_collections_follow_the_audience(dealer_client):
    client = dealer_client("viewer", customer__tier="C")
    image = SimpleUploadedFile("b.png", b"\x89PNG fake", content_type="image/png")
    Banner.objects.create(title="for C", image=image, audience="tiers", tiers=["C"])
    Banner.objects.create(title="for A", image=image, audience="tiers", tiers=["A"])
    leaf = category_create(name="Garden")
    product = Product.objects.create(sku="G-1", name="Hose", category=leaf)
    hidden = Product.objects.create(sku="G-2", name="Old", category=leaf, is_active=False)
    collection = Collection.objects.create(name="Spring", slug="spring")
    CollectionItem.objects.create(collection=collection, product=product)
    CollectionItem.objects.create(collection=collection, product=hidden, sort_order=1)
    banners = client.get("/api/v1/banners").json()["results"]
    assert [b["title"] for b in banners] == ["for C"]
    assert banners[0]["image_url"].endswith(".png")
    assert banners[0]["image_url"].startswith("http://testserver/")  # as product images' urls
    collections = client.get("/api/v1/collections").json()["results"]
    assert collections == [{**collections[0], "name": "Spring", "skus": ["G-1"]}]


@pytest.mark.parametrize("url", ["/api/v1/campaigns", "/api/v1/banners", "/api/v1/collections"])
def test_marketing_lists_need_a_dealer(api_client, url):
    assert api_client.get(url).status_code == 401


def test_campaign_and_banner_lists_query_count_does_not_grow(dealer_client):
    client = dealer_client("viewer")
    leaf = category_create(name="Tiles")
    image = SimpleUploadedFile("b.png", b"\x89PNG fake", content_type="image/png")
    for n in range(12):
        product = Product.objects.create(sku=f"TI-{n}", name="Tile", category=leaf)
        campaign = make_campaign(f"C{n}", scope="products")
        campaign.products.add(product)
        campaign.categories.add(leaf)
        Banner.objects.create(title=f"B{n}", image=image, link_url="/portal/")
    for url in ("/api/v1/campaigns", "/api/v1/banners"):
        counts = []
        for size in (2, 12):
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(f"{url}?page_size={size}")
            assert response.status_code == 200 and len(response.json()["results"]) == size
            counts.append(len(ctx.captured_queries))
        assert counts[0] == counts[1], url


def test_collection_list_query_count_does_not_grow(dealer_client):
    client = dealer_client("viewer")
    leaf = category_create(name="Paint")
    for n in range(12):
        collection = Collection.objects.create(name=f"C{n}", slug=f"c{n}")
        product = Product.objects.create(sku=f"PA-{n}", name="Paint", category=leaf)
        CollectionItem.objects.create(collection=collection, product=product)
    counts = []
    for size in (2, 12):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/api/v1/collections?page_size={size}").status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
