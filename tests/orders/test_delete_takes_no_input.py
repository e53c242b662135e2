"""A DELETE takes no input: a body (not JSON, an unknown field, a list) is refused with 400
before anything is deleted, as every action that takes no input (docs/security.md), and an
empty DELETE still deletes. Another company's object stays 404 with or without a body."""

from __future__ import annotations

import pytest

from apps.accounts.models import Address, User
from apps.orders.models import CartItem, RequisitionList, RequisitionListItem
from tests.factories import AddressFactory, DealerUserFactory

pytestmark = [pytest.mark.django_db]

BODIES = [
    ("text/plain", b"not json at all"),
    ("application/json", b'{"zz_unknown": 1}'),
    ("application/json", b"[1, 2, 3]"),
    ("application/json", b'{"a":'),
]


@pytest.fixture
def things(shop):
    shop.product("A-1", price="10", stock=100)
    owner = shop.owner
    assert owner.post("/api/v1/cart/items", {"sku": "A-1", "quantity": 2}).status_code == 201
    made = owner.post(
        "/api/v1/lists", {"name": "Monthly", "items": [{"sku": "A-1", "quantity": 1}]}, "json"
    ).json()
    colleague = DealerUserFactory(customer=shop.customer, role="viewer")
    address = AddressFactory(customer=shop.customer, type=Address.Type.SHIPPING)
    item = CartItem.objects.get()
    return {
        "/api/v1/cart": lambda: CartItem.objects.exists(),
        f"/api/v1/cart/items/{item.pk}": lambda: CartItem.objects.filter(pk=item.pk).exists(),
        f"/api/v1/lists/{made['id']}": lambda: RequisitionList.objects.exists(),
        f"/api/v1/lists/{made['id']}/items/{made['items'][0]['id']}": (
            lambda: RequisitionListItem.objects.exists()
        ),
        f"/api/v1/company/addresses/{address.pk}": (
            lambda: Address.objects.filter(pk=address.pk).exists()
        ),
        f"/api/v1/company/users/{colleague.pk}": (
            lambda: User.objects.get(pk=colleague.pk).is_active
        ),
    }


@pytest.mark.parametrize(("content_type", "body"), BODIES)
def test_a_delete_with_a_body_is_refused_and_deletes_nothing(shop, things, content_type, body):
    for url, still_there in things.items():
        response = shop.owner.generic("DELETE", url, body, content_type=content_type)
        assert response.status_code in (400, 415), (url, response.status_code)
        assert still_there(), url


def test_a_delete_without_a_body_deletes(shop, things):
    # the list's line first: deleting the list takes its lines
    for url, still_there in sorted(things.items(), key=lambda pair: -len(pair[0])):
        response = shop.owner.delete(url)
        assert response.status_code in (200, 204), (url, response.content)
        assert not still_there(), url
