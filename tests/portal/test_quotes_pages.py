"""Quotes in the portal: a request from typed lines (a Turkish-style target price) or from the
cart, refused lines shown by SKU with nothing asked; a sent quote's page with the quoted prices
and totals, accepted into an order at exactly those prices, or rejected; viewers read only."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.orders.models import Order
from apps.quotes.models import Quote
from apps.quotes.services import quote_answer
from tests.portal.test_portal import browser

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def shop(dealer_client):
    from tests.orders.conftest import Shop

    shop = Shop(dealer_client)
    shop.product("A-1", price="100", stock=50, name="Kablo")
    shop.product("B-2", price="40", stock=10, name="Priz")
    return shop


def _send(quote: Quote, price: str) -> None:
    line = quote.lines.get()
    quote_answer(
        quote=quote,
        by=None,
        prices={line.pk: Decimal(price)},
        valid_until=timezone.localdate() + datetime.timedelta(days=5),
        note="Proje fiyatı",
    )


def test_a_dealer_asks_then_accepts_into_an_order_at_the_quoted_price(shop):
    client, _user = browser(shop)
    response = client.post(
        "/portal/quotes/",
        {
            "sku": ["A-1", ""],
            "quantity": ["30", ""],
            "target_price": ["1.095,50", ""],
            "note": "Şantiye",
        },
    )
    quote = Quote.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/portal/quotes/{quote.number}/"
    line = quote.lines.get()
    assert (line.sku, line.quantity, line.target_price) == ("A-1", 30, Decimal("1095.5"))
    page = client.get(f"/portal/quotes/{quote.number}/").content.decode()
    assert "yanıtımızı bekliyor" in page and 'value="accept"' not in page

    _send(quote, "88.5")
    page = client.get(f"/portal/quotes/{quote.number}/").content.decode()
    assert "88,50\u00a0₺" in page and "3.186,00\u00a0₺" in page  # 30 x 88.50 + 20 % VAT
    assert "Proje fiyatı" in page and 'value="accept"' in page
    response = client.post(
        f"/portal/quotes/{quote.number}/",
        {
            "action": "accept",
            "payment_method": "on_account",
            "shipping_address_id": shop.shipping.pk,
            "billing_address_id": shop.billing.pk,
            "po_number": "PO-TKL",
        },
    )
    order = Order.objects.get(po_number="PO-TKL")
    assert response.status_code == 302 and response["Location"] == f"/portal/orders/{order.number}/"
    assert order.lines.get().unit_net == Decimal("88.5000") and order.grand_total == Decimal(
        "3186.00"
    )
    again = client.post(
        f"/portal/quotes/{quote.number}/", {"action": "accept", "payment_method": "on_account"}
    )
    assert again.status_code == 409 and Order.objects.count() == 1


def test_the_accept_form_orders_the_version_it_showed_once(shop):
    """The page showed 88.50; sales sent 150.00 meanwhile: the form is refused, nothing is
    ordered, and the page shows the new prices. Submitted twice (a double click), the form
    of the version now shown places one order and sends both to it."""
    client, _user = browser(shop)
    client.post("/portal/quotes/", {"sku": ["A-1"], "quantity": ["30"]})
    quote = Quote.objects.get()
    _send(quote, "88.5")
    page = client.get(f"/portal/quotes/{quote.number}/").content.decode()
    assert 'name="version" value="1"' in page
    _send(Quote.objects.get(), "150")
    form = {
        "action": "accept",
        "payment_method": "on_account",
        "version": "1",
        "form_key": "b2a2c1de-0000-4000-8000-000000000001",
    }

    stale = client.post(f"/portal/quotes/{quote.number}/", form)

    assert stale.status_code == 409 and not Order.objects.exists()
    assert "150,00\u00a0₺" in stale.content.decode()
    form.update(version="2", form_key="b2a2c1de-0000-4000-8000-000000000002")
    first = client.post(f"/portal/quotes/{quote.number}/", form)
    second = client.post(f"/portal/quotes/{quote.number}/", form)
    order = Order.objects.get()
    assert first["Location"] == second["Location"] == f"/portal/orders/{order.number}/"
    assert order.lines.get().unit_net == Decimal("150.0000")


def test_a_request_from_the_cart_and_refused_lines(shop):
    client, _user = browser(shop)
    client.post("/portal/cart/", {"sku": "B-2", "quantity": "3"})
    assert "Bunun yerine teklif iste" in client.get("/portal/cart/").content.decode()
    client.post("/portal/quotes/", {"from_cart": "1"})
    assert [(line.sku, line.quantity) for line in Quote.objects.get().lines.all()] == [("B-2", 3)]
    refused = client.post("/portal/quotes/", {"sku": ["NOPE", "A-1"], "quantity": ["1", "x"]})
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "NOPE: Bilinmeyen ürün." in page and 'role="alert"' in page
    assert Quote.objects.count() == 1


def test_a_request_from_the_cart_names_the_products_it_refuses(shop):
    client, _user = browser(shop)
    client.post("/portal/cart/", {"sku": "B-2", "quantity": "3"})
    client.post("/portal/cart/", {"sku": "A-1", "quantity": "2"})
    shop.products["B-2"].is_active = False
    shop.products["B-2"].save(update_fields=["is_active"])

    refused = client.post("/portal/quotes/", {"from_cart": "1"})

    assert refused.status_code == 400 and not Quote.objects.exists()
    assert "B-2: Bilinmeyen ürün." in refused.content.decode()


def test_a_quote_is_rejected_and_viewers_only_read(shop):
    owner, _user = browser(shop)
    owner.post("/portal/quotes/", {"sku": ["A-1"], "quantity": ["5"]})
    quote = Quote.objects.get()
    viewer, _viewer = browser(shop, role="viewer")
    page = viewer.get(f"/portal/quotes/{quote.number}/").content.decode()
    assert quote.number in page and 'value="reject"' not in page
    assert viewer.post(f"/portal/quotes/{quote.number}/", {"action": "reject"}).status_code == 403
    assert viewer.post("/portal/quotes/", {"sku": ["A-1"], "quantity": ["1"]}).status_code == 403
    owner.post(f"/portal/quotes/{quote.number}/", {"action": "reject", "reason": " "})
    quote.refresh_from_db()
    assert quote.status == "requested"  # a reason is required
    owner.post(f"/portal/quotes/{quote.number}/", {"action": "reject", "reason": "Vazgeçtik"})
    quote.refresh_from_db()
    assert quote.status == "rejected" and quote.reject_reason == "Vazgeçtik"


def test_a_target_price_with_thousands_dots_is_thousands_and_no_amount_is_named(shop):
    client, _user = browser(shop)
    refused = client.post(
        "/portal/quotes/",
        {"sku": ["A-1", "B-2"], "quantity": ["1", "1"], "target_price": ["", "1e5"]},
    )
    assert refused.status_code == 400
    assert "B-2: Tutarı 1.234,56 biçiminde yazın." in refused.content.decode()
    assert not Quote.objects.exists()

    client.post("/portal/quotes/", {"sku": ["A-1"], "quantity": ["30"], "target_price": ["1.500"]})
    assert Quote.objects.get().lines.get().target_price == Decimal("1500")


def test_a_refused_request_keeps_the_lines_as_typed(shop):
    """One unknown SKU emptied every line box: the dealer typed them all again."""
    client, _user = browser(shop)
    response = client.post(
        "/portal/quotes/",
        {"sku": ["A-1", "NOPE"], "quantity": ["100", "5"], "target_price": ["1.234,56", ""]},
    )
    page = response.content.decode()
    assert response.status_code == 400 and "NOPE" in page
    assert 'name="sku" value="A-1"' in page and 'name="sku" value="NOPE"' in page
    assert 'name="quantity" value="100"' in page and 'name="target_price" value="1.234,56"' in page
    assert not Quote.objects.exists()


def test_a_quote_request_form_sent_twice_makes_one_request(shop):
    """A double click made two quote requests: the form now carries its own key."""
    import re

    client, _user = browser(shop)
    page = client.get("/portal/quotes/").content.decode()
    key = re.search(r'name="form_key" value="([^"]+)"', page).group(1)
    form = {"sku": ["A-1"], "quantity": ["3"], "form_key": key}
    first = client.post("/portal/quotes/", form)
    second = client.post("/portal/quotes/", form)
    quote = Quote.objects.get()
    assert first["Location"] == second["Location"] == f"/portal/quotes/{quote.number}/"
    shown = client.get(second["Location"]).content.decode()
    assert quote.number in shown
    fresh = re.search(
        r'name="form_key" value="([^"]+)"', client.get("/portal/quotes/").content.decode()
    ).group(1)
    assert fresh != key  # a new page, a new form: a new request
    client.post("/portal/quotes/", {**form, "form_key": fresh})
    assert Quote.objects.count() == 2
