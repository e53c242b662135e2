"""An endpoint deleted while an event is being fanned out (the verify sweep's finding): the
fan-out read the endpoint as live, the delete marked its pending deliveries dead and
committed, then the fan-out inserted a delivery nobody would ever send nor mark dead. Shown
with the interleaving that broke, in two threads on their own connections."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from apps.core.models import OutboxEvent
from apps.integrations.models import WebhookDelivery, WebhookEndpoint
from apps.integrations.services.delivery import outbox_dispatch_events
from apps.integrations.services.endpoints import webhook_endpoint_delete

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_an_endpoint_deleted_during_a_fan_out_gets_no_pending_delivery(make_endpoint):
    endpoint, _secret = make_endpoint("http://127.0.0.1:9/hook")
    # written, not yet fanned out (``event_emit`` would fan it out at once, tasks being eager)
    event = OutboxEvent.objects.create(
        type="webhook.test", subject="race:1", endpoint=endpoint, data={"message": "x"}
    )
    deleting, fanned = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def delete():
        try:
            with transaction.atomic():
                webhook_endpoint_delete(endpoint=WebhookEndpoint.objects.get(pk=endpoint.pk))
                deleting.set()
                fanned.wait(timeout=3)  # the fan-out runs meanwhile (and waits, fixed)
                time.sleep(0.3)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def fan_out():
        try:
            deleting.wait(timeout=10)
            fanned.set()
            outbox_dispatch_events(event_ids=[event.pk])
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=delete), threading.Thread(target=fan_out)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert not errors, errors
    assert not WebhookDelivery.objects.filter(
        endpoint_id=endpoint.pk, status=WebhookDelivery.Status.PENDING
    ).exists()
