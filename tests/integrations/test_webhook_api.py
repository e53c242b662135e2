"""Integration API: webhook-endpoints and webhook-deliveries of the calling key (scope
webhooks:manage): the secret once, isolation between keys (404), SSRF refused with 400,
the test event through the real delivery path, filters, manual retry (202 / 409), and a
query count that does not grow with the page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from standardwebhooks.webhooks import Webhook

from apps.core.events import event_emit
from apps.core.models import OutboxEvent
from apps.integrations.models import WebhookDelivery, WebhookEndpoint
from apps.integrations.services.delivery import outbox_dispatch_events
from tests.integrations.conftest import sweep_until

pytestmark = [pytest.mark.django_db]

ENDPOINTS = "/api/integration/v1/webhook-endpoints"
DELIVERIES = "/api/integration/v1/webhook-deliveries"


@pytest.fixture
def client(integration_client, fast_webhooks):
    """A key with every scope: it may subscribe to every type (the scope rules: below)."""
    return integration_client()


@pytest.fixture
def other(integration_client, fast_webhooks):
    return integration_client(name="another system")


def create(client, url="http://127.0.0.1:9/hooks", event_types=("*",), **extra):
    return client.post(
        ENDPOINTS, {"url": url, "event_types": list(event_types), **extra}, format="json"
    )


def test_create_answers_201_with_the_secret_once(client):
    response = create(client, event_types=["stock.changed", "customer.updated"], description="ERP")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["secret"].startswith("whsec_")
    Webhook(body["secret"])  # a secret the Standard Webhooks library accepts
    assert body["event_types"] == ["stock.changed", "customer.updated"]
    assert (body["url"], body["is_active"], body["description"]) == (
        "http://127.0.0.1:9/hooks",
        True,
        "ERP",
    )
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert endpoint.api_key == client.api_key and endpoint.secret == body["secret"]
    # never again
    assert "secret" not in client.get(f"{ENDPOINTS}/{body['id']}").json()
    assert "secret" not in client.get(ENDPOINTS).json()["results"][0]


def test_a_subscription_sent_again_with_its_idempotency_key_is_one_endpoint(client):
    """A retry after a timeout must not subscribe twice: every event would come twice, under
    two webhook-ids that the receiver's deduplication cannot match."""
    body = {"url": "http://127.0.0.1:9/hooks", "event_types": ["*"]}
    answers = [
        client.post(ENDPOINTS, body, format="json", HTTP_IDEMPOTENCY_KEY="sub-1") for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[1].json() == answers[0].json()
    assert WebhookEndpoint.objects.count() == 1
    changed = client.post(
        ENDPOINTS,
        {**body, "url": "http://127.0.0.1:9/other"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="sub-1",
    )
    assert changed.status_code == 409
    assert WebhookEndpoint.objects.count() == 1


def test_a_changed_read_only_field_is_named_not_ignored(client):
    made = create(client).json()
    url = f"{ENDPOINTS}/{made['id']}"
    echoed = {k: v for k, v in made.items() if k != "secret"}
    assert client.patch(url, {**echoed, "description": "ERP"}, format="json").status_code == 200
    refused = client.patch(url, {"id": made["id"] + 1, "description": "x"}, format="json")
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["id"]
    assert client.get(url).json()["description"] == "ERP"


def test_list_get_patch_delete_own_endpoint(client):
    endpoint_id = create(client).json()["id"]

    listed = client.get(ENDPOINTS).json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == endpoint_id

    patched = client.patch(
        f"{ENDPOINTS}/{endpoint_id}",
        {"event_types": ["product.updated"], "is_active": False, "description": "off"},
        format="json",
    )
    assert patched.status_code == 200
    assert (patched.json()["event_types"], patched.json()["is_active"]) == (
        ["product.updated"],
        False,
    )

    assert client.delete(f"{ENDPOINTS}/{endpoint_id}").status_code == 204
    assert client.get(f"{ENDPOINTS}/{endpoint_id}").status_code == 404
    assert client.get(ENDPOINTS).json()["count"] == 0
    assert WebhookEndpoint.all_objects.get(pk=endpoint_id).is_deleted


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("patch", ""),
        ("delete", ""),
        ("post", "/test"),
        ("options", ""),
        ("options", "/test"),
        ("head", ""),
    ],
)
def test_another_keys_endpoint_answers_404_and_stays_as_it_is(client, other, method, suffix):
    endpoint_id = create(other).json()["id"]

    response = getattr(client, method)(
        f"{ENDPOINTS}/{endpoint_id}{suffix}", {"is_active": False}, format="json"
    )

    assert response.status_code == 404
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    assert endpoint.is_active and not endpoint.is_deleted
    assert client.get(ENDPOINTS).json()["count"] == 0


def test_another_keys_deliveries_are_invisible(client, other):
    endpoint_id = create(other).json()["id"]
    event_emit("customer.updated", {"code": "X"})
    outbox_dispatch_events()
    delivery = WebhookDelivery.objects.get(endpoint_id=endpoint_id)

    assert client.get(DELIVERIES).json()["count"] == 0
    assert client.get(f"{DELIVERIES}/{delivery.pk}").status_code == 404
    assert client.post(f"{DELIVERIES}/{delivery.pk}/retry").status_code == 404
    assert other.get(DELIVERIES).json()["count"] == 1


@pytest.mark.parametrize(
    "path", [ENDPOINTS, f"{ENDPOINTS}/1", f"{ENDPOINTS}/1/test", DELIVERIES, f"{DELIVERIES}/1"]
)
def test_a_key_without_the_webhooks_scope_is_refused(integration_client, path):
    client = integration_client(scopes=["orders:read"])
    assert client.get(path).status_code in (403, 405)
    assert client.post(path, {}, format="json").status_code in (403, 405)


def test_without_a_key_401(api_client):
    assert api_client.get(ENDPOINTS).status_code == 401


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://10.0.0.5/hooks", "private"),
        ("http://172.16.3.4/hooks", "private"),
        ("http://192.168.1.10/hooks", "private"),
        ("http://100.64.0.1/hooks", "private"),  # carrier-grade NAT
        ("http://169.254.169.254/latest/meta-data/", "link-local"),  # cloud metadata
        ("http://[fe80::1]/hooks", "link-local"),
        ("http://[fd00::1]/hooks", "private"),
        ("http://[::ffff:10.0.0.1]/hooks", "private"),  # IPv4-mapped
        ("http://[64:ff9b::a9fe:a9fe]/hooks", "link-local"),  # NAT64 of the metadata address
        ("http://[2002:a00:1::]/hooks", "private"),  # 6to4 of 10.0.0.1
        ("http://[2002:a9fe:a9fe::]/hooks", "link-local"),  # 6to4 of the metadata address
        ("http://[fec0::1]/hooks", "reserved"),  # deprecated site-local
        ("http://0.0.0.0/hooks", "reserved"),
        ("http://240.0.0.1/hooks", "reserved"),
        ("http://224.0.0.1/hooks", "multicast"),
        ("ftp://example.com/hooks", "https:// or http://"),  # http allowed here (tests)
        ("http://user:pass@127.0.0.1/hooks", "no user name or password"),
        ("http://does-not-exist.invalid/hooks", "cannot be resolved"),
        ("not-a-url", "https:// or http://"),
        ("http://127.0.0.1:0/hooks", "Enter a valid URL."),  # nothing listens on port 0
        ("http://127.0.0.1:65536/hooks", "Enter a valid URL."),
    ],
)
def test_unsafe_urls_answer_400(client, url, says):
    response = create(client, url=url)

    assert response.status_code == 400
    assert says in response.json()["errors"]["url"][0]
    assert WebhookEndpoint.objects.count() == 0


CONTROL_CHARACTER_URLS = [
    "http://127.0.0.1:9/hooks\r\nX-Injected: 1",
    "http://127.0.0.1:9/ho\nok",
    "http://127.0.0.1:9/ho\tok",
    "http://127.0.0.1:9/hooks\x00",
    "http://127.0.0.1:9/ho\x7fok",
    "http://127.0.0.1:9/ho\x85ok",  # C1 next line
    "http://127.0.0.1:9/ho ok",
    "http://127.0.0.1:9/ho\u2028ok",  # line separator
]


@pytest.mark.parametrize("url", CONTROL_CHARACTER_URLS)
def test_a_url_with_a_space_or_control_character_answers_400_on_url(client, url):
    response = create(client, url=url)

    assert response.status_code == 400
    assert "url" in response.json()["errors"]
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.parametrize("url", CONTROL_CHARACTER_URLS)
def test_a_patch_to_a_url_with_a_control_character_is_refused(client, url):
    endpoint_id = create(client).json()["id"]
    response = client.patch(f"{ENDPOINTS}/{endpoint_id}", {"url": url}, format="json")
    assert response.status_code == 400
    assert "url" in response.json()["errors"]
    assert WebhookEndpoint.objects.get(pk=endpoint_id).url == "http://127.0.0.1:9/hooks"


def test_a_stored_url_with_a_control_character_is_never_called(fast_webhooks):
    from apps.integrations.services.delivery import webhook_post

    result = webhook_post(url="http://127.0.0.1:9/a\r\nHost: evil", headers={}, body="{}")
    assert result.error.startswith("refused")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1/hooks", "http://2130706433/hooks", "http://localhost/hooks"]
)
def test_loopback_only_when_allowed(client, settings, url):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    response = create(client, url=url)
    assert response.status_code == 400
    assert "loopback" in response.json()["errors"]["url"][0]

    settings.WEBHOOK_ALLOW_LOOPBACK = True
    assert create(client, url=url).status_code == 201


def test_https_is_required_in_production(client, settings):
    settings.WEBHOOK_REQUIRE_HTTPS = True
    response = create(client, url="http://127.0.0.1:9/hooks")
    assert response.status_code == 400
    assert "https://" in response.json()["errors"]["url"][0]


def test_a_patch_to_an_unsafe_url_is_refused(client):
    endpoint_id = create(client).json()["id"]
    response = client.patch(
        f"{ENDPOINTS}/{endpoint_id}", {"url": "http://169.254.169.254/"}, format="json"
    )
    assert response.status_code == 400
    assert WebhookEndpoint.objects.get(pk=endpoint_id).url == "http://127.0.0.1:9/hooks"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://127.0.0.1:9/", "event_types": []}, "event_types"),
        ({"url": "http://127.0.0.1:9/", "event_types": ["order.exploded"]}, "event_types.0"),
        ({"url": "http://127.0.0.1:9/", "event_types": ["webhook.test"]}, "event_types.0"),
        ({"url": "http://127.0.0.1:9/", "event_types": ["*"], "secret": "mine"}, "secret"),
        ({"event_types": ["*"]}, "url"),
    ],
)
def test_bad_input_answers_400_naming_the_field(client, body, field):
    response = client.post(ENDPOINTS, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_the_test_event_goes_through_the_delivery_path_to_that_endpoint_only(client, receiver):
    server = receiver()
    other_server = receiver()
    created = create(client, url=server.url).json()
    create(client, url=other_server.url)

    response = client.post(f"{ENDPOINTS}/{created['id']}/test")

    assert response.status_code == 202
    assert response.json()["type"] == "webhook.test"
    sweep_until(lambda: server.seen())
    (request,) = server.seen()
    assert request.json["type"] == "webhook.test"
    assert request.json["data"]["endpoint"] == created["id"]
    Webhook(created["secret"]).verify(request.body, request.headers)
    assert other_server.seen() == []
    listed = client.get(DELIVERIES, {"event_type": "webhook.test"}).json()
    assert listed["count"] == 1 and listed["results"][0]["status"] == "delivered"
    # a type that does not exist is refused, as an unknown status is (it listed nothing)
    for name, value in (("event_type", "order.creatd"), ("status", "sent")):
        refused = client.get(DELIVERIES, {name: value})
        assert refused.status_code == 400 and list(refused.json()["errors"]) == [name]


def test_a_test_told_to_come_back_in_an_hour_does_not_hold_the_next_test(client, receiver):
    """Deliveries of one subject keep their order: the tests of an endpoint shared one, so a
    receiver's ``Retry-After: 3600`` to one test held every later test for the hour."""
    server = receiver(script=[(503, {"Retry-After": "3600"})])
    created = create(client, url=server.url).json()
    assert client.post(f"{ENDPOINTS}/{created['id']}/test").status_code == 202
    sweep_until(lambda: server.seen())
    assert client.post(f"{ENDPOINTS}/{created['id']}/test").status_code == 202
    sweep_until(lambda: any(request.status == 200 for request in server.seen()))
    statuses = sorted(d.status for d in WebhookDelivery.objects.all())
    assert statuses == ["delivered", "pending"]  # the first waits its hour


def test_a_test_event_for_a_disabled_endpoint_answers_409(client):
    endpoint_id = create(client, is_active=False).json()["id"]
    response = client.post(f"{ENDPOINTS}/{endpoint_id}/test")
    assert response.status_code == 409
    assert response.json()["code"] == "endpoint_disabled"


def test_deliveries_list_detail_filters_and_retry(client, receiver, settings):
    settings.WEBHOOK_RETRY_TIME_SCALE = 0.01
    server = receiver(default=500)
    endpoint_id = create(client, url=server.url).json()["id"]
    second_id = create(
        client, url="http://127.0.0.1:9/other", event_types=["stock.changed"]
    ).json()["id"]
    event_emit("customer.updated", {"code": "X"}, subject="customer:X")
    sweep_until(lambda: WebhookDelivery.objects.filter(status="dead").exists(), timeout=20)

    body = client.get(DELIVERIES).json()
    assert body["count"] == 1
    (item,) = body["results"]
    assert (item["endpoint"], item["event_type"], item["status"]) == (
        endpoint_id,
        "customer.updated",
        "dead",
    )
    assert item["webhook_id"].startswith("msg_")
    assert len(item["attempts"]) == 6
    assert item["attempts"][0].keys() >= {"at", "status_code", "duration_ms", "error"}
    assert item["attempts"][0]["status_code"] == 500
    assert client.get(f"{DELIVERIES}/{item['id']}").json() == item

    for query, count in [
        ({"status": "dead"}, 1),
        ({"status": "pending"}, 0),
        ({"endpoint": endpoint_id}, 1),
        ({"endpoint": second_id}, 0),
        ({"event_type": "customer.updated"}, 1),
        ({"event_type": "stock.changed"}, 0),
        # as API.md writes the query: filters sent empty are absent
        ({"endpoint": "", "status": "", "event_type": ""}, 1),
    ]:
        assert client.get(DELIVERIES, query).json()["count"] == count, query
    for bad in ({"status": "lost"}, {"endpoint": "x"}, {"page_size": 0}):
        response = client.get(DELIVERIES, bad)
        assert response.status_code == 400
        assert set(bad) <= set(response.json()["errors"])

    # a dead delivery is retried (202) with the same webhook-id; a pending one is a 409
    server.default = 200
    retried = client.post(f"{DELIVERIES}/{item['id']}/retry")
    assert retried.status_code == 202
    assert retried.json()["webhook_id"] == item["webhook_id"]
    sweep_until(lambda: server.processed())
    assert list(server.processed()) == [item["webhook_id"]]
    again = client.post(f"{DELIVERIES}/{item['id']}/retry")
    assert again.status_code == 409 and again.json()["code"] == "not_dead"


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), len(response.json()["results"])


def test_list_query_counts_do_not_grow_with_the_page(client, settings):
    settings.WEBHOOK_ENDPOINTS_PER_KEY = 12
    for n in range(12):
        create(client, url=f"http://127.0.0.1:9/hooks/{n}", event_types=["customer.updated"])
    for n in range(3):
        event_emit("customer.updated", {"n": n}, subject=f"customer:{n}")
    outbox_dispatch_events()  # 36 deliveries
    delivery = WebhookDelivery.objects.first()
    from django.utils import timezone

    from apps.integrations.models import WebhookAttempt

    for number in (1, 2):
        WebhookAttempt.objects.create(delivery=delivery, number=number, at=timezone.now())

    for url, large_n in [(ENDPOINTS, 12), (DELIVERIES, 30)]:
        small, small_n = count_queries(client, f"{url}?page_size=5")
        large, large_n_seen = count_queries(client, f"{url}?page_size={large_n}")
        assert (small_n, large_n_seen) == (5, large_n)
        assert small == large, url
        assert large <= 6, url


@pytest.mark.parametrize("body", [b'{"a":', b'{"url": "https://x.test"}', b"[1]"])
def test_the_test_event_takes_no_input_and_refuses_a_body(client, body):
    endpoint_id = create(client).json()["id"]
    url = f"{ENDPOINTS}/{endpoint_id}/test"
    response = client.generic("POST", url, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert not OutboxEvent.objects.filter(type="webhook.test").exists()


@pytest.mark.parametrize("body", [b'{"a":', b'{"status": "pending"}', b"[1]"])
def test_a_retry_takes_no_input_and_refuses_a_body(client, body):
    endpoint_id = create(client).json()["id"]
    event = OutboxEvent.objects.create(type="customer.updated", subject="customer:X", data={})
    delivery = WebhookDelivery.objects.create(
        event=event,
        endpoint=WebhookEndpoint.objects.get(pk=endpoint_id),
        webhook_id="msg_dead",
        event_type=event.type,
        subject=event.subject,
        status=WebhookDelivery.Status.DEAD,
    )
    url = f"{DELIVERIES}/{delivery.pk}/retry"
    response = client.generic("POST", url, body, content_type="application/json")
    assert response.status_code == 400, response.content
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DEAD


@pytest.mark.parametrize("body", [b'{"a":', b'{"is_active": false}', b"[1]"])
def test_a_delete_takes_no_input_and_refuses_a_body(client, body):
    endpoint_id = create(client).json()["id"]
    url = f"{ENDPOINTS}/{endpoint_id}"
    response = client.generic("DELETE", url, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert WebhookEndpoint.objects.filter(pk=endpoint_id, is_deleted=False).exists()
    assert client.delete(url).status_code == 204


# --- what a key may receive -------------------------------------------------------------------


def test_subscribing_to_a_type_outside_the_keys_scopes_is_refused(integration_client):
    """A key that may not read orders cannot have them sent to it (a `webhooks:manage`-only
    key got whole orders, customers and payments by subscribing)."""
    client = integration_client(scopes=["webhooks:manage", "stock:write"])

    refused = create(client, event_types=["stock.changed", "order.created"])
    assert refused.status_code == 400, refused.json()
    assert "orders:read" in refused.json()["errors"]["event_types"][0]
    assert not WebhookEndpoint.objects.exists()

    taken = create(client, event_types=["stock.changed"])
    assert taken.status_code == 201, taken.json()
    patched = client.patch(
        f"{ENDPOINTS}/{taken.json()['id']}", {"event_types": ["customer.updated"]}, format="json"
    )
    assert patched.status_code == 400 and "customers:write" in str(patched.json()["errors"])
    assert WebhookEndpoint.objects.get().event_types == ["stock.changed"]


def test_all_events_is_every_type_the_key_may_see(integration_client):
    client = integration_client(scopes=["webhooks:manage", "stock:write"])
    endpoint = WebhookEndpoint.objects.get(pk=create(client).json()["id"])  # "*"
    admins = WebhookEndpoint.objects.create(url="http://127.0.0.1:9/admin", event_types=["*"])
    event_emit("stock.changed", {"products": []}, subject="stock")
    event_emit("order.created", {"number": "SO-1"}, subject="order:SO-1")
    event_emit("customer.updated", {"code": "C-1"}, subject="customer:C-1")

    outbox_dispatch_events()

    def received(target):
        return sorted(
            WebhookDelivery.objects.filter(endpoint=target).values_list("event_type", flat=True)
        )

    assert received(endpoint) == ["stock.changed"]
    assert received(admins) == ["customer.updated", "order.created", "stock.changed"]

    # the key given the scope later: the types it now may see reach it
    client.api_key.scopes = [*client.api_key.scopes, "orders:read"]
    client.api_key.save(update_fields=["scopes"])
    event_emit("order.created", {"number": "SO-2"}, subject="order:SO-2")
    outbox_dispatch_events()
    assert received(endpoint) == ["order.created", "stock.changed"]


def test_a_key_keeps_a_bounded_number_of_endpoints(client, other, settings):
    """Each endpoint costs every event a delivery: a key subscribing without bound (20 slow
    receivers) delayed everyone's webhooks."""
    settings.WEBHOOK_ENDPOINTS_PER_KEY = 2
    first = create(client, url="http://127.0.0.1:9/a").json()
    assert create(client, url="http://127.0.0.1:9/b").status_code == 201

    refused = create(client, url="http://127.0.0.1:9/c")

    assert refused.status_code == 409 and refused.json()["code"] == "too_many_endpoints"
    # a bad body is a 400 naming its field all the same (it was a 409 once the key was full)
    bad = create(client, url="http://169.254.169.254/latest")
    assert bad.status_code == 400 and list(bad.json()["errors"]) == ["url"]
    assert create(other, url="http://127.0.0.1:9/c").status_code == 201  # per key
    assert client.delete(f"{ENDPOINTS}/{first['id']}").status_code == 204
    assert create(client, url="http://127.0.0.1:9/c").status_code == 201
    assert WebhookEndpoint.objects.filter(api_key=client.api_key).count() == 2


def test_a_change_or_a_test_of_an_endpoint_deleted_meanwhile_is_404(client):
    """PATCH raced with DELETE answered 500 (the locked read found no endpoint), and a test
    event asked meanwhile stayed pending on the deleted endpoint for ever."""
    from apps.core.exceptions import NotFound
    from apps.integrations.services.endpoints import (
        webhook_endpoint_delete,
        webhook_endpoint_send_test,
        webhook_endpoint_update,
    )

    endpoint_id = create(client).json()["id"]
    stale = WebhookEndpoint.objects.get(pk=endpoint_id)
    webhook_endpoint_delete(endpoint=WebhookEndpoint.objects.get(pk=endpoint_id))
    with pytest.raises(NotFound):
        webhook_endpoint_update(endpoint=stale, data={"description": "p"})
    with pytest.raises(NotFound):
        webhook_endpoint_send_test(endpoint=stale)
    assert not WebhookDelivery.objects.filter(
        endpoint_id=endpoint_id, status=WebhookDelivery.Status.PENDING
    ).exists()
