"""The portal's catalog filters: the category tree (a category includes its sub-categories),
brand, the category's filterable attributes, in stock, the dealer's price range and ordering,
all through the API's ``ProductFilter``; bad values are shown next to their field, never a
500."""

from __future__ import annotations

import re

import pytest

from apps.catalog.models import AttributeDefinition
from tests.catalog.factories import AttributeDefinitionFactory, BrandFactory, CategoryFactory
from tests.portal.test_portal import browser

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def shop(dealer_client):
    from tests.orders.conftest import Shop

    shop = Shop(dealer_client)
    shop.electric = CategoryFactory(name="Elektrik")
    shop.cables = CategoryFactory(name="Kablolar", parent=shop.electric)
    shop.tools = CategoryFactory(name="El aletleri")
    AttributeDefinitionFactory(
        category=shop.electric,
        code="renk",
        name="Renk",
        type=AttributeDefinition.Type.CHOICE,
        choices=["siyah", "beyaz"],
        is_filterable=True,
    )
    AttributeDefinitionFactory(category=shop.electric, code="not", name="Not")  # not filterable
    acme, other = BrandFactory(name="Acme"), BrandFactory(name="Öteki")
    shop.product("K-1", price="30", category=shop.cables, brand=acme, attributes={"renk": "siyah"})
    shop.product("K-2", price="20", category=shop.cables, brand=other, attributes={"renk": "beyaz"})
    shop.product("E-1", price="50", category=shop.electric, brand=acme, stock=0)
    shop.product("T-1", price="10", category=shop.tools, brand=other)
    return shop


def skus(page: str) -> list[str]:
    return re.findall(r'<input type="hidden" name="sku" value="([^"]+)">', page)


def test_the_category_tree_filters_with_its_sub_categories(shop):
    client, _user = browser(shop)
    page = client.get("/portal/catalog/").content.decode()
    assert "Kablolar" in page and "El aletleri" in page  # the tree, nested
    assert sorted(skus(page)) == ["E-1", "K-1", "K-2", "T-1"]
    page = client.get("/portal/catalog/?category=elektrik").content.decode()
    assert sorted(skus(page)) == ["E-1", "K-1", "K-2"]
    assert 'aria-current="true">Elektrik</a>' in page
    page = client.get("/portal/catalog/?category=elektrik-kablolar").content.decode()
    assert sorted(skus(page)) == ["K-1", "K-2"]


def test_brand_attribute_stock_price_and_ordering_filters(shop):
    client, _user = browser(shop)
    page = client.get("/portal/catalog/?category=elektrik-kablolar").content.decode()
    assert 'name="attr_renk"' in page and 'name="attr_not"' not in page  # inherited, filterable
    page = client.get(
        "/portal/catalog/?category=elektrik-kablolar&attr_renk=beyaz"
    ).content.decode()
    assert skus(page) == ["K-2"]
    page = client.get("/portal/catalog/?brand=acme").content.decode()
    assert sorted(skus(page)) == ["E-1", "K-1"]
    page = client.get("/portal/catalog/?in_stock=true&brand=acme").content.decode()
    assert skus(page) == ["K-1"]
    page = client.get("/portal/catalog/?price_min=15&price_max=35&ordering=-price")
    assert skus(page.content.decode()) == ["K-1", "K-2"]
    page = client.get("/portal/catalog/?ordering=price").content.decode()
    assert skus(page) == ["T-1", "K-2", "K-1", "E-1"]


@pytest.mark.parametrize(
    "query",
    [
        "price_min=abc",
        "price_min=50&price_max=10",
        "category=nope",
        "brand=nope",
        "category=elektrik-kablolar&attr_renk=mor",
        "attr_nope=1",
        "ordering=sideways",
        "in_stock=maybe",
    ],
)
def test_bad_filters_are_explained_not_a_500(shop, query):
    client, _user = browser(shop)
    response = client.get(f"/portal/catalog/?{query}")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Bu filtreler geçerli değil." in page and skus(page) == []


@pytest.mark.parametrize(
    ("query", "label"),
    [
        ("search=" + "x" * 201, "Arama metni: "),
        ("ordering=sideways", "Sırala: "),
        ("category=nope", "Kategori: "),
        ("in_stock=maybe", "Yalnızca stoktakiler: "),
        ("attr_nope=1", "nope: "),
        ("category=elektrik-kablolar&attr_renk=mor", "renk: "),
    ],
)
def test_a_bad_filter_without_a_field_of_its_own_is_named_with_its_message(shop, query, label):
    """The page said only "these filters are not valid": a long pasted search, say, left the
    dealer guessing which."""
    client, _user = browser(shop)
    page = client.get(f"/portal/catalog/?{query}").content.decode()
    assert "Bu filtreler geçerli değil." in page and label in page


def test_a_search_pasted_with_tabs_and_line_breaks_reads_them_as_spaces(shop):
    """Text pasted from a spreadsheet: a one-line field refuses tabs, a search box takes
    them as the spaces they stand for."""
    client, _user = browser(shop)
    page = client.get("/portal/catalog/", {"search": "kablo\t3x2,5\r\n"}).content.decode()
    assert "Bu filtreler geçerli değil." not in page


def test_a_filtered_catalog_page_stays_within_its_query_budget(shop, django_assert_max_num_queries):
    """A category with an attribute filter adds the category's lookup and its attribute
    definitions to the plain page's queries."""
    client, _user = browser(shop)
    url = "/portal/catalog/?category=elektrik&attr_renk=siyah&brand=acme"
    client.get(url)
    with django_assert_max_num_queries(10):
        page = client.get(url).content.decode()
    assert skus(page) == ["K-1"]


def test_the_search_and_quick_order_boxes_take_no_more_than_the_server_reads(shop):
    """A search of 9,000 characters outgrew the request line gunicorn reads (a 414 in the API's
    JSON, not a portal page); the browser stops at what the catalog and a SKU hold."""
    client, _user = browser(shop)
    catalog = client.get("/portal/catalog/").content.decode()
    assert re.search(r'<input id="search" name="search" type="search" maxlength="200"', catalog)
    quick = client.get("/portal/quick-order/").content.decode()
    assert 'name="sku" list="sku-options" maxlength="64"' in quick
