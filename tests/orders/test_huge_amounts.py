"""Amounts at the edge of what the money columns hold (14 digits: 999,999,999,999.99 for an
amount, 9,999,999,999.9999 for a unit price). A price the ERP may send, times a quantity a
dealer may ask for, can come to more: the API shows such figures in full and refuses to order
them with a field error, never a 500 (DESIGN.md: bad input gets a 400 and changes nothing)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.accounts.models import Customer
from apps.finance.models import Payment
from apps.orders.models import Order
from tests.finance import helpers as h
from tests.orders.conftest import place

pytestmark = [pytest.mark.django_db]

D = Decimal
TOP_PRICE = "9999999999.9999"  # the largest unit price the price feed takes


@pytest.fixture
def dear(shop):
    product = shop.product("GOLD-1", price=TOP_PRICE, stock=1_000_000)
    return shop, product


def test_the_largest_price_is_shown_with_its_gross_in_full(dear):
    shop, _product = dear
    detail = shop.owner.get("/api/v1/products/GOLD-1")
    assert detail.status_code == 200, detail.content
    assert detail.json()["price"]["unit_gross"] == "11999999999.9999"
    listing = shop.owner.get("/api/v1/products?ordering=-price")
    assert listing.status_code == 200, listing.content
    assert listing.json()["results"][0]["sku"] == "GOLD-1"


def test_a_line_worth_more_than_an_order_holds_is_a_line_problem_not_a_500(dear):
    shop, _product = dear
    quote = shop.owner.post(
        "/api/v1/prices/quote", {"items": [{"sku": "GOLD-1", "quantity": 600}]}, format="json"
    )
    assert quote.status_code == 200, quote.content
    [line] = quote.json()["lines"]
    assert line["line_gross"] == "7199999999999.93"
    assert line["problem"].startswith("This line comes to more than 999,999,999,999.99")

    placed = place(shop.owner, items=[("GOLD-1", 600)])
    assert placed.status_code == 400, placed.content
    assert "items.0.quantity" in placed.json()["errors"]
    assert not Order.objects.exists()


def test_a_cart_holding_such_a_line_still_opens_and_says_what_is_wrong(dear):
    shop, _product = dear
    added = shop.owner.post("/api/v1/cart/items", {"sku": "GOLD-1", "quantity": 600}, format="json")
    assert added.status_code in (200, 201), added.content
    cart = shop.owner.get("/api/v1/cart")
    assert cart.status_code == 200, cart.content
    [line] = cart.json()["lines"]
    assert "too_large" in [p["code"] for p in line["problems"]]
    assert place(shop.owner).status_code == 400
    assert not Order.objects.exists()


def test_lines_that_each_fit_but_together_do_not_are_refused_as_one_order(shop):
    for n in (1, 2):
        shop.product(f"GOLD-{n}", price="600000000", stock=1000)
    placed = place(shop.owner, items=[("GOLD-1", 1000), ("GOLD-2", 1000)])
    assert placed.status_code == 400, placed.content
    assert "items" in placed.json()["errors"]
    assert not Order.objects.exists()


def test_a_cart_whose_lines_together_do_not_fit_says_so_before_checkout(shop):
    """``orderable`` tells what ``POST orders`` will answer: the lines each fit, the cart as a
    whole does not."""
    for n in (1, 2):
        shop.product(f"GOLD-{n}", price="600000000", stock=1000)
        shop.owner.post("/api/v1/cart/items", {"sku": f"GOLD-{n}", "quantity": 1000})
    cart = shop.owner.get("/api/v1/cart").json()
    assert all(not line["problems"] for line in cart["lines"])
    assert [p["code"] for p in cart["problems"]] == ["too_large"]
    assert cart["orderable"] is False
    assert place(shop.owner).status_code == 400

    shop.owner.patch(f"/api/v1/cart/items/{cart['lines'][1]['id']}", {"quantity": 100})
    cart = shop.owner.get("/api/v1/cart").json()
    assert cart["problems"] == [] and cart["orderable"] is True


def test_an_order_at_the_limit_is_placed(shop):
    shop.product("GOLD-1", price="8333333333.3332", stock=1000)  # x 100: 999,999,999,999.98
    Customer.objects.filter(pk=shop.customer.pk).update(credit_limit=D("999999999999.99"))
    placed = place(shop.owner, items=[("GOLD-1", 100)])
    assert placed.status_code == 201, placed.content
    assert placed.json()["grand_total"] == "999999999999.98"


def test_a_balance_beyond_the_columns_still_shows_the_company(shop, integration_client):
    """Receipts the ERP may send add up to more than one amount holds: the available
    credit is shown in full."""
    shop.customer.code = "BAYI-1"
    shop.customer.save(update_fields=["code"])
    client = integration_client()
    for n in range(2):
        h.post(client, h.PAYMENTS, [h.payment(reference=f"BIG-{n}", amount="999999999999.99")])
    assert Payment.objects.count() == 2
    company = shop.owner.get("/api/v1/company")
    assert company.status_code == 200, company.content
    summary = shop.owner.get("/api/v1/account/summary").json()
    assert company.json()["available_credit"] == summary["available_credit"]
    assert D(summary["available_credit"]) > D("1999999999999")
