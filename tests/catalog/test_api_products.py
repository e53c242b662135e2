"""GET products and products/{sku}: shape, visibility, stock display, query counts, ETag, gzip."""

from __future__ import annotations

import gzip
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.catalog.models import Product
from apps.pricing.models import Price, PriceList
from tests.catalog.factories import (
    BrandFactory,
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
    StockLevelFactory,
    WarehouseFactory,
)

pytestmark = [pytest.mark.django_db]

URL = "/api/v1/products"


@pytest.fixture
def client(dealer_client):
    return dealer_client("viewer")


def test_product_list_item_has_the_documented_shape(client):
    category = CategoryFactory(name="Cables")
    brand = BrandFactory(name="Öznur Kablo", slug="oznur-kablo")
    product = ProductFactory(
        sku="NYM-3X2.5",
        name="NYM cable 3x2.5",
        brand=brand,
        category=category,
        unit="meter",
        vat_rate=20,
        min_order_quantity=100,
        order_multiple=50,
        attributes={"cross_section": 2.5, "colour": "grey"},
    )
    ProductImageFactory(product=product, image="products/nym/side.jpg", sort_order=2)
    ProductImageFactory(
        product=product, image="products/nym/front.jpg", alt_text="Front", is_primary=True
    )
    StockLevelFactory(product=product, on_hand=40, reserved=5)

    response = client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1 and body["next"] is None and body["previous"] is None
    assert body["results"] == [
        {
            "sku": "NYM-3X2.5",
            "name": "NYM cable 3x2.5",
            "brand": {"id": brand.pk, "name": "Öznur Kablo"},
            "category": {"id": category.pk, "name": "Cables", "slug": category.slug},
            "unit": "meter",
            "vat_rate": 20,
            "min_order_quantity": 100,
            "order_multiple": 50,
            "attributes": {"cross_section": 2.5, "colour": "grey"},
            "images": [
                {
                    "url": "http://testserver/media/products/nym/front.jpg",
                    "thumbnail_url": "http://testserver/media/products/nym/front.jpg",
                    "alt_text": "Front",
                    "is_primary": True,
                },
                {
                    "url": "http://testserver/media/products/nym/side.jpg",
                    "thumbnail_url": "http://testserver/media/products/nym/side.jpg",
                    "alt_text": product.name,
                    "is_primary": False,
                },
            ],
            "price": None,
            "stock": {"available": 35, "status": "in_stock"},
        }
    ]


def test_product_without_brand_shows_null_brand(client):
    ProductFactory(brand=None)
    assert client.get(URL).json()["results"][0]["brand"] is None


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        ([], {"available": 0, "status": "out_of_stock"}),
        ([(5, 5)], {"available": 0, "status": "out_of_stock"}),
        ([(4, 0), (5, 1)], {"available": 8, "status": "low_stock"}),
        ([(60, 0), (60, 10)], {"available": 100, "status": "in_stock"}),  # 110, capped
    ],
)
def test_stock_adds_up_active_warehouses_and_shows_the_display_rules(client, levels, expected):
    product = ProductFactory()
    for n, (on_hand, reserved) in enumerate(levels):
        StockLevelFactory(
            product=product,
            warehouse=WarehouseFactory(code=f"W{n}"),
            on_hand=on_hand,
            reserved=reserved,
        )
    StockLevelFactory(product=product, warehouse=WarehouseFactory(code="OLD", is_active=False))

    assert client.get(URL).json()["results"][0]["stock"] == expected
    assert client.get(f"{URL}/{product.sku}").json()["stock"] == expected


def test_stock_display_settings_apply(client, settings):
    settings.LOW_STOCK_THRESHOLD = 50
    settings.STOCK_DISPLAY_CAP = 0  # never hide the number
    product = ProductFactory()
    StockLevelFactory(product=product, on_hand=30)
    other = ProductFactory()
    StockLevelFactory(product=other, on_hand=5000)

    stocks = {p["sku"]: p["stock"] for p in client.get(URL).json()["results"]}

    assert stocks[product.sku] == {"available": 30, "status": "low_stock"}
    assert stocks[other.sku] == {"available": 5000, "status": "in_stock"}


def make_invisible_products():
    hidden_category = CategoryFactory(name="Discontinued", is_active=False)
    inactive = ProductFactory(sku="INACTIVE-1", is_active=False)
    deleted = ProductFactory(sku="DELETED-1")
    deleted.is_deleted = True
    deleted.deleted_at = timezone.now()
    deleted.save()
    in_hidden = ProductFactory(sku="HIDDENCAT-1", category=hidden_category)
    return [inactive, deleted, in_hidden]


def test_invisible_products_are_absent_from_the_list(client):
    visible = ProductFactory(sku="VISIBLE-1")
    make_invisible_products()

    body = client.get(URL).json()

    assert [p["sku"] for p in body["results"]] == [visible.sku]
    assert body["count"] == 1
    assert client.get(URL, {"search": "product"}).json()["count"] == 1


@pytest.mark.parametrize("sku", ["INACTIVE-1", "DELETED-1", "HIDDENCAT-1", "NO-SUCH-SKU"])
def test_invisible_or_unknown_product_answers_404_by_sku(client, sku):
    make_invisible_products()

    response = client.get(f"{URL}/{sku}")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_product_detail_has_the_item_fields_and_more(client):
    product = ProductFactory(
        sku="CB-16A",
        name="Circuit breaker 16A",
        description="B curve, 6 kA.",
        barcodes=["8690000000016"],
        serial_tracked=True,
    )
    StockLevelFactory(product=product, on_hand=3)

    response = client.get(f"{URL}/CB-16A")

    assert response.status_code == 200
    detail = response.json()
    item = client.get(URL).json()["results"][0]
    assert {key: detail[key] for key in item} == item
    assert detail["description"] == "B curve, 6 kA."
    assert detail["barcodes"] == ["8690000000016"]
    assert detail["serial_tracked"] is True
    assert detail["price"] is None
    assert detail["price_breaks"] == []
    assert detail["stock"] == {"available": 3, "status": "low_stock"}


def test_sku_with_dots_and_spaces_is_found(client):
    ProductFactory(sku="AB 12.5")
    assert client.get(f"{URL}/AB%2012.5").status_code == 200


def test_products_are_ordered_by_name_by_default(client):
    for name in ["beta", "gamma", "alpha"]:
        ProductFactory(name=name)
    assert [p["name"] for p in client.get(URL).json()["results"]] == ["alpha", "beta", "gamma"]


# --- query counts -----------------------------------------------------------------------------


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), len(response.json()["results"])


def make_catalogue(n):
    brands = [BrandFactory(name=f"Brand {i}") for i in range(3)]
    root = CategoryFactory(name="Root")
    leaf = CategoryFactory(name="Leaf", parent=root)
    warehouses = [WarehouseFactory(code="A"), WarehouseFactory(code="B")]
    for i in range(n):
        product = ProductFactory(
            name=f"Widget {i:03d}",
            brand=brands[i % 3] if i % 4 else None,
            category=leaf if i % 2 else root,
            attributes={"size": i % 5},
        )
        ProductImageFactory(product=product, is_primary=True)
        ProductImageFactory(product=product)
        for warehouse in warehouses:
            StockLevelFactory(product=product, warehouse=warehouse, on_hand=i % 7)
        Price.objects.create(
            price_list=PriceList.objects.get(code="LIST"), product=product, amount=i + 1
        )
    return root, brands


@pytest.mark.parametrize(
    "query",
    [
        "",
        "&category=root&brand=brand-1&in_stock=true&ordering=-created_at&search=widget",
        "&attr_size=3&price_min=1&price_max=500&ordering=-price",
        "&ordering=price",
        "&ordering=-price&category=root",
        "&price_min=10&price_max=90",
        "&price_min=10&ordering=price&search=widget",
    ],
)
def test_product_list_query_count_does_not_grow_with_the_page(
    frozen_window, client, query, settings
):
    """SQL per page is constant: the page's ids first (from the price index when ordered or
    filtered by price), then only those rows loaded, at page sizes 10, 50 and 100. (The clock
    stands still: the dealer's price exceptions are cached per minute, and a slow machine
    crossing a minute between the requests would count their query again.)"""
    from tests.catalog.factories import AttributeDefinitionFactory

    settings.CATALOG_COUNT_CACHE_SECONDS = 0  # count every time: all the SQL is measured

    root, _ = make_catalogue(120)
    AttributeDefinitionFactory(category=root, code="size", type="number", is_filterable=True)

    # steady state: the campaigns and these products' price rows are in the engine's cache
    client.get(f"{URL}?page_size=100{query}")
    small, small_n = count_queries(client, f"{URL}?page_size=10{query}")
    middle, middle_n = count_queries(client, f"{URL}?page_size=50{query}")
    large, large_n = count_queries(client, f"{URL}?page_size=100{query}")

    assert small_n == 10 and middle_n > 10 and large_n >= middle_n
    assert small == middle == large
    assert large <= 10


def test_product_detail_query_count_is_small(client):
    make_catalogue(3)
    sku = Product.objects.first().sku
    client.get(f"{URL}/{sku}")  # warm the cached campaigns
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"{URL}/{sku}").status_code == 200
    # authentication, product, images; the price (prices, special prices) and the price
    # breaks (prices, special prices again)
    assert len(ctx.captured_queries) <= 7


# --- ETag, gzip, authentication ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["", "/ETAG-1"])
def test_etag_answers_304_without_a_body_while_unchanged(client, path):
    ProductFactory(sku="ETAG-1")
    first = client.get(URL + path)
    etag = first["ETag"]
    assert etag

    again = client.get(URL + path, HTTP_IF_NONE_MATCH=etag)
    strong = client.get(URL + path, HTTP_IF_NONE_MATCH=etag.removeprefix("W/"))
    other = client.get(URL + path, HTTP_IF_NONE_MATCH='"something-else"')
    zipped = client.get(URL + path, HTTP_ACCEPT_ENCODING="gzip")

    assert again.status_code == 304 and again.content == b""
    # one tag, weak, whatever the encoding: a 304 said "abc" where the gzipped 200 said W/"abc"
    assert etag.startswith('W/"') and again["ETag"] == etag == zipped["ETag"]
    assert strong.status_code == 304
    assert other.status_code == 200 and other["ETag"] == etag
    assert "private" in first["Cache-Control"]


@pytest.mark.parametrize("path", ["", "/ETAG-1"])
def test_etag_changes_when_the_product_changes(client, path):
    product = ProductFactory(sku="ETAG-1", name="Old name")
    etag = client.get(URL + path)["ETag"]

    product.name = "New name"
    product.save()
    changed = client.get(URL + path, HTTP_IF_NONE_MATCH=etag)

    assert changed.status_code == 200
    assert changed["ETag"] != etag
    StockLevelFactory(product=product, on_hand=9)  # stock is part of what a dealer sees
    assert client.get(URL + path, HTTP_IF_NONE_MATCH=changed["ETag"]).status_code == 200


def test_a_large_list_comes_back_gzipped(client):
    make_catalogue(60)

    response = client.get(f"{URL}?page_size=50", HTTP_ACCEPT_ENCODING="gzip")

    assert response["Content-Encoding"] == "gzip"
    body = json.loads(gzip.decompress(response.content))
    assert len(body["results"]) == 50
    assert len(response.content) < len(json.dumps(body)) / 3


@pytest.mark.parametrize("path", ["", "/ANY-SKU"])
def test_products_need_a_dealer_login(api_client, path):
    ProductFactory(sku="ANY-SKU")
    response = api_client.get(URL + path)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_the_count_is_cached_per_filters_for_a_few_seconds(client, settings):
    settings.CATALOG_COUNT_CACHE_SECONDS = 30
    make_catalogue(12)

    def counted(url) -> bool:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return any("COUNT(*)" in q["sql"] for q in ctx.captured_queries)

    assert counted(f"{URL}?page_size=2&brand=brand-1")
    assert not counted(f"{URL}?page_size=2&brand=brand-1&ordering=-name&page=2")  # cached
    assert counted(f"{URL}?page_size=5&brand=brand-2")  # other filters: counted
    body = client.get(f"{URL}?page_size=5&brand=brand-1").json()
    assert body["count"] == Product.objects.filter(brand__slug="brand-1").count()
