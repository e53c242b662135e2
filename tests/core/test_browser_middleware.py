"""Sessions, the session user and messages serve the browser pages (the admin, the API docs
for signed-in staff), with CSRF protection; the token APIs run without them."""

import pytest
from django.test import Client

from tests.conftest import login
from tests.factories import DEFAULT_PASSWORD, DealerUserFactory, StaffUserFactory

pytestmark = [pytest.mark.django_db]


def test_token_api_answers_neither_read_nor_set_the_session(api_client):
    # given: a dealer with a token who also carries the admin's session cookie
    staff = StaffUserFactory(groups=["Customer Service"])
    api_client.force_login(staff)
    login(api_client, DealerUserFactory())

    # when: the dealer API answers
    response = api_client.get("/api/v1/me")

    # then: it speaks for the token, and the session played no part
    assert response.status_code == 200
    assert response.json()["is_staff"] is False
    assert "Cookie" not in response.get("Vary", "")
    assert not response.cookies


def test_a_session_alone_does_not_open_the_token_apis(client):
    client.force_login(DealerUserFactory())
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/integration/v1/orders").status_code == 401


def test_the_admin_keeps_its_session_and_csrf_protection():
    staff = StaffUserFactory(groups=["Customer Service"])
    guarded = Client(enforce_csrf_checks=True)
    credentials = {"username": staff.email, "password": DEFAULT_PASSWORD}
    assert guarded.post("/admin/login/?next=/admin/", credentials).status_code == 403
    page = guarded.get("/admin/login/")
    token = page.cookies["csrftoken"].value
    response = guarded.post(
        "/admin/login/?next=/admin/", {**credentials, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert guarded.get("/admin/").status_code == 200


def test_the_token_apis_need_no_csrf_token_even_with_a_session(api_client):
    user = DealerUserFactory()
    api_client.force_login(StaffUserFactory(groups=["Customer Service"]))
    api_client.enforce_csrf_checks = True
    login(api_client, user)
    response = api_client.post("/api/v1/cart/items", {"sku": "NONE-1", "quantity": 1})
    assert response.status_code in (400, 404), response.json()
