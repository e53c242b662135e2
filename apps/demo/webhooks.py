"""Demo webhooks: while ``./dev demo`` runs its loopback receiver (``DEMO_WEBHOOK_URL``; the
command ``webhook_receiver``), the ERP connector subscribes, through the integration API, an
endpoint to every event its key may see, first in the seed, so the demo's events (orders,
returns, prices, stock, invoices...) are delivered signed through the normal path and the
admin's webhook endpoints and deliveries show them with their attempts. The receiver checks
each signature with the endpoint's secret and writes one line per event to
``media/demo-webhooks.log``. Without the variable (the tests, a plain ``seed_demo``) no
endpoint is made: nothing would receive; nor on SQLite, where deliveries are not sent
(docs/integration.md)."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import connection

from apps.demo.integration import demo_client, demo_key_ensure

ENDPOINTS = "/api/integration/v1/webhook-endpoints"
DESCRIPTION = "ERP connector: orders, returns and master data (demo receiver)"


def seed_webhooks(options) -> list[str]:
    url = settings.DEMO_WEBHOOK_URL
    if not url or connection.vendor != "postgresql":
        return []
    # first in the seed: an endpoint gets the events made after it subscribed
    demo_key_ensure()
    client = demo_client()
    listed = client.get(ENDPOINTS, {"page_size": 100}, secure=True)
    if listed.status_code != 200:
        raise RuntimeError(f"the demo's webhook endpoints: {listed.content[:300]}")
    if not any(item["url"] == url for item in listed.json()["results"]):
        created = client.post(
            ENDPOINTS,
            data=json.dumps({"url": url, "event_types": ["*"], "description": DESCRIPTION}),
            content_type="application/json",
            secure=True,
        )
        if created.status_code != 201:
            raise RuntimeError(f"the demo's webhook endpoint: {created.content[:300]}")
        # as a connector checks a new endpoint: a webhook.test through the delivery path
        tested = client.post(
            f"{ENDPOINTS}/{created.json()['id']}/test", content_type="application/json", secure=True
        )
        if tested.status_code != 202:
            raise RuntimeError(f"the demo's webhook test: {tested.content[:300]}")
    return [
        f"webhooks: the ERP connector's endpoint {url} gets every event, signed "
        "(what it received: media/demo-webhooks.log)"
    ]


def reset_webhooks(options) -> None:
    """Its endpoints go with the demo key (``apps.demo.integration.reset_integration``)."""


STEPS = [("webhooks", seed_webhooks, reset_webhooks)]
