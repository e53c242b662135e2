"""POST prices/quote: every line priced by the engine with totals; bad lines -> 400 per line."""

from decimal import Decimal

import pytest

from apps.catalog.models import Product
from apps.catalog.services.categories import category_create
from apps.pricing.models import Price, PriceList

pytestmark = [pytest.mark.django_db]

URL = "/api/v1/prices/quote"


@pytest.fixture
def products():
    leaf = category_create(name="Tools")
    lists = {p.code: p for p in PriceList.objects.all()}
    drill = Product.objects.create(sku="DRL", name="Drill", category=leaf, vat_rate=20)
    bits = Product.objects.create(
        sku="BIT",
        name="Bits",
        category=leaf,
        vat_rate=10,
        min_order_quantity=10,
        order_multiple=5,
    )
    Product.objects.create(sku="NOPRICE", name="No price", category=leaf)
    Product.objects.create(sku="OFF", name="Inactive", category=leaf, is_active=False)
    Price.objects.create(price_list=lists["LIST"], product=drill, amount=Decimal("199.9950"))
    Price.objects.create(price_list=lists["LIST"], product=bits, amount=Decimal("3.3333"))
    return drill, bits


def test_quote_prices_every_line_with_totals(dealer_client, products):
    client = dealer_client("purchasing")
    response = client.post(
        URL,
        {"items": [{"sku": "DRL", "quantity": 3}, {"sku": "BIT", "quantity": 15}]},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    drill, bits = body["lines"]
    assert drill["line_net"] == "599.99"  # round2(199.9950 * 3 = 599.985) half-up
    assert drill["line_vat"] == "120.00"
    assert bits["line_net"] == "50.00" and bits["line_vat"] == "5.00"
    assert body["subtotal_net"] == "649.99"
    assert body["vat_total"] == "125.00"
    assert body["grand_total"] == "774.99"
    assert drill["price"]["source"] == "list"


def test_a_line_without_a_price_is_reported_not_failed(dealer_client, products):
    body = (
        dealer_client("viewer")
        .post(
            URL,
            {"items": [{"sku": "NOPRICE", "quantity": 1}, {"sku": "DRL", "quantity": 1}]},
            format="json",
        )
        .json()
    )
    assert body["lines"][0]["sellable"] is False and body["lines"][0]["price"] is None
    assert body["all_sellable"] is False
    assert body["subtotal_net"] == "200.00"  # 199.9950 rounds half-up


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([{"sku": "NOPE", "quantity": 1}], "items.0.sku"),
        ([{"sku": "OFF", "quantity": 1}], "items.0.sku"),
        ([{"sku": "DRL", "quantity": 0}], "items.0.quantity"),
        ([{"sku": "DRL", "quantity": -2}], "items.0.quantity"),
        ([{"sku": "DRL", "quantity": "x"}], "items.0.quantity"),
        ([{"sku": "DRL", "quantity": 1}, {"sku": "BIT", "quantity": 5}], "items.1.quantity"),
        ([{"sku": "BIT", "quantity": 12}], "items.0.quantity"),
        ([{"sku": "DRL", "quantity": 1, "unit_net": "0.01"}], "items.0.unit_net"),
        ([], "items"),
    ],
)
def test_bad_lines_answer_400_naming_the_line(dealer_client, products, items, field):
    response = dealer_client("owner").post(URL, {"items": items}, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_quote_needs_a_dealer(api_client, products):
    assert (
        api_client.post(URL, {"items": [{"sku": "DRL", "quantity": 1}]}, format="json").status_code
        == 401
    )
