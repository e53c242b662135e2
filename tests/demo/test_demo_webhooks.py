"""The demo's webhooks (PostgreSQL): ``./dev demo`` runs ``webhook_receiver`` and seeds an
endpoint for it through the integration API, so the demo's events are delivered signed through
the normal path and the admin's endpoints and deliveries screens show them. The receiver is a
process of its own: it reads the endpoint's secret from the database, so the seed commits
(``transaction=True``)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from io import StringIO

import pytest
from django.core.management import call_command

from apps.integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from apps.integrations.services.delivery import deliveries_send_due, outbox_dispatch_events
from tests.integrations.receiver import receiver_command

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_receiver(tmp_path, transactional_db):
    log = tmp_path / "demo-webhooks.log"
    with receiver_command(log) as (port, _process):
        yield f"http://127.0.0.1:{port}/erp/webhooks", log


def test_the_demos_events_reach_its_receiver_signed(demo_receiver, settings):
    url, log = demo_receiver
    settings.DEMO_WEBHOOK_URL = url
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    settings.WEBHOOK_REQUIRE_HTTPS = False
    call_command("seed_demo", "--products", "40", "--dealers", "4", stdout=StringIO())
    outbox_dispatch_events()  # as after the seed's commit
    deliveries_send_due(seconds=60)

    endpoint = WebhookEndpoint.objects.get(url=url)
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint)
    kinds = set(deliveries.values_list("event_type", flat=True))
    # the endpoint subscribed early in the seed: the orders, returns and invoices reach it
    assert {"webhook.test", "order.created", "return.requested", "invoice.created"} <= kinds
    assert deliveries.count() > 20
    attempts = WebhookAttempt.objects.filter(delivery__endpoint=endpoint)
    assert set(deliveries.values_list("status", flat=True)) == {"delivered"}, (
        list(attempts.values_list("status_code", "error")[:3]),
        log.read_text()[:500],
    )
    lines = log.read_text().splitlines()
    assert len(lines) == deliveries.count()
    assert all(line.endswith("signature ok") for line in lines), lines[:3]

    # a request not signed with the endpoint's secret is refused and logged so
    forged = urllib.request.Request(  # noqa: S310 - loopback
        url,
        data=b'{"type": "order.created"}',
        headers={
            "webhook-id": "msg_forged",
            "webhook-timestamp": str(int(time.time())),
            "webhook-signature": "v1,AAAA",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(forged, timeout=5)  # noqa: S310 - loopback
    assert refused.value.code == 401
    assert "REFUSED msg_forged" in log.read_text()


def test_without_a_receiver_the_demo_subscribes_nothing(settings):
    settings.DEMO_WEBHOOK_URL = ""
    call_command("seed_demo", "--products", "40", "--dealers", "4", stdout=StringIO())
    assert not WebhookEndpoint.objects.exists()
