"""What leaves the process over HTTP: private answers are not cached, /metrics is for the
scraper only, and the API docs are public unless API_DOCS_PUBLIC=0."""

from __future__ import annotations

import json

import pytest

from tests.catalog.factories import ProductFactory
from tests.core.test_settings import run_python
from tests.factories import DEFAULT_PASSWORD, DealerUserFactory, StaffUserFactory

pytestmark = [pytest.mark.django_db]

PRODUCTION = {"DEBUG": "0", "SECRET_KEY": "k" * 20 + "Zx9!q" * 12, "ALLOWED_HOSTS": "b2b.example"}


def assert_no_store(response):
    assert response["Cache-Control"] == "no-store", response.get("Cache-Control")
    assert response["Pragma"] == "no-cache"


# --- Cache-Control ------------------------------------------------------------------------------


def test_tokens_are_not_cached_whether_the_login_works_or_not(api_client):
    user = DealerUserFactory(role="owner")

    good = api_client.post(
        "/api/v1/auth/token", {"email": user.email, "password": DEFAULT_PASSWORD}
    )
    bad = api_client.post("/api/v1/auth/token", {"email": user.email, "password": "wrong-Pass1"})

    assert good.status_code == 200 and "access" in good.json()
    assert_no_store(good)
    assert bad.status_code == 401
    assert_no_store(bad)


@pytest.mark.parametrize(
    "path", ["/api/v1/me", "/api/v1/company", "/api/v1/account/summary", "/api/v1/orders"]
)
def test_private_dealer_answers_are_not_cached(dealer_client, api_client, path):
    response = dealer_client("owner").get(path)

    assert response.status_code == 200, response.json()
    assert_no_store(response)
    assert_no_store(api_client.get(path))  # the 401 too


def test_integration_answers_are_not_cached(integration_client):
    response = integration_client().post("/api/integration/v1/stock", [], format="json")

    assert response.status_code == 200
    assert_no_store(response)


@pytest.mark.parametrize("path", ["/api/v1/products", "/api/v1/products/CACHE-1"])
def test_the_catalog_keeps_its_private_revalidated_caching_and_etag(dealer_client, path):
    ProductFactory(sku="CACHE-1")
    client = dealer_client("owner")

    response = client.get(path)

    assert response.status_code == 200
    assert response["ETag"]
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert directives == {"private", "no-cache"}
    not_modified = client.get(path, HTTP_IF_NONE_MATCH=response["ETag"])
    assert not_modified.status_code == 304
    assert "no-store" not in not_modified["Cache-Control"]


# --- /metrics -----------------------------------------------------------------------------------


@pytest.fixture
def metrics_settings(settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1/32", "::1/128"]
    return settings


def test_metrics_answer_an_address_in_the_allowlist(client, metrics_settings):
    metrics_settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]

    allowed = client.get("/metrics", REMOTE_ADDR="10.20.30.40")
    refused = client.get("/metrics", REMOTE_ADDR="203.0.113.9")

    assert allowed.status_code == 200
    assert b"django_http_requests_total_by_method_total" in allowed.content
    assert refused.status_code == 403
    assert b"django_http" not in refused.content


def test_metrics_answer_loopback_only_by_default_in_production(client, metrics_settings):
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.20").status_code == 403


def test_behind_a_proxy_the_forwarded_client_address_decides(client, metrics_settings):
    """A reverse proxy on the same host must not open /metrics to the world."""
    metrics_settings.REST_FRAMEWORK = {**metrics_settings.REST_FRAMEWORK, "NUM_PROXIES": 1}

    outside = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    inside = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1")

    assert outside.status_code == 403
    assert inside.status_code == 200


def test_metrics_need_the_bearer_token_when_one_is_set(client, metrics_settings):
    metrics_settings.METRICS_TOKEN = "scrape-Token-42"
    outside = {"REMOTE_ADDR": "203.0.113.9"}

    missing = client.get("/metrics", **outside)
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-Token-4", **outside)
    basic = client.get("/metrics", HTTP_AUTHORIZATION="Basic scrape-Token-42", **outside)
    right = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-Token-42", **outside)

    for refused in (missing, wrong, basic):
        assert refused.status_code == 401
        assert refused["WWW-Authenticate"].startswith("Bearer")
        assert refused.json()["code"] == "not_authenticated"
    assert right.status_code == 200
    assert b"django_http_requests_total_by_method_total" in right.content


def test_metrics_allowlist_defaults_follow_debug_and_bad_networks_stop_startup():
    probe = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.METRICS_ALLOWED_IPS))"
    )

    def allowed(env):
        return json.loads(run_python(probe, env).stdout.strip().splitlines()[-1])

    assert allowed(PRODUCTION) == ["127.0.0.1/32", "::1/128"]
    assert allowed({"DEBUG": "1"}) == ["0.0.0.0/0", "::/0"]
    assert allowed({**PRODUCTION, "METRICS_ALLOWED_IPS": "none"}) == []
    assert allowed({**PRODUCTION, "METRICS_ALLOWED_IPS": "10.0.0.0/8, 192.168.0.5"}) == [
        "10.0.0.0/8",
        "192.168.0.5",
    ]
    bad = run_python(["manage.py", "check"], {"METRICS_ALLOWED_IPS": "10.0.0.0/33"}, check=False)
    assert bad.returncode != 0 and "METRICS_ALLOWED_IPS" in bad.stderr


# --- API docs -----------------------------------------------------------------------------------

DOCS = ["/api/schema/", "/api/docs/", "/api/redoc/"]


@pytest.mark.parametrize("path", DOCS)
def test_the_api_docs_are_public_by_default(client, path):
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", DOCS)
def test_with_api_docs_public_off_only_staff_signed_in_see_the_docs(
    client, staff_client, dealer_client, settings, path
):
    settings.API_DOCS_PUBLIC = False

    assert client.get(path).status_code == 404
    assert dealer_client("owner").get(path).status_code == 404  # a dealer's token is no pass
    dealer_session = client
    dealer_session.force_login(DealerUserFactory(role="owner"))
    assert dealer_session.get(path).status_code == 404
    assert staff_client().get(path).status_code == 200


@pytest.mark.parametrize("path", DOCS)
def test_with_api_docs_public_off_a_staff_session_passes_only_after_its_two_factor_code(
    client, staff_client, settings, path
):
    settings.API_DOCS_PUBLIC = False
    client.force_login(StaffUserFactory(groups=["Super Admin"]))  # password given, no code yet
    response = client.get(path)
    assert response.status_code == 302 and "/admin/two-factor/" in response["Location"]
    assert staff_client("Super Admin").get(path).status_code == 200  # code given
