"""Rate limits in Redis: per user, per IP, per API key; 429 with Retry-After; ``off`` disables."""

import pytest
from django.core.cache import caches

from tests.conftest import login
from tests.factories import DealerUserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_window")]


def rates(settings, **values):
    base = {"user": None, "ip": None, "api_key": None}
    base.update(values)
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": base}


def test_counters_live_in_redis(api_client, settings):
    from django_redis import get_redis_connection

    rates(settings, ip="50/min")
    api_client.get("/api/v1/")
    keys = get_redis_connection("default").keys("*throttle:ip:*")
    assert keys, "the IP counter is a Redis key"
    assert type(caches["default"]).__name__ == "RedisCache"


def test_defaults_are_100_per_user_1000_per_ip_500_per_key(settings):
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] == {
        "user": "100/min",
        "ip": "1000/min",
        "api_key": "500/min",
    }


def test_a_user_is_limited_per_minute_with_retry_after(api_client, settings):
    rates(settings, user="5/min")
    login(api_client, DealerUserFactory())
    statuses = [api_client.get("/api/v1/me").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    response = api_client.get("/api/v1/me")
    assert response.json()["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60


def test_the_user_limit_is_per_user_not_per_office(api_client, settings, dealer_client):
    rates(settings, user="3/min")
    first, second = dealer_client("viewer"), dealer_client("viewer")
    assert [first.get("/api/v1/me").status_code for _ in range(4)][-1] == 429
    assert second.get("/api/v1/me").status_code == 200


def test_an_address_is_limited_across_users(settings, dealer_client):
    rates(settings, ip="4/min")
    first, second = dealer_client("viewer"), dealer_client("viewer")  # two logins: 2 requests
    assert first.get("/api/v1/me", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert second.get("/api/v1/me").status_code == 200
    assert first.get("/api/v1/me").status_code == 429
    assert first.get("/api/v1/me", REMOTE_ADDR="192.0.2.44").status_code == 200


def test_an_api_key_is_limited(integration_client, settings):
    rates(settings, api_key="3/min")
    client, other = integration_client(name="a"), integration_client(name="b")
    url = "/api/integration/v1/customers"
    assert [client.post(url, [], format="json").status_code for _ in range(4)] == [200] * 3 + [429]
    assert other.post(url, [], format="json").status_code == 200


def test_off_disables_a_limit(api_client, settings):
    rates(settings)
    login(api_client, DealerUserFactory())
    assert {api_client.get("/api/v1/me").status_code for _ in range(150)} == {200}
