"""Celery tasks that must not be lost when the broker is down or loses its queue: queued
durably.

``task_enqueue(task, *args)`` writes a ``QueuedTask`` row in the caller's transaction (so it
commits or rolls back with the change that asked for the task) and, after the commit, sends
the task to the broker, marking the row sent. The row goes when the task has run (succeeded,
or failed for good; not between retries: ``task_finished``), not when the broker took it: a
Redis restarted without its data, or a worker killed with the task in hand, lose the message,
not the row. Beat's ``core.queued_tasks_sweep`` sends the rows the after-commit send did not
(the broker down then, or the process died), after ``QUEUED_TASK_GRACE_SECONDS``, and again
the rows sent but not run for ``QUEUED_TASK_LOST_SECONDS``. A task may therefore run twice (a
long queue, or a worker dead before it said so): tasks queued this way must be safe to run
twice, as every task here is.

For work that has its own record of what is pending, its owner re-sends it instead (the
outbox's events, the notifications' e-mails); this is for the rest: a password-reset request,
an image's thumbnail.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import Task, current_app, states
from django.conf import settings
from django.db import transaction
from django.db.models import Q
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


HEADER = "queued_task"  # the message header naming the task's row


def _apply(task, pk: int, args: list) -> None:
    task.apply_async(args=args, headers={HEADER: pk})


def _send(pk: int, task, args: list) -> None:
    _apply(task, pk, args)  # raises when the broker is down: the row stays, unsent
    # (an eager task, or a fast worker, has run and deleted the row already: nothing to mark)
    QueuedTask.objects.filter(pk=pk, sent_at__isnull=True).update(sent_at=timezone.now())


def task_finished(sender=None, task=None, state=None, **kwargs) -> None:
    """Celery's ``task_postrun`` (connected by the core app): a task queued durably has run
    to its end (succeeded, or failed for good: a retry is not an end), so its row goes."""
    if task is None or state not in (states.SUCCESS, states.FAILURE):
        return
    headers = getattr(task.request, "headers", None) or {}
    pk = headers.get(HEADER, getattr(task.request, HEADER, None))
    if pk is not None:
        QueuedTask.objects.filter(pk=pk).delete()


def queued_tasks_send(
    *, older_than_seconds: float | None = None, lost_after_seconds: float | None = None
) -> int:
    """Send the queued tasks whose after-commit send did not happen (older than the grace
    period, so a send in flight is not doubled) and those sent that have not run for
    ``QUEUED_TASK_LOST_SECONDS`` (the broker lost them); stop at the first the broker
    refuses. Returns how many were sent."""
    grace = settings.QUEUED_TASK_GRACE_SECONDS if older_than_seconds is None else older_than_seconds
    lost = settings.QUEUED_TASK_LOST_SECONDS if lost_after_seconds is None else lost_after_seconds
    now = timezone.now()
    unsent = Q(sent_at__isnull=True, created_at__lte=now - timedelta(seconds=grace))
    lost_ones = Q(sent_at__lte=now - timedelta(seconds=lost))
    sent = 0
    with transaction.atomic():
        rows = list(
            QueuedTask.objects.select_for_update(skip_locked=True)
            .filter(unsent | lost_ones)
            .order_by("id")[:SWEEP_BATCH]
        )
        for row in rows:
            task = current_app.tasks.get(row.name)
            if task is None:
                logger.error("queued task %s is unknown: dropped (%s)", row.name, row.args)
                row.delete()
                continue
            if row.sent_at is not None:
                logger.warning(
                    "queued task %s%s sent at %s has not run: sent again",
                    row.name,
                    tuple(row.args),
                    row.sent_at.isoformat(),
                )
            try:
                _apply(task, row.pk, row.args)
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
            # (an eager task has run and deleted its row already)
            QueuedTask.objects.filter(pk=row.pk).update(
                sent_at=timezone.now(), attempts=row.attempts + 1
            )
            sent += 1
    return sent
