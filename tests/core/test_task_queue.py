"""Tasks queued durably (``apps.core.task_queue``): a row commits with the change that asked
for the task and goes once the task was sent; what the broker did not take is sent by the
sweep. (The broker down for real, then back with a worker and beat: test_services_down.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from apps.core.models import QueuedTask
from apps.core.task_queue import queued_tasks_send, task_enqueue
from apps.core.tasks import ping, queued_tasks_sweep

pytestmark = [pytest.mark.django_db]


def _answered(token: str) -> bool:
    return cache.get(f"celery:ping:{token}") is not None


def test_a_task_asked_for_in_a_rolled_back_transaction_is_neither_kept_nor_sent(
    django_capture_on_commit_callbacks,
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        task_enqueue(ping, "rolled-back")
        raise RuntimeError("the change failed")
    assert not QueuedTask.objects.exists()
    assert not _answered("rolled-back")


def test_a_task_is_sent_after_the_commit_and_its_row_goes(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with transaction.atomic():
            task_enqueue(ping, "committed")
        assert QueuedTask.objects.get().args == ["committed"]  # committed with the change
        assert not _answered("committed")
    for callback in callbacks:
        callback()
    assert _answered("committed")
    assert not QueuedTask.objects.exists()


def test_the_sweep_sends_what_the_broker_did_not_take_and_only_that(settings):
    settings.QUEUED_TASK_GRACE_SECONDS = 30
    old = QueuedTask.objects.create(name="core.ping", args=["left-behind"])
    QueuedTask.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    in_flight = QueuedTask.objects.create(name="core.ping", args=["in-flight"])
    unknown = QueuedTask.objects.create(name="nobody.knows", args=[])
    QueuedTask.objects.filter(pk=unknown.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )

    assert queued_tasks_sweep.apply().get() == 1

    assert _answered("left-behind")
    assert not _answered("in-flight")  # its own send after the commit may still be running
    assert list(QueuedTask.objects.values_list("pk", flat=True)) == [in_flight.pk]
    assert queued_tasks_send(older_than_seconds=0) == 1
    assert _answered("in-flight") and not QueuedTask.objects.exists()


def test_beat_runs_the_sweep_every_few_seconds():
    from config.celery import app

    entry = app.conf.beat_schedule["core-queued-tasks-sweep"]
    assert entry["task"] == "core.queued_tasks_sweep"
    assert 0 < entry["schedule"] <= 60


def test_a_task_sent_but_not_run_for_the_lost_time_is_sent_again(settings):
    """The broker took it, then lost it (a Redis restarted without its data, a worker killed
    with it in hand): its row stays until it has run, so the sweep sends it again."""
    settings.QUEUED_TASK_LOST_SECONDS = 600
    lost = QueuedTask.objects.create(
        name="core.ping", args=["lost"], sent_at=timezone.now() - timedelta(minutes=11)
    )
    waiting = QueuedTask.objects.create(
        name="core.ping", args=["waiting"], sent_at=timezone.now() - timedelta(minutes=9)
    )
    QueuedTask.objects.update(created_at=timezone.now() - timedelta(hours=1))

    assert queued_tasks_sweep.apply().get() == 1

    assert _answered("lost") and not _answered("waiting")  # still within a queue's wait
    assert list(QueuedTask.objects.values_list("pk", flat=True)) == [waiting.pk]
    assert lost.pk not in QueuedTask.objects.values_list("pk", flat=True)  # it ran: gone


def test_a_row_goes_when_its_task_succeeded_or_failed_for_good_not_between_retries():
    from types import SimpleNamespace

    from apps.core.task_queue import HEADER, task_finished

    row = QueuedTask.objects.create(name="core.ping", args=["x"], sent_at=timezone.now())
    task = SimpleNamespace(request=SimpleNamespace(headers={HEADER: row.pk}))
    task_finished(task=task, state="RETRY")
    assert QueuedTask.objects.filter(pk=row.pk).exists()
    task_finished(task=task, state="FAILURE")
    assert not QueuedTask.objects.exists()
    # a task not queued durably names no row
    other = QueuedTask.objects.create(name="core.ping", args=["y"])
    task_finished(task=SimpleNamespace(request=SimpleNamespace(headers=None)), state="SUCCESS")
    assert QueuedTask.objects.filter(pk=other.pk).exists()
