"""Celery tasks of the outbox and the webhooks. Each is safe to run twice: a delivery is
claimed under a row lock before it is sent, and an event is fanned out once.

A delivery's task is marked queued in the cache (``webhooks:queued:<id>``) until it starts, so
the sweeper does not queue it again while the workers are merely busy; a task lost with its
broker or its worker is queued again ``WEBHOOK_REQUEUE_SECONDS`` after it was due (a worker
killed mid-delivery: once the lease has run out)."""

from __future__ import annotations

from datetime import datetime, timedelta

from celery import current_app, shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from apps.integrations.services import delivery as service

QUEUED_KEY = "webhooks:queued:{}"
CHAIN_MAX = 50  # deliveries of one subject a task sends in a row before it hands over


def _in_process() -> bool:
    """Tasks run eagerly (no broker: the demo, most tests): retries wait for the sweeper
    instead of being run at once."""
    return bool(current_app.conf.task_always_eager)


def deliveries_queue(delivery_ids, *, eta: datetime | None = None) -> None:
    """Queue a delivery task for each id (at ``eta``), marked queued for the sweeper."""
    ids = list(delivery_ids)
    if not ids:
        return
    wait = max((eta - timezone.now()).total_seconds(), 0) if eta else 0
    ttl = max(settings.WEBHOOK_REQUEUE_SECONDS + wait, 1)
    cache.set_many({QUEUED_KEY.format(pk): 1 for pk in ids}, timeout=ttl)
    for pk in ids:
        webhook_deliver.apply_async((pk,), eta=eta)


@shared_task(name="integrations.outbox_dispatch")
def outbox_dispatch(event_ids: list[int] | None = None) -> int:
    """Fan out these events (all undispatched ones without ids), then start the deliveries."""
    started = service.outbox_dispatch_events(event_ids=event_ids)
    deliveries_queue(started)
    return len(started)


@shared_task(name="integrations.webhook_deliver")
def webhook_deliver(delivery_id: int) -> str:
    """One attempt of a delivery. When it is settled (delivered or dead), the next pending
    delivery of the same subject to the same endpoint follows in this task (up to CHAIN_MAX,
    then in a new one); when it failed, its next attempt is queued for when it is due."""
    cache.delete(QUEUED_KEY.format(delivery_id))
    status = "skipped"
    chained = 0
    while True:
        done = service.delivery_attempt(delivery_id)
        if done is None:
            return status
        claim, outcome = done
        if outcome is None:
            return "taken over"
        status = outcome.status
        if outcome.status == service.PENDING:
            if not _in_process():
                deliveries_queue([delivery_id], eta=outcome.next_attempt_at)
            return status
        following = service.delivery_next_in_line(
            endpoint_id=claim.delivery.endpoint_id, subject=claim.delivery.subject
        )
        if following is None:
            return status
        chained += 1
        if chained >= CHAIN_MAX and not _in_process():
            deliveries_queue([following])
            return status
        # this task carries on with it: the sweeper leaves it alone meanwhile
        cache.set(QUEUED_KEY.format(following), 1, timeout=settings.WEBHOOK_REQUEUE_SECONDS)
        delivery_id = following


@shared_task(name="integrations.webhooks_sweep")
def webhooks_sweep() -> dict[str, int]:
    """Run by celery beat every ``WEBHOOK_SWEEP_SECONDS``: events nobody fanned out and
    deliveries overdue by more than ``WEBHOOK_SWEEP_GRACE_SECONDS`` with no task queued (a
    lost task, a worker killed mid-delivery whose lease ran out, Redis down at commit time)
    are sent now."""
    cutoff = timezone.now() - timedelta(seconds=settings.WEBHOOK_SWEEP_GRACE_SECONDS)
    started = service.outbox_dispatch_events(older_than=cutoff)
    deliveries_queue(started)
    fresh = set(started)
    due = [pk for pk in service.deliveries_due(due_by=cutoff) if pk not in fresh]
    queued = cache.get_many([QUEUED_KEY.format(pk) for pk in due]) if due else {}
    left = [pk for pk in due if QUEUED_KEY.format(pk) not in queued]
    deliveries_queue(left)
    return {"dispatched": len(started), "due": len(left)}


@shared_task(name="integrations.outbox_prune")
def outbox_prune() -> int:
    """Daily: delivered events older than ``WEBHOOK_RETENTION_DAYS`` are deleted."""
    return service.outbox_prune(
        older_than=timezone.now() - timedelta(days=settings.WEBHOOK_RETENTION_DAYS)
    )
