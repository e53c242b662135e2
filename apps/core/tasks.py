"""Operational tasks. Tasks take plain values, call one function and are safe to run twice."""

from __future__ import annotations

import socket

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from apps.core.cache import cache_version_incr
from apps.core.idempotency import idempotency_records_purge
from apps.core.task_queue import queued_tasks_send

HEARTBEAT_KEY = "celery:heartbeat"


@shared_task(name="core.ping", ignore_result=True)  # the answer is in the cache
def ping(token: str) -> str:
    """Answer a ping by writing where and when it ran into the cache (used by tests and ops)."""
    answer = f"pong from {socket.gethostname()}"
    cache.set(f"celery:ping:{token}", answer, timeout=300)
    return answer


@shared_task(name="core.heartbeat", ignore_result=True)  # every minute
def heartbeat() -> str:
    """Run by celery beat every minute: the time of the last beat is visible in the cache."""
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, now, timeout=None)
    return now


@shared_task(name="core.idempotency_purge")
def idempotency_purge() -> int:
    """Run by celery beat daily: forget Idempotency-Key records older than a week."""
    return idempotency_records_purge()


@shared_task(name="core.queued_tasks_sweep", ignore_result=True)  # every few seconds
def queued_tasks_sweep() -> int:
    """Run by celery beat: send the tasks queued durably whose send after their commit
    failed (the broker was down), ``apps.core.task_queue``."""
    return queued_tasks_send()


@shared_task(name="core.cache_version_bump", bind=True, ignore_result=True, max_retries=120)
def cache_version_bump_task(self, key: str) -> None:
    """A cache version bump the cache did not take after its commit (``apps.core.cache``),
    made once Redis answers; tried again every few seconds while it does not."""
    if not cache_version_incr(key):
        raise self.retry(countdown=5)
