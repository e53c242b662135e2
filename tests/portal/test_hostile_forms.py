"""Hostile values in the portal's forms answer 400 (or the page with its error) and change
nothing, never a 500: a NUL anywhere in a posted form, text longer than the API takes, ids
that are not ids, a decision that is neither approve nor reject."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.orders.models import CartItem, Order
from apps.orders.services.lists import list_create
from tests.orders.conftest import Shop
from tests.portal.test_portal import _checkout, browser

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def shop(dealer_client):
    shop = Shop(dealer_client)
    shop.product("A-1", price="50", stock=50, name="Kablo")
    return shop


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/portal/cart/", {"sku": "a\x00b", "quantity": "1"}),
        ("/portal/quick-order/", {"text": "a\x00b 1"}),
        ("/portal/lists/add/", {"sku": "a\x00b", "quantity": "1", "list": "new"}),
        ("/portal/quotes/", {"sku": "a\x00b", "quantity": "1"}),
        ("/portal/checkout/", {"payment_method": "on_account", "note": "a\x00b"}),
    ],
)
def test_a_nul_in_a_posted_form_answers_400_and_changes_nothing(shop, url, data):
    client, _user = browser(shop)
    client.post("/portal/cart/", {"sku": "A-1", "quantity": "1"})
    response = client.post(url, data)
    assert response.status_code == 400
    assert not Order.objects.exists() and CartItem.objects.count() == 1
    # the portal's page, in the portal's language, saying what is wrong
    page = response.content.decode()
    assert 'data-testid="nav"' in page or "/portal/cart/" in page
    assert "Form okunamadı" in page and response["Content-Language"] == "tr"
    if "\x00" in str(data):
        assert "Null karakterlere izin verilmez." in page


@pytest.mark.parametrize(
    "raw", [b"Depo%FF%FE", b"Depo%ED%A0%80", b"Depo\xff\xfe", b"Depo\xed\xa0\x80"]
)
def test_form_text_that_is_not_utf8_answers_400_and_saves_nothing(shop, raw):
    # Django reads such bytes as "\ufffd": an address was saved as "Depo\ufffd\ufffd"
    from apps.accounts.models import Address

    client, _user = browser(shop)
    before = Address.objects.count()
    token = client.get("/portal/company/addresses/").cookies.get("csrftoken")
    body = b"type=shipping&title=" + raw + b"&line1=L&city=Izmir&country=TR"
    if token is not None:
        body += b"&csrfmiddlewaretoken=" + token.value.encode()
    response = client.generic(
        "POST",
        "/portal/company/addresses/",
        body,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert Address.objects.count() == before
    # a multipart form is judged by what its parser read
    multipart = client.post(
        "/portal/company/addresses/",
        {"type": "shipping", "title": "Depo\ufffd", "line1": "L", "city": "Izmir", "country": "TR"},
    )
    assert multipart.status_code == 400
    assert Address.objects.count() == before


def test_a_form_in_another_charset_answers_400_and_saves_nothing(shop):
    # Django reads forms as UTF-8 only: its own 400 page then read the form again and failed
    from django.test import Client

    from apps.accounts.models import Address

    client, _user = browser(shop)
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client.cookies
    page = strict.get("/portal/company/addresses/")
    token = page.cookies.get("csrftoken") or strict.cookies.get("csrftoken")
    before = Address.objects.count()
    response = strict.generic(
        "POST",
        "/portal/company/addresses/",
        b"csrfmiddlewaretoken=" + token.value.encode() + b"&type=shipping&title=Depo%FF"
        b"&line1=L&city=Izmir&country=TR",
        content_type="application/x-www-form-urlencoded; charset=iso-8859-9",
    )
    assert response.status_code == 400
    assert Address.objects.count() == before


@pytest.mark.parametrize("charset", ["undefined", "punycode", "utf-16"])
def test_a_form_declared_in_a_charset_for_no_text_answers_400(client, charset):
    # Django decoded it with the declared codec: "undefined" raised a UnicodeError, a 500
    response = client.generic(
        "POST",
        "/portal/login/",
        b"email=a%40b.c&password=x",
        content_type=f"application/x-www-form-urlencoded; charset={charset}",
    )
    assert response.status_code == 400


@pytest.mark.parametrize("charset", ["utf-8", "UTF8", "utf_8", "us-ascii"])
def test_a_form_declared_in_utf8_by_another_name_is_read(client, charset):
    # Django reads a form only in "utf-8" as spelt: "UTF8" was refused as "not UTF-8"
    response = client.generic(
        "POST",
        "/portal/login/",
        b"email=a%40b.c&password=x",
        content_type=f"application/x-www-form-urlencoded; charset={charset}",
    )
    assert response.status_code == 401  # read: the sign-in page again, the login is wrong


def test_signing_in_with_a_nul_in_the_email_answers_400(client):
    response = client.post("/portal/login/", {"email": "a\x00b@x.com", "password": "x"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("field", "value"),
    [("po_number", "P" * 65), ("note", "n" * 2001)],
)
def test_checkout_text_longer_than_the_api_takes_is_refused_on_the_page(shop, field, value):
    client, _user = browser(shop)
    client.post("/portal/cart/", {"sku": "A-1", "quantity": "1"})
    response = client.post(
        "/portal/checkout/",
        {
            "payment_method": "on_account",
            "shipping_address_id": shop.shipping.pk,
            "billing_address_id": shop.billing.pk,
            field: value,
        },
    )
    assert response.status_code == 400
    assert not Order.objects.exists()


@pytest.mark.parametrize("bad", ["abc", "1e3", "²", "1.0", "9" * 40])
def test_an_address_id_that_is_not_an_id_is_refused_not_taken_for_the_default(shop, bad):
    client, _user = browser(shop)
    client.post("/portal/cart/", {"sku": "A-1", "quantity": "1"})
    response = client.post(
        "/portal/checkout/", {"payment_method": "on_account", "shipping_address_id": bad}
    )
    assert response.status_code == 400
    assert not Order.objects.exists()


@pytest.mark.parametrize("bad", ["abc", "", "1.0", "²"])
def test_a_cart_line_id_that_is_not_an_id_is_not_found(shop, bad):
    client, _user = browser(shop)
    client.post("/portal/cart/", {"sku": "A-1", "quantity": "2"})
    response = client.post("/portal/cart/", {"item": bad, "quantity": "5"})
    assert response.status_code == 404
    assert CartItem.objects.get().quantity == 2


@pytest.mark.parametrize("decision", ["approvee", "", None])
def test_an_approval_decision_neither_approve_nor_reject_changes_nothing(shop, decision):
    buyer, buyer_user = browser(shop, role="purchasing")
    buyer_user.order_limit = Decimal("10.00")
    buyer_user.save(update_fields=["order_limit"])
    assert _checkout(buyer, shop).status_code == 302
    order = Order.objects.get()
    assert order.status == "awaiting_approval"
    owner, _user = browser(shop)
    data = {"number": order.number, "reason": "x"}
    if decision is not None:
        data["decision"] = decision
    page = owner.post("/portal/approvals/", data, follow=True).content.decode()
    order.refresh_from_db()
    assert order.status == "awaiting_approval"
    assert f"{order.number}: " in page  # the refusal names the order it is about


@pytest.mark.parametrize("bad", ["²", "abc"])
def test_list_lines_to_the_cart_with_ids_that_are_not_ids_add_nothing(shop, bad):
    client, user = browser(shop)
    reqlist = list_create(user=user, name="L", items=[{"sku": "A-1", "quantity": 2}])
    response = client.post(f"/portal/lists/{reqlist.pk}/", {"action": "to_cart", "item_ids": [bad]})
    assert response.status_code in (302, 400)
    assert not CartItem.objects.exists()


def test_a_sku_typed_with_spaces_around_it_is_the_product(shop):
    """The API's field and the quick order trim it; the cart's form answered "Unknown product"."""
    client, user = browser(shop)
    response = client.post("/portal/cart/", {"sku": " A-1 ", "quantity": "2"})
    assert response.status_code == 302
    assert CartItem.objects.get(cart__user=user).quantity == 2


@pytest.mark.parametrize("quantity", ["0", "-5", "2.5", "99999999999"])
def test_a_refused_cart_line_change_names_the_line(shop, quantity):
    """The cart said only "Enter a quantity from 1 to 1.000.000." above a list of lines."""
    client, _user = browser(shop)
    client.post("/portal/cart/", {"sku": "A-1", "quantity": "2"})
    item = CartItem.objects.get()
    page = client.post("/portal/cart/", {"item": item.pk, "quantity": quantity}, follow=True)
    text = page.content.decode()
    assert f"A-1 {item.product.name}: " in text
    assert CartItem.objects.get().quantity == 2
    added = client.post("/portal/cart/", {"sku": "NOPE-1", "quantity": "1"}, follow=True)
    assert "NOPE-1: " in added.content.decode()
