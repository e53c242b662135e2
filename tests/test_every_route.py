"""No request makes a 500: every route of the URL conf answers every method with its status or
405, whoever asks.

The walk reads ``get_resolver()`` (like ``tests/accounts/test_isolation.py``), so a route added
later is walked too. Path parameters are filled with a real object's key where one exists (the
caller's own address, order, cart line, webhook endpoint...; an admin page's object of its own
model) and a dummy otherwise. API routes get GET, POST, PUT, PATCH, DELETE, OPTIONS, HEAD and
TRACE (JSON ``{}`` as the body), as an anonymous client, a dealer owner (JWT) and the ERP (API
key); the admin and the operational routes (health, metrics, schema, docs) get GET, POST and
OPTIONS anonymously and as a superuser.
"""

from __future__ import annotations

import re
import time
import uuid

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from apps.core.models import OutboxEvent
from apps.integrations.models import WebhookDelivery, WebhookEndpoint
from apps.orders.models import Order
from tests.conftest import closed_port, staff_login
from tests.factories import DealerUserFactory, StaffUserFactory
from tests.orders.conftest import Shop, place

pytestmark = [pytest.mark.django_db]

API_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE")
PAGE_METHODS = ("GET", "POST", "OPTIONS")
DUMMY = {"int": "999999", "str": "UNKNOWN-1", "path": "UNKNOWN-1", "slug": "unknown"}
# seconds for one identity's walk: a bound on the loop, not a speed claim (a staff walk took
# 63 s on a machine loaded by other runs)
TIME_BOX = 180

_PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^()]*)\)")


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def all_routes() -> list[str]:
    return list(_walk(get_resolver().url_patterns))


def is_api(route: str) -> bool:
    return route.startswith("api/v1/") or route.startswith("api/integration/v1/")


def concrete(route: str, values: dict[str, object]) -> str:
    """A path for ``route``: its parameters (``<int:pk>``, or a regex group) filled in."""

    def parameter(match):
        name = match["name"]
        return str(values[name]) if name in values else DUMMY.get(match["converter"] or "str")

    def group(match):
        if match["name"] in values:
            return str(values[match["name"]])
        body = match["body"]
        return body.split("|")[0] if "|" in body else "missing.txt"

    path = _PARAMETER.sub(parameter, _GROUP.sub(group, route))
    return "/" + path.replace("^", "").replace("$", "")


class World:
    """A dealer with an order, a cart line, a sub-user and an address; an ERP key with a
    webhook endpoint and a delivery; a superuser. Each route's parameters come from here."""

    def __init__(self, dealer_client, integration_client):
        self.shop = Shop(dealer_client)
        product = self.shop.product("EVERY-1")
        self.dealer = self.shop.owner
        response = place(self.dealer, [("EVERY-1", 1)])
        assert response.status_code == 201, response.json()
        order = Order.objects.get(number=response.json()["number"])
        added = self.dealer.post("/api/v1/cart/items", {"sku": "EVERY-1", "quantity": 1})
        assert added.status_code == 201, added.json()
        cart_item = added.json()["lines"][0]["id"]
        colleague = DealerUserFactory(customer=self.shop.customer, role="purchasing")

        self.erp = integration_client()
        endpoint = WebhookEndpoint.objects.create(
            url=f"http://127.0.0.1:{closed_port()}/hook",
            secret="whsec_" + "a" * 32,
            event_types=["*"],
            api_key=self.erp.api_key,
        )
        event = OutboxEvent.objects.create(type="order.created", subject=f"order:{order.number}")
        delivery = WebhookDelivery.objects.create(
            event=event,
            endpoint=endpoint,
            webhook_id=f"msg_{uuid.uuid4().hex}",
            event_type="order.created",
            subject=event.subject,
            status=WebhookDelivery.Status.DEAD,
        )

        self.staff = Client(raise_request_exception=False)
        self.staff_user = StaffUserFactory(is_superuser=True)
        staff_login(self.staff, self.staff_user)
        self.anonymous = APIClient(raise_request_exception=False)
        for client in (self.dealer, self.erp):
            client.raise_request_exception = False

        self.by_name = {
            "sku": product.sku,
            "number": order.number,
            "content_type_id": ContentType.objects.get_for_model(order).pk,
            "object_id": order.pk,
        }
        self.by_route = {
            "api/v1/company/users/<int:pk>": {"pk": colleague.pk},
            "api/v1/company/addresses/<int:pk>": {"pk": self.shop.shipping.pk},
            "api/v1/cart/items/<int:pk>": {"pk": cart_item},
            "api/integration/v1/webhook-endpoints/": {"pk": endpoint.pk},
            "api/integration/v1/webhook-deliveries/": {"pk": delivery.pk},
        }

    def values(self, route: str) -> dict[str, object]:
        values = dict(self.by_name)
        for prefix, given in self.by_route.items():
            if route.startswith(prefix):
                values.update(given)
        admin_page = re.match(r"admin/(\w+)/(\w+)/<path:object_id>/", route)
        if admin_page:  # an object of that admin's own model, if there is one
            try:
                model = apps.get_model(admin_page[1], admin_page[2])
            except LookupError:
                model = None
            first = model._base_manager.order_by("pk").first() if model else None
            values["object_id"] = first.pk if first else DUMMY["int"]
        return values


@pytest.fixture
def world(dealer_client, integration_client, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}
    return World(dealer_client, integration_client)


def _send(client, method: str, path: str, *, api: bool):
    if api and method in ("POST", "PUT", "PATCH"):
        return client.generic(method, path, "{}", content_type="application/json")
    return client.generic(method, path)


def walk(world: World, client, routes, *, relogin=None) -> list[tuple[str, str, int]]:
    started = time.monotonic()
    failures = []
    for route in routes:
        api = is_api(route)
        path = concrete(route, world.values(route))
        for method in API_METHODS if api else PAGE_METHODS:
            response = _send(client, method, path, api=api)
            if response.status_code >= 500:
                failures.append((method, path, response.status_code))
            if relogin and "logout" in route:
                relogin()
    assert time.monotonic() - started < TIME_BOX
    return failures


def test_the_walk_covers_the_apis_the_admin_and_the_operational_routes():
    routes = all_routes()
    assert {"health/live", "metrics", "api/schema/", "api/v1/cart/items"} <= set(routes)
    assert sum(is_api(route) for route in routes) > 40
    assert sum(route.startswith("admin/") for route in routes) > 100
    assert concrete("api/v1/orders/<str:number>/cancel", {"number": "SO-1"}) == (
        "/api/v1/orders/SO-1/cancel"
    )
    assert concrete("admin/^(?P<app_label>auth|accounts)/$", {}) == "/admin/auth/"


@pytest.mark.parametrize("who", ["anonymous", "dealer", "erp"])
def test_every_api_route_answers_every_method_without_a_server_error(world, who):
    client = getattr(world, who)
    routes = [route for route in all_routes() if not route.startswith("admin/")]

    assert walk(world, client, routes) == []


@pytest.mark.parametrize("who", ["anonymous", "staff"])
def test_every_admin_route_answers_without_a_server_error(world, who):
    client = getattr(world, who)
    routes = [route for route in all_routes() if route.startswith("admin/")]

    def relogin():
        staff_login(world.staff, world.staff_user)

    assert walk(world, client, routes, relogin=relogin if who == "staff" else None) == []


def test_options_on_views_without_a_serializer_class_describes_them(world):
    for path in ("/api/v1/cart/items", "/api/v1/cart/import"):
        response = world.dealer.options(path)

        assert response.status_code == 200, (path, response.content[:300])
        assert "POST" in response["Allow"]
        assert response.json()["name"]


def test_options_describes_the_body_a_post_takes_not_the_answer(world):
    """``POST orders`` takes ``items`` and answers an order: OPTIONS lists what it takes (the
    body its schema declares), as the cart's and the addresses' do."""
    orders = world.dealer.options("/api/v1/orders").json()["actions"]["POST"]
    assert {"items", "po_number", "payment_method"} <= set(orders)
    assert "number" not in orders and "grand_total" not in orders
    assert orders["items"]["required"] is False

    # a POST that takes no body is described as such, not with the order it answers
    order = world.by_name["number"]
    reorder = world.dealer.options(f"/api/v1/orders/{order}/reorder").json()
    assert reorder["actions"]["POST"] == {}


def test_options_describes_the_body_of_views_with_no_serializer_of_their_own(world):
    """Sign-in, the price quote and the ERP's batches are plain API views: OPTIONS listed no
    ``actions`` for them, though security.md says every POST is described."""
    from rest_framework.test import APIClient

    anonymous = APIClient().options("/api/v1/auth/token").json()
    assert {"email", "password"} <= set(anonymous["actions"]["POST"])
    quote = world.dealer.options("/api/v1/prices/quote").json()
    assert "items" in quote["actions"]["POST"]
    prices = world.erp.options("/api/integration/v1/prices").json()
    assert {"sku", "price_list", "amount"} <= set(prices["actions"]["POST"])
