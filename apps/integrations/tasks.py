"""Celery tasks of the outbox and the webhooks. Each is safe to run twice: deliveries are
claimed under row locks before they are sent, and an event is fanned out once.

One task delivers many. A commit that wrote events queues ``outbox_dispatch`` unless one is
queued and not started yet (``webhooks:dispatch-queued`` in the cache): it fans out every
undispatched event, then claims, sends and records batches of due deliveries
(``services.delivery.deliveries_send_due``) until nothing is due. A full batch queues a
helper ``webhooks_deliver`` (one at a time: ``webhooks:pump-queued``), so under a burst every
worker process joins in; they share the work through ``SKIP LOCKED``. A failed attempt queues
``webhooks_deliver`` for when it is due again. The sweeper queues ``webhooks_deliver`` when
anything is overdue. A mark stays at most ``WEBHOOK_REQUEUE_SECONDS`` (a task lost with its
broker is queued again after that)."""

from __future__ import annotations

from datetime import datetime, timedelta

from celery import current_app, shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from apps.integrations.services import delivery as service

PUMP_QUEUED_KEY = "webhooks:pump-queued"
DISPATCH_QUEUED_KEY = "webhooks:dispatch-queued"


def _in_process() -> bool:
    """Tasks run eagerly (no broker: the demo, most tests): retries wait for the sweeper
    instead of being run at once."""
    return bool(current_app.conf.task_always_eager)


def deliveries_queue(delivery_ids=None, *, eta: datetime | None = None) -> None:
    """Have due deliveries sent (those of ``delivery_ids`` among them; none given: whatever is
    due), at ``eta``: one ``webhooks_deliver`` task."""
    if delivery_ids is not None and not list(delivery_ids):
        return
    webhooks_deliver.apply_async(eta=eta)


def _queued_once(key: str) -> bool:
    """Mark ``key`` queued (until its task starts, at most ``WEBHOOK_REQUEUE_SECONDS``);
    false when it already is. Without a cache the processes share (a local-memory cache
    with a broker) or while the cache is down (an ignored error answers ``None``), every
    call queues: more tasks, never a missed one."""
    if "locmem" in settings.CACHES["default"]["BACKEND"].lower() and not _in_process():
        return True
    return cache.add(key, 1, timeout=max(settings.WEBHOOK_REQUEUE_SECONDS, 1)) is not False


def pump_soon() -> None:
    """One more ``webhooks_deliver``, unless one is queued and not started yet."""
    if _queued_once(PUMP_QUEUED_KEY):
        webhooks_deliver.delay()


def outbox_dispatch_soon(event_ids: list[int]) -> None:
    """After a commit that wrote events: one ``outbox_dispatch`` of every undispatched event,
    unless one is queued and not started yet (it fans these out too: it starts by clearing
    its mark, then reads the events). Under load many commits share one task."""
    if _queued_once(DISPATCH_QUEUED_KEY):
        outbox_dispatch.delay()


def _pump() -> int:
    in_process = _in_process()
    done = service.deliveries_send_due(
        seconds=settings.WEBHOOK_PUMP_SECONDS,
        on_full_batch=None if in_process else pump_soon,  # more workers join in
    )
    if not in_process:
        if done.more:
            webhooks_deliver.delay()
        # one task per retry time (to the tenth of a second): it sends whatever is due then
        seen: set[float] = set()
        for eta in sorted(done.retry_at):
            key = round(eta.timestamp(), 1)
            if key not in seen:
                seen.add(key)
                webhooks_deliver.apply_async(eta=eta)
    return done.sent


@shared_task(name="integrations.outbox_dispatch", ignore_result=True)
def outbox_dispatch(event_ids: list[int] | None = None) -> int:
    """Fan out these events (all undispatched ones without ids), then send what is due."""
    if event_ids is None:
        cache.delete(DISPATCH_QUEUED_KEY)
    service.outbox_dispatch_events(event_ids=event_ids)
    return _pump()


@shared_task(name="integrations.webhooks_deliver", ignore_result=True)
def webhooks_deliver() -> int:
    """Send due deliveries, batch after batch, until none is due (or ``WEBHOOK_PUMP_SECONDS``
    have passed: then another task carries on). Returns how many attempts it made."""
    cache.delete(PUMP_QUEUED_KEY)
    return _pump()


@shared_task(name="integrations.webhook_deliver", ignore_result=True)
def webhook_deliver(delivery_id: int | None = None) -> int:
    """The task of the one-delivery-per-task version (still queued during an upgrade): it
    sends whatever is due, that delivery among them."""
    return webhooks_deliver()


@shared_task(name="integrations.webhooks_sweep", ignore_result=True)
def webhooks_sweep() -> dict[str, int]:
    """Run by celery beat every ``WEBHOOK_SWEEP_SECONDS``: events nobody fanned out and
    deliveries overdue by more than ``WEBHOOK_SWEEP_GRACE_SECONDS`` (a lost task, a worker
    killed mid-delivery whose lease ran out, Redis down at commit time) are sent now: one
    ``webhooks_deliver`` is queued unless one is queued already."""
    cutoff = timezone.now() - timedelta(seconds=settings.WEBHOOK_SWEEP_GRACE_SECONDS)
    started = service.outbox_dispatch_events(older_than=cutoff)
    due = service.deliveries_due(due_by=cutoff, limit=1)
    queued = 0
    if (started or due) and _queued_once(PUMP_QUEUED_KEY):
        webhooks_deliver.delay()
        queued = 1
    return {"dispatched": len(started), "due": len(due), "queued": queued}


@shared_task(name="integrations.outbox_prune")
def outbox_prune() -> int:
    """Daily: delivered events older than ``WEBHOOK_RETENTION_DAYS`` are deleted."""
    return service.outbox_prune(
        older_than=timezone.now() - timedelta(days=settings.WEBHOOK_RETENTION_DAYS)
    )
