"""A body without a required field answers 400 with the code ``required`` on every endpoint,
whether a serializer or a service finds it missing (payments, returns and a balance
confirmation's dispute answered ``invalid``)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.django_db]


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/payments", "amount"),
        ("/api/v1/returns", "order_number"),
        ("/api/v1/orders", "payment_method"),
        ("/api/v1/cart/items", "sku"),
    ],
)
def test_a_missing_field_is_code_required(dealer_client, url, field):
    response = dealer_client("owner").post(url, {}, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "required"
    assert field in response.json()["errors"]
