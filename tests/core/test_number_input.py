"""Numbers in the API's input are written with ASCII digits, a sign and a decimal point between
digits (``apps.core.serializers.number_input_plain``, ``apps.core.text.plain_int``). Python
reads ``1_000``, other scripts' digits, ``1.``, ``.5`` and ``1e3`` too: a payment of
``"1_000"`` was booked as 1,000.00. Each is a 400 on its field and changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.accounts.models import User
from apps.orders.models import CartItem
from tests.orders.conftest import Shop

pytestmark = [pytest.mark.django_db]

ODD = ["1_000", "１", "١", "1.", ".5", "1e3", "0x10", " ", "1,000"]


@pytest.fixture
def shop(dealer_client):
    shop = Shop(dealer_client)
    shop.product("A-1", price="100", stock=10)
    return shop


@pytest.mark.parametrize("written", [w for w in ODD if w.strip()])  # blank: no limit
def test_an_amount_written_oddly_is_refused(shop, written):
    buyer = User.objects.get(customer=shop.customer, role="owner")
    response = shop.owner.patch(
        f"/api/v1/company/users/{buyer.pk}", {"order_limit": written}, format="json"
    )
    assert response.status_code == 400
    assert "order_limit" in response.json()["errors"]
    buyer.refresh_from_db()
    assert buyer.order_limit is None


@pytest.mark.parametrize("written", [*ODD, "5."])
def test_a_quantity_written_oddly_is_refused(shop, written):
    response = shop.owner.post(
        "/api/v1/cart/items", {"sku": "A-1", "quantity": written}, format="json"
    )
    assert response.status_code == 400
    assert "quantity" in response.json()["errors"]
    assert not CartItem.objects.exists()
    explained = shop.owner.get(f"/api/v1/products/A-1/price-explanation?quantity={written}")
    assert explained.status_code == 400


def test_plain_numbers_still_pass_and_minus_zero_is_zero(shop):
    buyer = User.objects.get(customer=shop.customer, role="owner")
    url = f"/api/v1/company/users/{buyer.pk}"
    answer = shop.owner.patch(url, {"order_limit": "-0"}, format="json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["order_limit"] == "0.00"  # not "-0.00"
    for written, stored in (("1500.50", "1500.50"), (" 20 ", "20.00"), (250, "250.00")):
        answer = shop.owner.patch(url, {"order_limit": written}, format="json")
        assert answer.status_code == 200, answer.json()
        buyer.refresh_from_db()
        assert buyer.order_limit == Decimal(stored)
    for quantity in (2, "3", "4.0", 5.0, 1e1):
        response = shop.owner.post(
            "/api/v1/cart/items", {"sku": "A-1", "quantity": quantity}, format="json"
        )
        assert response.status_code in (200, 201), response.json()
    assert shop.owner.get("/api/v1/products/A-1/price-explanation?quantity=2").status_code == 200
