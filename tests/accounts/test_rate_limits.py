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


def test_refused_credentials_count_against_the_address_limit(api_client, settings):
    # given: DRF checks credentials before the limits; guessing tokens or keys must not be
    # unlimited (DESIGN.md: 1000/min per IP, 429 with Retry-After)
    rates(settings, ip="4/min")
    no_token = [api_client.get("/api/v1/products").status_code for _ in range(2)]
    bad_token = api_client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer a.b.c").status_code
    bad_key = api_client.get("/api/integration/v1/orders", HTTP_X_API_KEY="b2b_zz.nope")
    assert [*no_token, bad_token, bad_key.status_code] == [401, 401, 401, 401]
    # then: the fifth request from that address is refused, whatever it carries
    refused = api_client.get("/api/v1/products")
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 60
    assert api_client.get("/api/v1/products", REMOTE_ADDR="192.0.2.44").status_code == 401


def test_a_forbidden_request_counts_against_the_users_limit(settings, dealer_client):
    rates(settings, user="3/min")
    viewer = dealer_client("viewer")  # read only: creating an address is 403
    statuses = [
        viewer.post("/api/v1/company/addresses", {}, format="json").status_code for _ in range(4)
    ]
    assert statuses == [403, 403, 403, 429]


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


def test_a_request_counts_all_its_limits_in_one_round_trip_to_redis(api_client, settings):
    import threading

    from django_redis import get_redis_connection

    # given: the per-address and the per-user limit on, and a logged-in dealer
    rates(settings, user="50/min", ip="50/min")
    user = DealerUserFactory()
    login(api_client, user)
    redis = get_redis_connection("default")
    database = redis.connection_pool.connection_kwargs.get("db", 0)
    seen: list[dict] = []
    listening = threading.Event()

    def monitor():
        with redis.monitor() as commands:
            listening.set()
            for command in commands.listen():
                seen.append(command)
                if command["command"] == "ECHO end-of-request":
                    return

    watcher = threading.Thread(target=monitor, daemon=True)
    watcher.start()
    assert listening.wait(5)
    redis.echo("start-of-request")

    # when: one request
    assert api_client.get("/api/v1/me").status_code == 200
    redis.echo("end-of-request")
    watcher.join(10)

    # then: Redis received both counts as one transaction (one write, one answer)
    names = [command["command"] for command in seen]
    window = seen[names.index("ECHO start-of-request") + 1 : names.index("ECHO end-of-request")]
    ours = [c for c in window if c["db"] == database]  # the server is shared with other DBs
    counting = {
        (c["client_address"], c["client_port"]) for c in ours if ":throttle:" in c["command"]
    }
    assert len(counting) == 1, ours
    request = [c["command"] for c in ours if (c["client_address"], c["client_port"]) in counting]
    assert request[0] == "MULTI" and request[-1] == "EXEC", request
    assert len(request) == 6, request  # MULTI, INCRBY + EXPIRE twice, EXEC
    counted = [command.split()[1] for command in request if command.startswith("INCRBY")]
    assert any(":throttle:ip:" in key for key in counted)
    assert any(f":throttle:user:{user.pk}:" in key for key in counted)


def test_a_refused_request_counts_once_though_its_object_is_looked_up(settings, dealer_client):
    """A role refused an action on its own company's object is first asked whether the object
    is there (its GET, internally): that lookup is not a second request against the limits."""
    from tests.factories import AddressFactory

    rates(settings, user="5/min")
    client = dealer_client("viewer")
    address = AddressFactory(customer=client.user.customer)
    url = f"/api/v1/company/addresses/{address.pk}"

    statuses = [client.patch(url, {"title": "x"}, format="json").status_code for _ in range(3)]
    statuses += [client.get("/api/v1/me").status_code for _ in range(3)]

    assert statuses == [403, 403, 403, 200, 200, 429]
