"""Real Celery worker processes for the tests that need one: started on this run's Redis
broker (its database flushed before and after), stopped (then killed) at the end, every child
included. One way to start them, for the job dashboard, the webhook worker and the round trip
tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator

import redis
from django.conf import settings

from tests.conftest import ROOT, subprocess_database_url


def broker_url() -> str:
    assert settings.CELERY_BROKER_URL.startswith("redis://"), "the suite needs a Redis broker"
    return settings.CELERY_BROKER_URL


def worker_env(*, test_database: bool = True, **extra: str) -> dict[str, str]:
    """The environment of a worker: this run's settings, broker and cache, tasks not eager;
    with ``test_database`` the test database (its connections closed after each task), else
    the one the environment names. ``extra`` adds or overrides variables."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CELERY_BROKER_URL": broker_url(),
        "REDIS_URL": settings.CACHES["default"]["LOCATION"],
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "LOG_LEVEL": "WARNING",
    }
    if test_database:
        env |= {"DATABASE_URL": subprocess_database_url(), "DB_CONN_MAX_AGE": "0"}
    return env | extra


class Workers:
    """``start(*arguments)`` starts ``celery -A config worker`` with those arguments (a pool,
    ``--beat``...) and a unique host name, in its own process group; ``kill(proc)`` SIGKILLs
    the group; ``close()`` stops every one started (SIGTERM, then SIGKILL) and flushes the
    broker."""

    def __init__(self, env: dict[str, str], *, name: str = "test", output: bool = True):
        self.env, self.name, self.output = env, name, output
        self.started: list[subprocess.Popen] = []
        redis.Redis.from_url(broker_url()).flushdb()

    def start(self, *arguments: str, loglevel: str = "WARNING") -> subprocess.Popen:
        pipe = subprocess.PIPE if self.output else subprocess.DEVNULL
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                *arguments,
                f"--loglevel={loglevel}",
                "--without-gossip",
                "--without-mingle",
                f"--hostname={self.name}-{uuid.uuid4().hex[:8]}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=pipe,
            stderr=subprocess.STDOUT if self.output else subprocess.DEVNULL,
            text=True,
            start_new_session=True,  # its own process group: a signal reaches every child
        )
        self.started.append(proc)
        return proc

    @staticmethod
    def kill(proc: subprocess.Popen) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def close(self) -> None:
        for proc in self.started:
            if proc.poll() is not None:
                continue
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill(proc)
        redis.Redis.from_url(broker_url()).flushdb()


def one_worker(env: dict[str, str], *arguments: str, name: str = "test") -> Iterator:
    """For a fixture: ``yield from one_worker(env, "--pool=solo")`` yields one started worker
    (its output readable for a failure message) and stops it afterwards."""
    workers = Workers(env, name=name)
    try:
        yield workers.start(*arguments)
    finally:
        workers.close()
