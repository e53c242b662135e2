"""API keys: stored hashed, shown once, scoped, limited to addresses, revocable; a JWT does not
open the integration API and an API key does not open the dealer API."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import ApiKey, ApiKeyScope
from apps.accounts.services.api_keys import api_key_create, api_key_revoke
from apps.core.exceptions import ValidationError
from tests.conftest import login
from tests.factories import DealerUserFactory

pytestmark = [pytest.mark.django_db]

URL = "/api/integration/v1/customers"


def test_only_a_hash_of_the_key_is_stored():
    api_key, raw = api_key_create(name="ERP")
    stored = ApiKey.objects.get(pk=api_key.pk)
    assert raw.startswith("b2b_")
    assert raw not in str(list(ApiKey.objects.values()))
    assert stored.hashed_key == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.split(".")[0] == f"b2b_{stored.prefix}"


def test_a_key_without_scopes_has_them_all(integration_client):
    client = integration_client()
    assert client.post(URL, [], format="json").status_code == 200
    assert sorted(client.api_key.scopes) == sorted(ApiKeyScope.values)


def test_a_call_outside_the_keys_scopes_answers_403(integration_client):
    client = integration_client(scopes=["orders:read"])
    response = client.post(URL, [{"code": "X"}], format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


def test_head_answers_as_the_get_with_the_gets_scope(integration_client):
    """HEAD named no scope of its own, so every key, all scopes included, got 403."""
    every = integration_client()
    for path in ("/api/integration/v1/orders", "/api/integration/v1/returns"):
        assert every.get(path).status_code == 200
        response = every.head(path)
        assert response.status_code == 200, (path, response.content)
    narrow = integration_client(scopes=["customers:write"], name="customers only")
    assert narrow.head("/api/integration/v1/orders").status_code == 403


def test_options_describes_a_route_to_a_key_that_may_use_it(integration_client):
    """OPTIONS is no call of its own: a key holding a scope of the route is answered (it was
    refused for every key, none having an "OPTIONS" scope); another key is refused."""
    every = integration_client()
    for path in (URL, "/api/integration/v1/orders", "/api/integration/v1/stock"):
        response = every.options(path)
        assert response.status_code == 200, (path, response.content)
    narrow = integration_client(scopes=["orders:read"], name="orders only")
    assert narrow.options("/api/integration/v1/orders").status_code == 200
    refused = narrow.options(URL)
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"


def test_unknown_scope_is_refused():
    with pytest.raises(ValidationError):
        api_key_create(name="ERP", scopes=["everything"])


@pytest.mark.parametrize(
    ("allowed", "remote", "expected"),
    [
        (["10.0.0.0/8"], "10.20.30.40", 200),
        (["10.0.0.0/8"], "192.0.2.1", 403),
        (["192.0.2.5"], "192.0.2.5", 200),
        (["2001:db8::/32"], "2001:db8::1", 200),
        ([], "198.51.100.9", 200),
    ],
)
def test_ip_allowlist(integration_client, allowed, remote, expected):
    client = integration_client(allowed_ips=allowed)
    response = client.post(URL, [], format="json", REMOTE_ADDR=remote)
    assert response.status_code == expected
    if expected == 403:  # a valid key from elsewhere: authenticated, not allowed
        assert response.json()["code"] == "ip_not_allowed"


def test_forwarded_for_is_trusted_only_behind_configured_proxies(integration_client, settings):
    client = integration_client(allowed_ips=["10.0.0.0/8"])
    spoofed = client.post(
        URL, [], format="json", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="10.1.1.1"
    )
    assert spoofed.status_code == 403
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxied = client.post(
        URL, [], format="json", REMOTE_ADDR="172.16.0.2", HTTP_X_FORWARDED_FOR="10.1.1.1"
    )
    assert proxied.status_code == 200


def test_a_revoked_key_answers_401(integration_client):
    client = integration_client()
    api_key_revoke(api_key=client.api_key)
    response = client.post(URL, [], format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "api_key_revoked"


def test_an_expired_key_answers_401():
    key, raw = api_key_create(name="temp", expires_at=timezone.now() + timedelta(hours=1))
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    client = APIClient()
    response = client.post(URL, [], format="json", HTTP_X_API_KEY=raw)
    assert response.status_code == 401


@pytest.mark.parametrize("raw", ["nonsense", "b2b_zzzz.wrong", ""])
def test_a_wrong_key_answers_401(raw):
    response = APIClient().post(URL, [], format="json", HTTP_X_API_KEY=raw)
    assert response.status_code == 401


def test_a_tampered_secret_with_a_real_prefix_answers_401(integration_client):
    client = integration_client()
    prefix = client.raw_key.split(".")[0]
    response = APIClient().post(URL, [], format="json", HTTP_X_API_KEY=prefix + ".forged")
    assert response.status_code == 401


def test_last_used_time_is_recorded(integration_client):
    client = integration_client()
    client.post(URL, [], format="json", REMOTE_ADDR="10.0.0.9")
    client.api_key.refresh_from_db()
    assert client.api_key.last_used_at is not None
    assert client.api_key.last_used_ip == "10.0.0.9"


def test_a_jwt_does_not_open_the_integration_api(api_client):
    login(api_client, DealerUserFactory())
    assert api_client.post(URL, [], format="json").status_code == 401


def test_an_api_key_does_not_open_the_dealer_api(integration_client):
    client = integration_client()
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/company").status_code == 401
