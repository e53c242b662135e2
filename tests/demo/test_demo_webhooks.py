"""The demo's webhooks (PostgreSQL): ``./dev demo`` runs ``webhook_receiver`` and seeds an
endpoint for it through the integration API, so the demo's events are delivered signed through
the normal path and the admin's endpoints and deliveries screens show them. The receiver is a
process of its own: it reads the endpoint's secret from the database, so the seed commits
(``transaction=True``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from apps.integrations.services.delivery import deliveries_send_due, outbox_dispatch_events

pytestmark = [pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def demo_receiver(tmp_path, transactional_db):
    from django.db import connection

    port, log = _free_port(), tmp_path / "demo-webhooks.log"
    db = connection.settings_dict  # the test database, where the seed writes the endpoint
    login = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    address = f"postgres://{login}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    process = subprocess.Popen(
        [sys.executable, "manage.py", "webhook_receiver", "--port", str(port), "--log", log],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": address},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline, "the receiver did not start"
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/erp/webhooks", log
    finally:
        process.terminate()
        process.wait(timeout=10)


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
