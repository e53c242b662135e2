"""The dealer portal's pages over HTTP (Django's test client): signing in with the API's
lockout rules, the purchase path on the same services as the API, company isolation, Turkish
by default."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from apps.orders.models import Order
from tests.orders.conftest import Shop

pytestmark = [pytest.mark.django_db]

PASSWORD = "Test-Password-2026"


@pytest.fixture
def shop(dealer_client):
    shop = Shop(dealer_client)
    shop.product("A-1", price="1234.5", stock=50, name="Bakır kablo 3x2,5")
    shop.product("B-2", price="10", stock=0, name="Priz")
    return shop


def browser(shop, role="owner") -> tuple[Client, object]:
    from tests.factories import DealerUserFactory

    user = DealerUserFactory(customer=shop.customer, role=role, password=PASSWORD)
    client = Client()
    response = client.post("/portal/login/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return client, user


def test_pages_need_a_signed_in_dealer(client):
    response = client.get("/portal/catalog/")
    assert response.status_code == 302 and response["Location"].startswith("/portal/login/")


def test_signing_in_follows_the_lockout_rules(shop):
    from tests.factories import DealerUserFactory

    user = DealerUserFactory(customer=shop.customer, role="owner", password=PASSWORD)
    client = Client()
    for _ in range(5):
        response = client.post("/portal/login/", {"email": user.email, "password": "wrong"})
        assert response.status_code == 401
    response = client.post("/portal/login/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 401 and "15" in response.content.decode()


def test_the_portal_speaks_turkish_unless_english_is_chosen(shop):
    client, _user = browser(shop)
    page = client.get("/portal/catalog/").content.decode()
    assert "Sepete ekle" in page and 'lang="tr"' in page
    assert "1.234,50 ₺" in page  # Turkish money format
    assert ">Stokta</span>" in page and ">Stokta yok</span>" in page  # 50, B-2: none
    client.post("/i18n/setlang/", {"language": "en", "next": "/portal/catalog/"})
    page = client.get("/portal/catalog/").content.decode()
    assert "Add to cart" in page and "1,234.50 ₺" in page


def test_the_purchase_path_search_cart_checkout_order(shop, django_assert_max_num_queries):
    client, _user = browser(shop)
    with django_assert_max_num_queries(20):
        page = client.get("/portal/catalog/?search=kablo")
    assert "A-1" in page.content.decode() and "B-2" not in page.content.decode()
    partial = client.get("/portal/catalog/?search=kablo", HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode() and "A-1" in partial.content.decode()

    response = client.post(
        "/portal/cart/", {"sku": "A-1", "quantity": "2", "back": "/portal/cart/"}
    )
    assert response.status_code == 302
    cart = client.get("/portal/cart/").content.decode()
    assert "2.962,80 ₺" in cart  # 2 x 1234.50 + 20 % VAT
    response = client.post(
        "/portal/checkout/",
        {
            "payment_method": "on_account",
            "shipping_address_id": shop.shipping.pk,
            "billing_address_id": shop.billing.pk,
            "po_number": "PO-9",
        },
    )
    assert response.status_code == 302
    order = Order.objects.get(po_number="PO-9")
    assert response["Location"] == f"/portal/orders/{order.number}/"
    detail = client.get(response["Location"]).content.decode()
    assert (
        order.number in detail and "Onaylandı" in detail
    ) or order.get_status_display() in detail
    assert order.number in client.get("/portal/orders/").content.decode()


def test_checkout_shows_the_services_refusals(shop):
    client, _user = browser(shop)
    client.post("/portal/cart/", {"sku": "A-1", "quantity": "2"})
    response = client.post(
        "/portal/checkout/",
        {"payment_method": "barter", "shipping_address_id": shop.shipping.pk},
    )
    assert response.status_code == 400
    assert Order.objects.count() == 0


def test_another_companys_order_is_not_found(shop, dealer_client):
    client, _user = browser(shop)
    other = Shop(dealer_client)
    from tests.finance.helpers import make_order

    foreign = make_order(other.customer)
    assert client.get(f"/portal/orders/{foreign.number}/").status_code == 404
    assert client.post(f"/portal/orders/{foreign.number}/", {"reason": "x"}).status_code == 404


def test_a_viewer_cannot_place_orders(shop):
    client, _user = browser(shop, role="viewer")
    client.post("/portal/cart/", {"sku": "A-1", "quantity": "1"})
    assert Order.objects.count() == 0


def test_the_landing_page_leads_dealers_to_the_portal(client):
    assert re.search(r'href="/portal/"', client.get("/").content.decode())
