"""An order placed from the cart orders that cart once: a second submit of the same cart (a
double click, two tabs, a client retrying without an Idempotency-Key) places nothing, and a
cart changed while an order was being placed is not ordered as it was read.

Against PostgreSQL with real transactions: the first placement's transaction is held open
until the second request has read the cart and waits on the company's lock, so the race
happens on every run."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.models import Customer
from apps.orders.models import CartItem, Order
from tests.factories import DealerUserFactory
from tests.held_transactions import while_held
from tests.orders.conftest import place

pytestmark = [pytest.mark.django_db(transaction=True)]


def _twin(client: APIClient) -> APIClient:
    """Another client with the same user's token (one per thread)."""
    twin = APIClient()
    twin.credentials(**client._credentials)
    return twin


@pytest.fixture
def cart(shop):
    shop.product("KBL-1", price="100", stock=50)
    shop.product("PRZ-2", price="10", stock=50)
    for sku, quantity in (("KBL-1", 2), ("PRZ-2", 3)):
        response = shop.owner.post(
            "/api/v1/cart/items", {"sku": sku, "quantity": quantity}, format="json"
        )
        assert response.status_code in (200, 201), response.content
    return shop


def test_the_same_cart_submitted_twice_at_once_is_ordered_once(cart):
    answers = while_held(lambda: place(cart.owner), lambda: place(_twin(cart.owner)))

    assert answers["first"].status_code == 201
    second = answers["second"]
    assert second.status_code == 400, second.content
    assert second.json()["code"] == "empty_cart"
    assert Order.objects.count() == 1
    order = Order.objects.get()
    assert {(line.sku, line.quantity) for line in order.lines.all()} == {
        ("KBL-1", 2),
        ("PRZ-2", 3),
    }
    assert order.lines.count() == 2
    assert not CartItem.objects.exists()


def test_a_cart_changed_while_the_order_waits_is_not_ordered_as_it_was_read(cart):
    """The company's lock is held by something else (another placement) while this one has
    read and priced the cart; the dealer changes a quantity meanwhile: 409, nothing is
    ordered, the cart keeps the change."""

    def lock_the_company():
        return list(Customer.objects.select_for_update().filter(pk=cart.customer.pk))

    def change_the_cart():
        CartItem.objects.filter(product__sku="KBL-1").update(quantity=7)

    answers = while_held(
        lock_the_company, lambda: place(_twin(cart.owner)), meanwhile=change_the_cart
    )

    second = answers["second"]
    assert second.status_code == 409, second.content
    assert second.json()["code"] == "cart_changed"
    assert not Order.objects.exists()
    assert CartItem.objects.get(product__sku="KBL-1").quantity == 7
    # ordered again, the cart as it is now is placed
    again = place(cart.owner)
    assert again.status_code == 201
    assert Order.objects.get().lines.get(sku="KBL-1").quantity == 7


def test_the_portal_checkout_sent_twice_shows_the_one_order(cart):
    user = DealerUserFactory(customer=cart.customer, role="owner", password="Test-Password-2026")
    browser = Client()
    signed_in = browser.post(
        "/portal/login/", {"email": user.email, "password": "Test-Password-2026"}
    )
    assert signed_in.status_code == 302
    browser.post("/portal/cart/", {"sku": "KBL-1", "quantity": "4"})
    page = browser.get("/portal/checkout/").content.decode()
    key = page.split('name="checkout_key" value="')[1].split('"')[0]
    form = {
        "checkout_key": key,
        "payment_method": "on_account",
        "shipping_address_id": cart.shipping.pk,
        "billing_address_id": cart.billing.pk,
        "po_number": "PO-DBL",
    }

    first = browser.post("/portal/checkout/", form)
    second = browser.post("/portal/checkout/", {**form, "po_number": "PO-DBL-2"})

    order = Order.objects.get(placed_by=user)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/portal/orders/{order.number}/"
    assert order.po_number == "PO-DBL"
    shown = browser.get(second["Location"]).content.decode()
    assert f"{order.number} siparişi zaten verilmişti." in shown  # the portal speaks Turkish
    assert Order.objects.filter(customer=cart.customer).count() == 1
    # a new visit of the checkout is a new form: it may place the next order
    browser.post("/portal/cart/", {"sku": "PRZ-2", "quantity": "1"})
    assert 'name="checkout_key"' in browser.get("/portal/checkout/").content.decode()
    assert Decimal(order.grand_total) > 0
