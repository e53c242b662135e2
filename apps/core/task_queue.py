"""Celery tasks that must not be lost when the broker is down: queued durably.

``task_enqueue(task, *args)`` writes a ``QueuedTask`` row in the caller's transaction (so it
commits or rolls back with the change that asked for the task) and, after the commit, sends
the task to the broker and deletes the row. When the broker is down then (or the process dies
in between), the row stays, and beat's ``core.queued_tasks_sweep`` sends it once the broker
answers again. A task may therefore run twice (sent, then the process died before the row was
deleted): tasks queued this way must be safe to run twice, as every task here is.

For work that has its own record of what is pending, its owner re-sends it instead (the
outbox's events, the notifications' e-mails); this is for the rest: a password-reset request,
an image's thumbnail.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import Task, current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.models import QueuedTask
from apps.core.transactions import after_commit

logger = logging.getLogger("apps.task_queue")

SWEEP_BATCH = 500


def task_enqueue(task, *args) -> QueuedTask:
    """Send ``task(*args)`` (plain JSON values) once the current transaction commits, and
    later should the broker not take it then."""
    row = QueuedTask.objects.create(name=task.name, args=list(args))
    after_commit(lambda: _send(row.pk, task, list(args)), name=f"queue {task.name}")
    return row


def task_enqueue_for_sweep(task, *args) -> QueuedTask:
    """Queue ``task(*args)`` for beat's next sweep, without a send now: work whose attempt in
    this process just failed (a cache version the cache did not take). Committed at once
    when no transaction runs (the callers run after a commit)."""
    grace = timedelta(seconds=settings.QUEUED_TASK_GRACE_SECONDS)
    return QueuedTask.objects.create(
        name=task.name, args=list(args), created_at=timezone.now() - grace
    )


class SweptWhenItGivesUp(Task):
    """A task whose last retry failed is queued for beat's sweep (``task_enqueue_for_sweep``),
    which sends it again, and again after each new run of retries: work nothing else would
    redo (an image's thumbnail while the file storage is away) outlives an outage longer
    than its retries. Only for tasks that fail for a reason that passes (their own checks
    make bad input a no-op)."""

    abstract = True

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        super().on_failure(exc, task_id, args, kwargs, einfo)
        task_enqueue_for_sweep(self, *args)
        logger.warning("task %s%s gave up (%s): queued for the sweep", self.name, args, exc)


def _send(pk: int, task, args: list) -> None:
    task.apply_async(args=args)  # raises when the broker is down: the row stays
    QueuedTask.objects.filter(pk=pk).delete()


def queued_tasks_send(*, older_than_seconds: float | None = None) -> int:
    """Send the queued tasks whose after-commit send did not happen (older than the grace
    period, so a send in flight is not doubled); stop at the first the broker refuses.
    Returns how many were sent."""
    grace = settings.QUEUED_TASK_GRACE_SECONDS if older_than_seconds is None else older_than_seconds
    before = timezone.now() - timedelta(seconds=grace)
    sent = 0
    with transaction.atomic():
        rows = list(
            QueuedTask.objects.select_for_update(skip_locked=True)
            .filter(created_at__lte=before)
            .order_by("id")[:SWEEP_BATCH]
        )
        for row in rows:
            task = current_app.tasks.get(row.name)
            if task is None:
                logger.error("queued task %s is unknown: dropped (%s)", row.name, row.args)
                row.delete()
                continue
            try:
                task.apply_async(args=row.args)
            except Exception as exc:
                QueuedTask.objects.filter(pk=row.pk).update(
                    attempts=row.attempts + 1,
                    last_error=f"{type(exc).__name__}: {exc}"[:300],
                )
                logger.warning(
                    "queued task %s not sent (%s: %s): %d wait for the broker",
                    row.name,
                    type(exc).__name__,
                    exc,
                    len(rows) - sent,
                )
                break
            row.delete()
            sent += 1
    return sent
