"""A real Celery worker process, on the Redis broker, runs a task sent from here."""

import os
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.core.cache import cache

from config.celery import app as celery_app
from tests.conftest import ROOT

pytestmark = [pytest.mark.slow]


@pytest.fixture
def worker():
    assert settings.CELERY_BROKER_URL.startswith("redis://"), "the suite needs a Redis broker"
    env = {
        **os.environ,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            f"--hostname=test-{uuid.uuid4().hex[:8]}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


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
