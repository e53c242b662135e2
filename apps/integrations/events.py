"""The integrations app's own event (``webhook.test``), and the dispatcher it registers with
core's outbox: after each commit that wrote events, they are fanned out to the subscribed
webhook endpoints by a Celery task (``integrations.outbox_dispatch``, one for many commits
under load)."""

from __future__ import annotations

from django.conf import settings

from apps.core.events import EventType, outbox_dispatcher_register, register_event_type
from apps.integrations.tasks import outbox_dispatch_soon

WEBHOOK_TEST = EventType(
    "webhook.test",
    "Sent to one endpoint on request (admin action, `POST webhook-endpoints/{id}/test`) "
    "to check it receives and verifies our webhooks.",
    "webhook.test:<endpoint id>:<random>",
    {"endpoint": 7, "message": "This is a test event."},
    subscribable=False,
)


def outbox_dispatch_on_commit(event_ids: list[int]) -> None:
    """Core's outbox hands us the events a transaction wrote, after its commit."""
    if not settings.WEBHOOK_DISPATCH_ON_COMMIT:
        return  # left to the sweeper (a test of the sweeper itself)
    outbox_dispatch_soon(event_ids)


def register() -> None:
    register_event_type(WEBHOOK_TEST)
    outbox_dispatcher_register(outbox_dispatch_on_commit)
