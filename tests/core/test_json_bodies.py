"""Hostile JSON bodies answer 400 ``parse_error`` in the error format of API.md, never 500:
nesting deeper than 64 levels (Python's decoder recursed until ``RecursionError``), bytes that
are not UTF-8, ``NaN``/``Infinity`` and numbers that overflow, duplicate keys. And no endpoint
of either API answers 500 to a body of the wrong shape (a scalar, a list, ``null``)."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.urls import URLPattern, URLResolver, get_resolver

from apps.accounts.models import Customer, User
from apps.catalog.models import Product
from apps.core.api.parsers import MAX_DEPTH, json_nesting_exceeds
from apps.orders.models import CartItem

pytestmark = [pytest.mark.django_db]

REGISTER = "/api/v1/auth/register"
CART_ITEMS = "/api/v1/cart/items"
PRODUCTS_FEED = "/api/integration/v1/products"


def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


def nested_objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


HOSTILE = {
    "nested arrays 1,000 deep": nested(1000).encode(),
    "nested objects 1,000 deep": nested_objects(1000).encode(),
    "nested 65 deep": nested(MAX_DEPTH + 1).encode(),
    "deep inside a field": ('{"sku": "A-1", "quantity": ' + nested(5000) + "}").encode(),
    "not UTF-8": b'{"sku": "\xff\xfe", "quantity": 1}',
    "overflowing float": b'{"sku": "A-1", "quantity": 1e999999}',
    "100,000-digit integer": b'{"sku": "A-1", "quantity": ' + b"9" * 100_000 + b"}",
    "NaN": b'{"sku": "A-1", "quantity": NaN}',
    "Infinity": b'{"sku": "A-1", "quantity": -Infinity}',
    "duplicate key": b'{"sku": "A-1", "quantity": 1, "quantity": 2}',
    "truncated": b'{"sku": "A-1", "quantity": [[[[',
    "unterminated string of escapes": b'{"sku": "' + b'\\"' * 50_000,
}


def assert_parse_error(response):
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert set(body) >= {"detail", "code", "errors"}
    assert body["code"] == "parse_error"
    assert isinstance(body["detail"], str) and body["detail"]
    # a body that does not parse names no field: its message is the body's (non_field_errors)
    assert body["errors"] == {"non_field_errors": [body["detail"]]}


def post_raw(client, url, body: bytes):
    return client.generic("POST", url, body, content_type="application/json")


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_body_to_the_anonymous_register_endpoint_answers_400(api_client, name):
    assert_parse_error(post_raw(api_client, REGISTER, HOSTILE[name]))
    assert not User.objects.exists() and not Customer.objects.exists()


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_body_to_a_dealer_endpoint_answers_400_and_adds_nothing(dealer_client, name):
    client = dealer_client("owner")
    assert_parse_error(post_raw(client, CART_ITEMS, HOSTILE[name]))
    assert not CartItem.objects.exists()


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_body_to_the_integration_api_answers_400_and_writes_nothing(
    integration_client, name
):
    assert_parse_error(post_raw(integration_client(), PRODUCTS_FEED, HOSTILE[name]))
    assert not Product.all_objects.exists()


def test_a_body_64_levels_deep_is_parsed_and_judged_by_the_serializer(dealer_client):
    client = dealer_client("owner")
    body = '{"sku": "A-1", "quantity": ' + nested(MAX_DEPTH - 1) + "}"
    response = post_raw(client, CART_ITEMS, body.encode())
    assert response.status_code == 400
    assert response.json()["code"] != "parse_error"
    assert "quantity" in response.json()["errors"]


BEYOND_64_BITS = b"100000000000000000000000000000"


def test_an_integer_beyond_64_bits_is_a_field_error_not_a_parse_error(dealer_client):
    client = dealer_client("owner")
    response = post_raw(client, CART_ITEMS, b'{"sku": "A-1", "quantity": ' + BEYOND_64_BITS + b"}")
    assert response.status_code == 400, response.content
    assert response.json()["code"] != "parse_error"
    assert "quantity" in response.json()["errors"]
    assert not CartItem.objects.exists()


def test_an_integer_beyond_64_bits_fails_its_record_not_the_batch(integration_client):
    """DESIGN.md: each record of a batch is validated on its own."""
    record = '{"sku": "%s", "name": "N", "category": "A", "unit": "piece", "vat_rate": 20%s}'
    body = "[" + record % ("BIG-1", ', "min_order_quantity": ' + BEYOND_64_BITS.decode())
    body += ", " + record % ("OK-1", "") + "]"
    response = post_raw(integration_client(), PRODUCTS_FEED, body.encode())
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["created"] == 1
    [failed] = answer["errors"]
    assert failed["index"] == 0 and "min_order_quantity" in failed["errors"]
    assert list(Product.all_objects.values_list("sku", flat=True)) == ["OK-1"]


def test_brackets_inside_strings_do_not_count_as_nesting():
    assert not json_nesting_exceeds('{"a": "' + "[{" * 1000 + '"}')
    assert not json_nesting_exceeds('["\\"[[[[[[[[[[", ' * 100 + "1" + "]" * 100, limit=100)
    assert json_nesting_exceeds(nested(MAX_DEPTH + 1))
    assert not json_nesting_exceeds(nested(MAX_DEPTH))
    assert not json_nesting_exceeds("[" + "[1]," * 10_000 + "1]")  # wide, not deep


# --- every endpoint, bodies of the wrong shape ---------------------------------------------------

WRONG_SHAPES = [b"1", b'"text"', b"null", b"true", b"[]", b"[1, 2]", b"{}", b'{"": {}}']
PATH_VALUES = {
    "int": "1",
    "str": "X-1",
    "slug": "x-1",
    "uuid": "00000000-0000-4000-8000-000000000001",
}


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def _url(route: str) -> str:
    def value(match):
        converter = match.group(1) or "str"
        return PATH_VALUES.get(converter, "1")

    return "/" + re.sub(r"<(?:(\w+):)?\w+>", value, route)


def api_urls(prefix: str) -> list[str]:
    return sorted({_url(r) for r in _walk(get_resolver().url_patterns) if r.startswith(prefix)})


@pytest.mark.parametrize(
    ("prefix", "who"), [("api/v1/", "dealer"), ("api/integration/v1/", "integration")]
)
def test_no_endpoint_answers_500_to_a_body_of_the_wrong_shape(
    prefix, who, dealer_client, integration_client
):
    client = dealer_client("owner") if who == "dealer" else integration_client()
    urls = api_urls(prefix)
    assert len(urls) > 10
    failures = []
    for url in urls:
        for method in ("POST", "PUT", "PATCH"):
            for body in WRONG_SHAPES:
                cache.clear()  # rate limits count in the cache
                response = client.generic(method, url, body, content_type="application/json")
                if response.status_code >= 500:
                    failures.append((method, url, body, response.status_code))
    assert failures == []


def test_no_endpoint_answers_406_nor_takes_format_as_a_renderer_pick(dealer_client):
    """An answer whatever ``Accept`` asks (a file endpoint asked for its own media type said
    406); ``?format=`` is an endpoint's own parameter (the statement's), not a 404 elsewhere."""
    client = dealer_client("owner")
    urls = api_urls("api/v1/")
    failures = []
    for url in urls:
        cache.clear()  # rate limits count in the cache
        plain = client.get(url).status_code
        for accept in ("application/pdf", "text/csv", "application/xml", "image/png"):
            status = client.get(url, HTTP_ACCEPT=accept).status_code
            if status == 406 or status != plain:
                failures.append((url, accept, plain, status))
        if "statement" not in url:
            status = client.get(url, {"format": "csv"}).status_code
            if status != plain:
                failures.append((url, "?format=csv", plain, status))
    assert failures == []


# bodies every endpoint must refuse without a 500, whatever parser it names: the JSON parser's
# refusals, and text UTF-8 cannot encode that an error message would quote back
EVERY_PARSER = [
    HOSTILE["nested arrays 1,000 deep"],
    HOSTILE["duplicate key"],
    b'{"\\ud800": "\\u0000", "type": "\\ud800", "status": "\\ud800", "lines": "\\ud800"}',
]


@pytest.mark.parametrize(
    ("prefix", "who"),
    [("api/v1/", "dealer"), ("api/v1/", "anonymous"), ("api/integration/v1/", "integration")],
)
def test_no_endpoint_answers_500_to_a_hostile_body(
    prefix, who, dealer_client, integration_client, api_client
):
    clients = {"anonymous": lambda: api_client, "integration": integration_client}
    client = clients.get(who, lambda: dealer_client("owner"))()
    failures = []
    for url in api_urls(prefix):
        for method in ("POST", "PUT", "PATCH"):
            for body in EVERY_PARSER:
                cache.clear()  # rate limits count in the cache
                response = client.generic(method, url, body, content_type="application/json")
                if response.status_code >= 500:
                    failures.append((method, url, body[:40], response.status_code))
    assert failures == []
