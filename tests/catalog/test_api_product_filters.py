"""GET products filters: search, category (with sub-categories), brand, stock, attributes,
ordering; bad values answer 400 naming the parameter."""

from __future__ import annotations

import pytest

from apps.catalog.models import AttributeDefinition
from tests.catalog.factories import (
    AttributeDefinitionFactory,
    BrandFactory,
    CategoryFactory,
    ProductFactory,
    StockLevelFactory,
)

pytestmark = [pytest.mark.django_db]

URL = "/api/v1/products"


@pytest.fixture
def client(dealer_client):
    return dealer_client("viewer")


def skus(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.json()
    return [p["sku"] for p in response.json()["results"]]


# --- category and brand -----------------------------------------------------------------------


@pytest.fixture
def tree():
    electrical = CategoryFactory(name="Electrical")
    cables = CategoryFactory(name="Cables", parent=electrical)
    power = CategoryFactory(name="Power cables", parent=cables)
    tools = CategoryFactory(name="Tools")
    ProductFactory(sku="E-1", name="a", category=electrical)
    ProductFactory(sku="C-1", name="b", category=cables)
    ProductFactory(sku="P-1", name="c", category=power)
    ProductFactory(sku="T-1", name="d", category=tools)
    return {"electrical": electrical, "cables": cables, "power": power, "tools": tools}


def test_category_filter_includes_all_sub_categories(client, tree):
    assert skus(client, category=tree["electrical"].slug) == ["E-1", "C-1", "P-1"]
    assert skus(client, category=tree["cables"].pk) == ["C-1", "P-1"]
    assert skus(client, category=tree["power"].slug) == ["P-1"]
    assert skus(client, category=tree["tools"].pk) == ["T-1"]


def test_category_filter_skips_products_of_inactive_sub_categories(client, tree):
    tree["power"].is_active = False
    tree["power"].save()
    assert skus(client, category=tree["electrical"].slug) == ["E-1", "C-1"]


def test_products_below_a_switched_off_category_are_hidden_at_every_depth(client, tree, settings):
    """ "In an active category" means the whole way up: switching off "Electrical" hides the
    products of "Cables" and "Power cables" too (list, search, filter, detail, pricing), and
    switching it on again brings them back."""
    settings.CATALOG_COUNT_CACHE_SECONDS = 0  # a cached count lags by design
    tree["electrical"].is_active = False
    tree["electrical"].save()

    assert skus(client) == ["T-1"]
    assert skus(client, search="c") == []
    assert client.get(URL, {"category": tree["cables"].slug}).status_code == 400
    assert client.get(f"{URL}/P-1").status_code == 404
    quote = client.post("/api/v1/prices/quote", {"items": [{"sku": "C-1", "quantity": 1}]})
    assert quote.status_code == 400
    assert list(quote.json()["errors"]) == ["items.0.sku"]

    tree["electrical"].is_active = True
    tree["electrical"].save()
    assert skus(client) == ["E-1", "C-1", "P-1", "T-1"]
    assert client.get(f"{URL}/P-1").status_code == 200


def test_a_category_created_below_a_switched_off_one_is_hidden(client, tree):
    tree["cables"].is_active = False
    tree["cables"].save()
    newer = CategoryFactory(name="Signal cables", parent=tree["power"])
    ProductFactory(sku="S-1", category=newer)
    assert "S-1" not in skus(client)
    assert client.get(f"{URL}/S-1").status_code == 404


def test_brand_filter_by_id_or_slug(client):
    abb = BrandFactory(name="ABB", slug="abb")
    legrand = BrandFactory(name="Legrand", slug="legrand")
    ProductFactory(sku="A-1", brand=abb)
    ProductFactory(sku="L-1", brand=legrand)
    ProductFactory(sku="N-1", brand=None)

    assert skus(client, brand="abb") == ["A-1"]
    assert skus(client, brand=legrand.pk) == ["L-1"]


def test_in_stock_filter_uses_available_units(client):
    full = ProductFactory(sku="FULL")
    StockLevelFactory(product=full, on_hand=10, reserved=2)
    reserved = ProductFactory(sku="ALL-RESERVED")
    StockLevelFactory(product=reserved, on_hand=4, reserved=4)
    ProductFactory(sku="NO-STOCK-ROW")

    assert skus(client, in_stock="true") == ["FULL"]
    assert sorted(skus(client, in_stock="false")) == ["ALL-RESERVED", "NO-STOCK-ROW"]


def test_filters_combine(client, tree):
    brand = BrandFactory(name="ABB", slug="abb")
    p = ProductFactory(sku="P-ABB", name="e", category=tree["power"], brand=brand)
    StockLevelFactory(product=p)
    ProductFactory(sku="T-ABB", category=tree["tools"], brand=brand)

    assert skus(client, category=tree["cables"].slug, brand="abb", in_stock="true") == ["P-ABB"]


# --- attributes -------------------------------------------------------------------------------


@pytest.fixture
def lamps():
    lighting = CategoryFactory(name="Lighting")
    led = CategoryFactory(name="LED", parent=lighting)
    AttributeDefinitionFactory(
        category=lighting, code="power_w", type=AttributeDefinition.Type.NUMBER, is_filterable=True
    )
    AttributeDefinitionFactory(
        category=lighting,
        code="dimmable",
        type=AttributeDefinition.Type.BOOLEAN,
        is_filterable=True,
    )
    AttributeDefinitionFactory(
        category=lighting,
        code="socket",
        type=AttributeDefinition.Type.CHOICE,
        choices=["E27", "E14", 12],
        is_filterable=True,
    )
    AttributeDefinitionFactory(
        category=lighting, code="colour", type=AttributeDefinition.Type.TEXT, is_filterable=True
    )
    AttributeDefinitionFactory(category=lighting, code="note", is_filterable=False)
    ProductFactory(
        sku="L-10",
        name="a",
        category=led,
        attributes={"power_w": 10, "dimmable": True, "socket": "E27", "colour": "Warm White"},
    )
    ProductFactory(
        sku="L-9.5",
        name="b",
        category=led,
        attributes={"power_w": 9.5, "dimmable": False, "socket": "E14", "colour": "cool white"},
    )
    ProductFactory(
        sku="L-100",
        name="c",
        category=lighting,
        attributes={"power_w": 100, "socket": 12, "note": "x"},
    )


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"attr_power_w": "10"}, ["L-10"]),
        ({"attr_power_w": "10.0"}, ["L-10"]),  # numbers compare as numbers
        ({"attr_power_w": "9.50"}, ["L-9.5"]),
        ({"attr_power_w": "1"}, []),
        ({"attr_dimmable": "true"}, ["L-10"]),
        ({"attr_dimmable": "false"}, ["L-9.5"]),
        ({"attr_socket": "E14"}, ["L-9.5"]),
        ({"attr_socket": "12"}, ["L-100"]),  # a numeric choice
        ({"attr_colour": "warm white"}, ["L-10"]),  # text: case-insensitive
        ({"attr_power_w": "10", "attr_dimmable": "true"}, ["L-10"]),
        ({"attr_power_w": "10", "attr_dimmable": "false"}, []),
    ],
)
def test_attribute_filters(client, lamps, params, expected):
    assert skus(client, **params) == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"attr_power_w": "ten"}, "attr_power_w"),
        ({"attr_power_w": "NaN"}, "attr_power_w"),
        ({"attr_dimmable": "yes"}, "attr_dimmable"),
        ({"attr_socket": "GU10"}, "attr_socket"),
        ({"attr_note": "x"}, "attr_note"),  # not filterable
        ({"attr_nonexistent": "1"}, "attr_nonexistent"),
        ({"attr_power__w": "1"}, "attr_power__w"),
        ({"attr_": "abc"}, "attr_"),  # no code at all: no such attribute (it was ignored)
        # an exponent made a million-digit integer: 42 s of a worker's CPU, then a 500
        ({"attr_power_w": "1e999999"}, "attr_power_w"),
        ({"attr_power_w": "1E3"}, "attr_power_w"),
        ({"attr_power_w": "9" * 5000}, "attr_power_w"),  # beyond what a value may be
        ({"attr_power_w": "1_0"}, "attr_power_w"),
        ({"attr_power_w": "١٠"}, "attr_power_w"),  # Arabic-Indic digits
    ],
)
def test_bad_attribute_filters_answer_400_naming_them(client, lamps, params, field):
    response = client.get(URL, params)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


# --- search -----------------------------------------------------------------------------------


@pytest.fixture
def searchable():
    schneider = BrandFactory(name="Schneider Electric", slug="schneider")
    legrand = BrandFactory(name="Legrand", slug="legrand")
    ProductFactory(
        sku="LC1D09M7",
        name="TeSys contactor 9A 220V",
        brand=schneider,
        barcodes=["3389110330001"],
    )
    ProductFactory(sku="NYM-325", name="NYM power cable 3x2.5", brand=None)
    ProductFactory(
        sku="LG-77401",
        name="Valena socket outlet white",
        brand=legrand,
        attributes={"colour": "white"},
    )


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("contactor", ["LC1D09M7"]),  # a word of the name
        ("Contactor 220v", ["LC1D09M7"]),  # every word, any case
        ("cont", ["LC1D09M7"]),  # a word prefix, while typing
        ("1D09", ["LC1D09M7"]),  # a fragment of the SKU
        ("lc1d09m7", ["LC1D09M7"]),  # the whole SKU, any case
        ("3389110330001", ["LC1D09M7"]),  # a barcode
        ("9110330", ["LC1D09M7"]),  # part of a barcode
        ("schneider", ["LC1D09M7"]),  # the brand name
        ("schneidr", ["LC1D09M7"]),  # a typo
        ("contacter", ["LC1D09M7"]),  # another typo
        ("3x2.5", ["NYM-325"]),
        ("white", ["LG-77401"]),
        ("nothing-like-it", []),
    ],
)
def test_search(client, searchable, term, expected):
    assert skus(client, search=term) == expected


@pytest.mark.parametrize("term", ["%", "_", "100%", "a'b", "x:* | y", "!", "(", "ö", "--"])
def test_search_with_special_characters_answers_safely(client, term):
    ProductFactory(sku="PCT-100", name="Dimmer 100% range")
    response = client.get(URL, {"search": term})
    assert response.status_code == 200
    if term == "100%":
        assert [p["sku"] for p in response.json()["results"]] == ["PCT-100"]


def test_search_folds_turkish_capitals_dotless_i_and_letters(client):
    """BOĞAZİÇİ, Boğaziçi and bogazici find the same product: Python's lower() has no
    Turkish rules (I never becomes ı, İ keeps a combining dot), and dealers type either."""
    ProductFactory(sku="TR-1", name="Boğaziçi Kablo")
    ProductFactory(sku="TR-2", name="Işık Armatür")
    ProductFactory(sku="TR-3", name="Yıldız Priz")
    for term, expected in (
        ("BOĞAZİÇİ", ["TR-1"]),
        ("bogazici", ["TR-1"]),
        ("Boğaziçi kablo", ["TR-1"]),
        ("ışık", ["TR-2"]),
        ("IŞIK", ["TR-2"]),
        ("isik armatur", ["TR-2"]),
        ("YILDIZ", ["TR-3"]),
        ("yıldız", ["TR-3"]),
    ):
        assert skus(client, search=term) == expected, term


def test_documents_stored_before_folding_are_folded_by_the_migration():
    import importlib

    from django.apps import apps as django_apps
    from django.db import connection

    from apps.catalog.models import Product

    product = ProductFactory(sku="TR-9", name="İstanbul Işık")
    Product.objects.filter(pk=product.pk).update(search_document="tr-9 i\u0307stanbul işık")
    migration = importlib.import_module("apps.catalog.migrations.0006_search_document_folded")
    with connection.schema_editor() as editor:
        migration.fold_documents(django_apps, editor)
    product.refresh_from_db()
    assert product.search_document == "tr-9 istanbul isik"


def test_search_puts_whole_word_matches_first(client):
    ProductFactory(sku="X-1", name="aaa cables tray")
    ProductFactory(sku="X-2", name="zzz cable")

    assert skus(client, search="cable") == ["X-2", "X-1"]
    assert skus(client, search="cable", ordering="name") == ["X-1", "X-2"]
    assert skus(client, search="cable", ordering="-name") == ["X-2", "X-1"]
    assert skus(client, search="cable", ordering="-created_at") == ["X-2", "X-1"]


def test_typos_are_tolerated_only_when_nothing_matches_as_written(client):
    ProductFactory(sku="X-1", name="power cable")
    ProductFactory(sku="X-2", name="cabinet lock")

    assert skus(client, search="cable") == ["X-1"]
    assert skus(client, search="cabel")[0] == "X-1"  # the closest first


def test_typo_search_stays_within_the_other_filters(client, tree):
    ProductFactory(sku="P-2", name="power cable", category=tree["power"])
    ProductFactory(sku="T-2", name="cable cutter", category=tree["tools"])
    ProductFactory(sku="T-3", name="cabel ties", category=tree["tools"])  # written with a typo

    # "cabel" matches T-3 as written, but not in Electrical: there the typo search finds P-2
    assert skus(client, search="cabel", category=tree["electrical"].slug) == ["P-2"]
    assert skus(client, search="cabel", category=tree["tools"].slug) == ["T-3"]


def test_search_works_with_other_filters_and_counts(client, tree):
    ProductFactory(sku="P-2", name="power cable", category=tree["power"])
    ProductFactory(sku="T-2", name="cable cutter", category=tree["tools"])

    body = client.get(URL, {"search": "cable", "category": tree["electrical"].slug}).json()

    assert body["count"] == 1 and [p["sku"] for p in body["results"]] == ["P-2"]


# --- ordering and prices ------------------------------------------------------------------------


def test_ordering(client):
    first = ProductFactory(sku="O-1", name="b")
    ProductFactory(sku="O-2", name="a")
    ProductFactory(sku="O-3", name="c")
    first.save()  # created_at stays: newest is O-3

    assert skus(client) == ["O-2", "O-1", "O-3"]
    assert skus(client, ordering="name") == ["O-2", "O-1", "O-3"]
    assert skus(client, ordering="-name") == ["O-3", "O-1", "O-2"]
    assert skus(client, ordering="-created_at") == ["O-3", "O-2", "O-1"]
    # no product has a price: a price ordering keeps them all, unpriced ones by name
    assert skus(client, ordering="price") == ["O-2", "O-1", "O-3"]


def test_price_range_leaves_out_products_without_a_price(client):
    # prices themselves: tests/pricing/test_product_prices.py
    ProductFactory(sku="P-1")
    assert skus(client, price_min="10.50", price_max="99") == []


# --- bad filters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"category": "no-such-category"}, "category"),
        ({"category": "999999"}, "category"),
        ({"category": "99999999999999999999999"}, "category"),
        ({"brand": "no-such-brand"}, "brand"),
        ({"ordering": "foo"}, "ordering"),
        ({"ordering": "created_at"}, "ordering"),
        ({"in_stock": "maybe"}, "in_stock"),
        ({"price_min": "cheap"}, "price_min"),
        ({"price_max": "Infinity"}, "price_max"),
        # number text Decimal() reads but the API's amounts do not (docs/dealer-api.md)
        ({"price_min": "1e3"}, "price_min"),
        ({"price_min": "1_000"}, "price_min"),
        ({"price_min": ".5"}, "price_min"),
        ({"price_max": "1."}, "price_max"),
        ({"price_min": "\u0665"}, "price_min"),
        ({"price_min": "99999999999999999999"}, "price_min"),
        ({"price_max": "12.34567"}, "price_max"),
        ({"price_min": "10", "price_max": "5"}, "price_max"),
        ({"price_max": "-5"}, "price_max"),  # no price is below zero: it answered 200, none
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "101"}, "page_size"),
        ({"page": "0"}, "page"),
        ({"page": "000"}, "page"),
        ({"search": "x" * 201}, "search"),
        # more digits than Python's int() reads (4,300): a 500
        ({"page_size": "9" * 5000}, "page_size"),
    ],
)
def test_bad_filter_values_answer_400_naming_the_parameter(client, params, field):
    ProductFactory()
    response = client.get(URL, params)
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == [field]


def test_a_page_number_of_thousands_of_digits_is_past_the_last_page(client):
    ProductFactory()
    for page in ("9" * 5000, "9" * 19):
        response = client.get(URL, {"page": page})
        assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_an_inactive_category_is_unknown_to_the_filter(client):
    hidden = CategoryFactory(name="Hidden", is_active=False)
    response = client.get(URL, {"category": hidden.slug})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["category"]
