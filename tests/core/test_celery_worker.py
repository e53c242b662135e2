"""A real Celery worker process, on the Redis broker, runs a task sent from here."""

import time
import uuid

import pytest
from django.core.cache import cache

from config.celery import app as celery_app
from tests.celery_workers import one_worker, worker_env

pytestmark = [pytest.mark.slow]


@pytest.fixture
def worker():
    yield from one_worker(worker_env(test_database=False), "--pool=solo", "--concurrency=1")


def test_a_task_round_trips_through_a_real_worker(worker):
    token = uuid.uuid4().hex
    celery_app.send_task("core.ping", args=[token])

    deadline = time.monotonic() + 60
    answer = None
    while time.monotonic() < deadline and answer is None:
        assert worker.poll() is None, worker.stdout.read()
        answer = cache.get(f"celery:ping:{token}")
        time.sleep(0.2)
    assert answer is not None and answer.startswith("pong from ")


def test_celery_is_configured_for_at_least_once_delivery():
    conf = celery_app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_time_limit > conf.task_soft_time_limit > 0
    assert "core-heartbeat" in conf.beat_schedule
