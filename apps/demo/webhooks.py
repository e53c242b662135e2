"""Demo webhooks: while ``./dev demo`` runs its loopback receiver (``DEMO_WEBHOOK_URL``; the
command ``demo_webhook_receiver``), the ERP connector's key has an endpoint subscribed to every
event it may see, so the demo's events (orders, returns, prices, stock, invoices...) are
delivered signed through the normal path, and the admin's webhook endpoints and deliveries
show them with their attempts. The receiver checks each signature and writes one line per
event to ``media/demo-webhooks.log``. Without the variable (the tests, a plain ``seed_demo``)
no endpoint is made: nothing would receive; nor on SQLite, where deliveries are not sent
(docs/webhooks.md). DEMO ONLY: the signing secret is fixed."""

from __future__ import annotations

import base64
import hashlib

from django.conf import settings
from django.db import connection

from apps.core.events import ALL_EVENTS
from apps.demo.integration import demo_key_ensure
from apps.integrations.models import WebhookEndpoint
from apps.integrations.services.endpoints import webhook_endpoint_create, webhook_endpoint_send_test

DEMO_WEBHOOK_PORT = 8766
DESCRIPTION = "ERP connector: orders, returns and master data (demo receiver)"


def demo_webhook_secret() -> str:
    """The demo endpoint's signing secret: fixed, so the receiver can check signatures."""
    return "whsec_" + base64.b64encode(hashlib.sha256(b"b2b-demo-webhook").digest()[:24]).decode()


def seed_webhooks(options) -> list[str]:
    url = settings.DEMO_WEBHOOK_URL
    if not url or connection.vendor != "postgresql":
        return []
    # early in the seed: an endpoint gets the events made after it subscribed
    key = demo_key_ensure()
    endpoint = WebhookEndpoint.objects.filter(api_key=key, url=url).first()
    if endpoint is None:
        endpoint, _secret = webhook_endpoint_create(
            url=url, event_types=[ALL_EVENTS], description=DESCRIPTION, api_key=key
        )
        endpoint.secret = demo_webhook_secret()
        endpoint.save(update_fields=["secret"])
        # as staff check a new endpoint: a webhook.test through the delivery path
        webhook_endpoint_send_test(endpoint=endpoint)
    return [
        f"webhooks: the ERP connector's endpoint {url} gets every event, signed "
        "(what it received: media/demo-webhooks.log)"
    ]


def reset_webhooks(options) -> None:
    # (the key may be gone already: the integration step's reset runs first)
    WebhookEndpoint.objects.filter(description=DESCRIPTION).delete()


STEPS = [("webhooks", seed_webhooks, reset_webhooks)]
