"""The portal's order pages: the API's filters (status, placed from/until), the detail's
history in the reader's words with tracking, "Order again" (the API's reorder), and each
role's rights as the API grants them (a viewer reads orders but fills no cart)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation

from apps.orders.models import CartItem, Order
from tests.portal.test_portal import _checkout, browser

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def shop(dealer_client):
    from tests.orders.conftest import Shop

    shop = Shop(dealer_client)
    shop.product("A-1", price="100", stock=50, name="Kablo")
    return shop


def test_orders_filter_by_status_and_placing_date(shop):
    client, _user = browser(shop)
    _checkout(client, shop, po="OLD")
    _checkout(client, shop, po="NEW")
    client.get("/portal/")  # shows (and so clears) the "order placed" messages
    old = Order.objects.get(po_number="OLD")
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=40))
    new = Order.objects.get(po_number="NEW")
    since = (timezone.localdate() - dt.timedelta(days=7)).isoformat()
    page = client.get(f"/portal/orders/?created_from={since}").content.decode()
    assert new.number in page and old.number not in page
    until = (timezone.localdate() - dt.timedelta(days=30)).isoformat()
    page = client.get(f"/portal/orders/?created_to={until}").content.decode()
    assert old.number in page and new.number not in page
    page = client.get(f"/portal/orders/?status={new.status}").content.decode()
    assert new.number in page
    page = client.get("/portal/orders/?status=shipped").content.decode()
    assert new.number not in page and old.number not in page


@pytest.mark.parametrize(
    "query",
    ["created_from=yesterday", "status=lost", "created_from=2026-05-01&created_to=2026-01-01"],
)
def test_a_bad_order_filter_is_explained_not_a_500(shop, query):
    client, _user = browser(shop)
    _checkout(client, shop)
    client.get("/portal/")  # shows (and so clears) the "order placed" message
    response = client.get(f"/portal/orders/?{query}")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'role="alert"' in page and Order.objects.get().number not in page


def test_order_again_puts_the_lines_into_the_cart_and_the_history_reads_in_words(shop):
    client, user = browser(shop)
    _checkout(client, shop, po="AGAIN")
    order = Order.objects.get(po_number="AGAIN")
    Order.objects.filter(pk=order.pk).update(tracking_number="YK123", carrier="Yurtiçi")
    page = client.get(f"/portal/orders/{order.number}/").content.decode()
    assert "Tekrar sipariş ver" in page and "YK123" in page and "Yurtiçi" in page
    with translation.override("tr"):
        assert f"· {order.get_status_display()}" in page  # the label, not the code
    assert not CartItem.objects.filter(cart__user=user).exists()

    response = client.post(f"/portal/orders/{order.number}/reorder/")
    assert response.status_code == 302 and response["Location"] == "/portal/cart/"
    assert CartItem.objects.get(cart__user=user).quantity == 1


def test_the_order_page_shows_the_addresses_payment_and_note_it_was_placed_with(shop):
    """The order page showed neither where the goods go nor how they are paid."""
    client, _user = browser(shop)
    _checkout(client, shop, po="ADDR")
    order = Order.objects.get(po_number="ADDR")
    Order.objects.filter(pk=order.pk).update(note="Kapıda arayın")
    page = client.get(f"/portal/orders/{order.number}/").content.decode()
    details = page[page.index('data-testid="order-details"') :]
    assert "Teslimat adresi" in details and "Fatura adresi" in details
    assert shop.shipping.line1 in details and shop.shipping.city in details
    assert shop.billing.line1 in details
    with translation.override("tr"):
        assert str(order.get_payment_method_display()) in details
    assert "Kapıda arayın" in details


def test_order_again_for_another_companys_order_is_not_found(shop, dealer_client):
    from tests.finance.helpers import make_order
    from tests.orders.conftest import Shop

    client, user = browser(shop)
    foreign = make_order(Shop(dealer_client).customer)
    assert client.post(f"/portal/orders/{foreign.number}/reorder/").status_code == 404
    assert not CartItem.objects.filter(cart__user=user).exists()


def test_a_viewer_reads_orders_but_fills_no_cart(shop):
    owner, _owner = browser(shop)
    _checkout(owner, shop, po="V")
    order = Order.objects.get(po_number="V")
    client, user = browser(shop, role="viewer")
    page = client.get(f"/portal/orders/{order.number}/").content.decode()
    assert order.number in page and "Tekrar sipariş ver" not in page
    assert "Siparişi iptal et" not in page
    catalog = client.get("/portal/catalog/").content.decode()
    assert "Sepete ekle" not in catalog and "Hızlı sipariş" not in catalog
    for url, body in [
        ("/portal/cart/", {"sku": "A-1", "quantity": "1"}),
        ("/portal/quick-order/", {"text": "A-1 1"}),
        (f"/portal/orders/{order.number}/reorder/", {}),
        (f"/portal/orders/{order.number}/", {"reason": "no"}),
        ("/portal/checkout/", {"payment_method": "on_account"}),
    ]:
        assert client.post(url, body).status_code == 403, url
    for url in ("/portal/cart/", "/portal/quick-order/", "/portal/checkout/"):
        assert client.get(url).status_code == 403, url
    assert not CartItem.objects.filter(cart__user=user).exists()
    order.refresh_from_db()
    assert order.status != "cancelled"


def test_checkout_says_ahead_when_an_order_will_wait_for_approval_or_credit(shop):
    from decimal import Decimal

    buyer, user = browser(shop, role="purchasing")
    user.order_limit = Decimal("50.00")
    user.save(update_fields=["order_limit"])
    buyer.post("/portal/cart/", {"sku": "A-1", "quantity": "1"})  # 120.00 gross
    page = buyer.get("/portal/checkout/").content.decode()
    assert "onayını bekleyecek" in page and "kredi limitinizi" not in page
    shop.customer.credit_limit = Decimal("100.00")
    shop.customer.save(update_fields=["credit_limit"])
    page = buyer.get("/portal/checkout/").content.decode()
    assert "kredi limitinizi" in page


def test_cancelling_an_order_in_the_portal_needs_a_reason(shop):
    """The API's rule (``orders/{number}/cancel {reason}``), from the order's page."""
    client, _user = browser(shop)
    _checkout(client, shop)
    order = Order.objects.get()
    page = client.get(f"/portal/orders/{order.number}/").content.decode()
    assert 'name="reason" required' in page
    response = client.post(f"/portal/orders/{order.number}/", {"reason": "  "}, follow=True)
    assert "bg-red-100" in response.content.decode()  # the error message
    order.refresh_from_db()
    assert order.status == "confirmed"
    client.post(f"/portal/orders/{order.number}/", {"reason": "Ordered twice"})
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert order.status_history.last().note == "Ordered twice"


def test_an_empty_filtered_list_says_nothing_matches_not_that_there_is_nothing(shop):
    """A filter that matched nothing said "No orders yet." to a company with orders."""
    client, _user = browser(shop)
    _checkout(client, shop, po="ONE")
    page = client.get("/portal/orders/", {"status": "cancelled"}).content.decode()
    assert "Bu filtrelere uyan sipariş yok." in page and "Henüz sipariş yok." not in page
    quotes = client.get("/portal/quotes/", {"status": "accepted"}).content.decode()
    assert "Bu filtreye uyan teklif yok." in quotes
