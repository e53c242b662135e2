"""A real Celery worker process, on the Redis broker, runs a task sent from here."""

import datetime
import time
import uuid

import pytest
from django.core.cache import cache
from django.utils import timezone

from config.celery import app as celery_app
from tests.celery_workers import Workers, one_worker, worker_env

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


@pytest.mark.django_db(transaction=True)
def test_the_worker_survives_a_lost_database_connection_when_a_task_expired(settings):
    """The main process stores an expired task's result itself, on a connection nothing
    else checks: cut after a database restart, that write used to stop the worker. Now the
    connection is opened again and the result stored."""
    from django.db import connection
    from django_celery_results.models import TaskResult

    app_name = f"b2b-test-worker-{uuid.uuid4().hex[:8]}"
    workers = Workers(worker_env(PGAPPNAME=app_name))
    try:
        proc = workers.start("--pool=solo", "--concurrency=1")
        expired = timezone.now() - datetime.timedelta(minutes=1)

        def stored_revoked(task_id: str) -> bool:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                assert proc.poll() is None, proc.stdout.read()
                if TaskResult.objects.filter(task_id=task_id, status="REVOKED").exists():
                    return True
                time.sleep(0.2)
            return False

        first = celery_app.send_task("core.ping", args=["first"], expires=expired)
        assert stored_revoked(first.id)
        with connection.cursor() as cursor:  # the worker's connections end (a restart)
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = %s",
                [app_name],
            )
            assert cursor.fetchone()[0] >= 1
        second = celery_app.send_task("core.ping", args=["second"], expires=expired)
        assert stored_revoked(second.id)
        assert proc.poll() is None
    finally:
        workers.close()


@pytest.mark.django_db(transaction=True)
def test_the_worker_outlives_a_database_outage_when_a_task_expired_meanwhile():
    """Beat's sweeps expire in the queue while a worker is busy; the worker stores each as
    revoked when it takes it. With the database away longer than the write's retries, that
    write failing stopped the worker (Celery's "unrecoverable error"), and nothing ran until
    someone restarted it. Now the revoked state is given up with a warning and the worker
    goes on once the database is back. The worker reaches the database through a proxy that
    the test takes down: a real outage."""
    from django.db import connection

    from tests.tcp_proxy import TcpProxy

    db = connection.settings_dict
    proxy = TcpProxy(int(db["PORT"] or 5432), target_host=db["HOST"] or "127.0.0.1")
    url = f"postgres://{db['USER']}@127.0.0.1:{proxy.port}/{db['NAME']}"
    workers = Workers(
        worker_env(
            DATABASE_URL=url,
            DB_CONN_MAX_AGE="0",
            DB_CONNECT_TIMEOUT="1",
            CELERY_RESULT_BACKEND_MAX_RETRIES="2",  # the outage outlasts the retries
        )
    )
    try:
        proc = workers.start("--pool=solo", "--concurrency=1")
        assert ping(proc, "before")
        proxy.down()
        expired = timezone.now() - datetime.timedelta(minutes=1)
        # a task whose result is stored (ping's is not): a sweep, as beat sends it
        celery_app.send_task("core.idempotency_purge", expires=expired)
        time.sleep(8)  # the worker takes it; its writes are refused, retried, given up
        assert proc.poll() is None, proc.stdout.read()
        proxy.up()
        assert ping(proc, "after")
    finally:
        workers.close()
        proxy.close()


def ping(proc, token: str) -> bool:
    celery_app.send_task("core.ping", args=[token])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read()
        if cache.get(f"celery:ping:{token}") is not None:
            return True
        time.sleep(0.2)
    return False


def test_celery_is_configured_for_at_least_once_delivery():
    conf = celery_app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_time_limit > conf.task_soft_time_limit > 0
    assert "core-heartbeat" in conf.beat_schedule
