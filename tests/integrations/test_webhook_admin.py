"""The webhook back office: endpoints (URL checked against SSRF, the secret shown once, a "send
test event" action), the outbox, deliveries with their attempts inline, filters, and the retry
of dead letters. Super Admin only; Customer Service reads the notification log."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from apps.core.events import event_emit
from apps.integrations.models import WebhookDelivery, WebhookEndpoint
from apps.integrations.services.delivery import outbox_dispatch_events
from tests.integrations.conftest import sweep_until

pytestmark = [pytest.mark.django_db]

ENDPOINTS = "/admin/integrations/webhookendpoint/"
DELIVERIES = "/admin/integrations/webhookdelivery/"
EVENTS = "/admin/core/outboxevent/"
SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]{32}")


def run_action(client, url, action, objects):
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(o.pk) for o in objects]}
    return client.post(url, data, follow=True)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def admin(staff_client, fast_webhooks):
    return staff_client("Super Admin")


def test_creating_an_endpoint_shows_its_secret_once(admin):
    response = admin.post(
        f"{ENDPOINTS}add/",
        {
            "url": "http://127.0.0.1:9/hooks",
            "description": "ERP",
            "event_types": ["stock.changed", "product.updated"],
            "is_active": "on",
        },
        follow=True,
    )

    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    (shown,) = SECRET.findall(" ".join(messages_of(response)))
    assert shown == endpoint.secret
    assert endpoint.event_types == ["stock.changed", "product.updated"]
    assert endpoint.created_by == admin.user
    assert endpoint.secret not in admin.get(f"{ENDPOINTS}{endpoint.pk}/change/").content.decode()


def test_the_admin_refuses_a_metadata_address(admin):
    response = admin.post(
        f"{ENDPOINTS}add/",
        {"url": "http://169.254.169.254/latest", "event_types": ["*"], "is_active": "on"},
    )
    assert response.status_code == 200
    assert "link-local" in response.content.decode()
    assert WebhookEndpoint.objects.count() == 0


def test_the_admin_form_refuses_what_the_key_may_not_have_instead_of_a_500(admin, settings):
    """An event type outside the chosen key's scopes, or one endpoint more than the key may
    keep, answered 500 from the service; on the change page a key with all its endpoints
    could be given one more."""
    from apps.accounts.services.api_keys import api_key_create
    from apps.integrations.services.endpoints import webhook_endpoint_create

    settings.WEBHOOK_ENDPOINTS_PER_KEY = 1
    narrow, _raw = api_key_create(name="stock only", scopes=["webhooks:manage", "stock:write"])
    full, _raw = api_key_create(name="full")
    webhook_endpoint_create(url="http://127.0.0.1:9/full", event_types=["*"], api_key=full)
    form = {"url": "http://127.0.0.1:9/new", "is_active": "on"}

    scoped = admin.post(
        f"{ENDPOINTS}add/", {**form, "event_types": ["order.created"], "api_key": narrow.pk}
    )
    crowded = admin.post(f"{ENDPOINTS}add/", {**form, "event_types": ["*"], "api_key": full.pk})
    keyless, _secret = webhook_endpoint_create(url="http://127.0.0.1:9/k", event_types=["*"])
    moved = admin.post(
        f"{ENDPOINTS}{keyless.pk}/change/",
        {**form, "event_types": ["*"], "api_key": full.pk},
    )

    for response in (scoped, crowded, moved):
        assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert "orders:read" in scoped.content.decode()
    assert WebhookEndpoint.objects.filter(api_key=full).count() == 1
    assert WebhookEndpoint.objects.filter(api_key=narrow).count() == 0


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/ho\x7fok", "http://127.0.0.1:9/a\x85b"])
def test_the_admin_refuses_a_url_with_a_control_character(admin, url):
    response = admin.post(f"{ENDPOINTS}add/", {"url": url, "event_types": ["*"], "is_active": "on"})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert WebhookEndpoint.objects.count() == 0


def test_send_test_event_action_delivers_through_the_normal_path(admin, receiver, make_endpoint):
    server = receiver()
    endpoint, _secret = make_endpoint(server.url, event_types=["stock.changed"])

    response = run_action(admin, ENDPOINTS, "send_test_event", [endpoint])

    assert any("on its way to 1 endpoint" in m for m in messages_of(response))
    sweep_until(lambda: server.seen())
    assert server.seen()[0].json["type"] == "webhook.test"


def test_deliveries_list_filters_and_shows_attempts_inline(admin, receiver, make_endpoint):
    server = receiver(default=500)
    endpoint, _secret = make_endpoint(server.url)
    event_emit("customer.updated", {"code": "X"}, subject="customer:X")
    sweep_until(lambda: server.seen())
    delivery = WebhookDelivery.objects.get()

    for query in (
        "status__exact=pending",
        "event_type=customer.updated",
        f"endpoint__id__exact={endpoint.pk}",
    ):
        listed = admin.get(f"{DELIVERIES}?{query}")
        assert listed.status_code == 200
        assert list(listed.context["cl"].result_list) == [delivery], query
    assert list(admin.get(f"{DELIVERIES}?status__exact=dead").context["cl"].result_list) == []
    page = admin.get(f"{DELIVERIES}{delivery.pk}/change/").content.decode()
    assert delivery.webhook_id in page and "500" in page
    assert admin.get(EVENTS).status_code == 200
    assert admin.get(f"{EVENTS}{delivery.event_id}/change/").status_code == 200


def test_dead_deliveries_are_retried_by_the_admin_action(admin, receiver, make_endpoint, settings):
    settings.WEBHOOK_RETRY_TIME_SCALE = 0.01
    server = receiver(default=500)
    make_endpoint(server.url)
    event_emit("customer.updated", {"code": "X"}, subject="customer:X")
    delivery = sweep_until(lambda: WebhookDelivery.objects.filter(status="dead").first())
    server.default = 200

    response = run_action(admin, DELIVERIES, "retry_selected", [delivery])

    assert any("1 dead delivery sent again" in m for m in messages_of(response))
    sweep_until(lambda: server.processed())
    assert list(server.processed()) == [delivery.webhook_id]


@pytest.mark.parametrize("role", ["Customer Service", "Sales Manager", "Content Manager"])
def test_other_staff_roles_do_not_see_the_webhook_screens(staff_client, role):
    client = staff_client(role)
    for url in (ENDPOINTS, DELIVERIES, EVENTS):
        assert client.get(url).status_code == 403


def test_customer_service_reads_the_notification_log(staff_client):
    client = staff_client("Customer Service")
    assert client.get("/admin/notifications/notification/").status_code == 200
    assert client.get("/admin/notifications/notification/add/").status_code == 403


def test_deliveries_list_query_count_does_not_grow(admin, make_endpoint):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_endpoint("http://127.0.0.1:9/a")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert admin.get(DELIVERIES).status_code == 200
        return len(ctx.captured_queries)

    event_emit("customer.updated", {"n": 0}, subject="customer:0")
    outbox_dispatch_events()
    count()  # warm: one-time lookups (content types, the session) are not the list's
    few = count()
    for n in range(1, 15):
        event_emit("customer.updated", {"n": n}, subject=f"customer:{n}")
    outbox_dispatch_events()
    assert count() <= few
