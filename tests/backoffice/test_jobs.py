"""The job dashboard (issue "Back office": "Celery task results and periodic tasks visible and
retryable in the admin", and the "failed jobs" work queue): a failed task is stored with its
name, arguments and error; super admins (only) list it and send it again with the same
arguments, which records who did it and empties the queue; periodic tasks come from
CELERY_BEAT_SCHEDULE into the database, where staff disable or run them."""

from __future__ import annotations

import datetime
import math
import time
import uuid

import pytest
from celery import states
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from django_celery_results.models import TaskResult

from apps.accounts.roles import STAFF_GROUPS
from apps.backoffice.jobs import job_retry
from apps.backoffice.models import JobRetry
from apps.backoffice.selectors import work_queues
from apps.core.exceptions import Conflict
from apps.core.tasks import HEARTBEAT_KEY
from config.beat import DatabaseScheduler
from config.celery import app as celery_app
from tests.backoffice.job_tasks import FLAKY, failing_key, flaky
from tests.celery_workers import one_worker, worker_env

pytestmark = [pytest.mark.django_db]

RESULTS = "/admin/django_celery_results/taskresult/"
PERIODIC = "/admin/django_celery_beat/periodictask/"
OTHER_STAFF = [role for role in STAFF_GROUPS if role != "Super Admin"]


def fail_once_eagerly(note: str = "first") -> TaskResult:
    """Run the flaky task in-process (the suite runs tasks eagerly), failing, without raising
    the error here: its result is stored as a worker stores it."""
    token = uuid.uuid4().hex[:8]
    cache.set(failing_key(token), True)
    assert flaky.apply(args=[token], kwargs={"note": note}, throw=False).failed()
    cache.delete(failing_key(token))  # the next run succeeds
    return TaskResult.objects.get(task_name=FLAKY, task_args__contains=token)


def stored_failure(task_name: str, *, args: str, kwargs: str) -> TaskResult:
    """A failed result as a worker stores it (arguments as stored text)."""
    return TaskResult.objects.create(
        task_id=uuid.uuid4().hex,
        task_name=task_name,
        task_args=args,
        task_kwargs=kwargs,
        status=states.FAILURE,
        content_type="application/json",
        content_encoding="utf-8",
    )


def jobs_count(user) -> int | None:
    queues = {q["key"]: q["count"] for q in work_queues(user=user, use_cache=False)}
    return queues.get("jobs")


def retry(client, result: TaskResult, **extra):
    return client.post(
        RESULTS,
        {"action": "retry_selected", "_selected_action": [result.pk], **extra},
        follow=True,
    )


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- stored, listed, refused to other staff --------------------------------------------------


def test_a_failed_job_is_stored_with_its_name_arguments_and_error():
    result = fail_once_eagerly(note="n1")
    assert result.status == states.FAILURE
    assert result.task_name == FLAKY
    assert "n1" in result.task_kwargs and "failed on purpose" in result.traceback
    assert result.worker and result.date_done is not None


def test_a_super_admin_lists_failed_jobs_and_reads_the_error_other_staff_are_refused(
    staff_client,
):
    result = fail_once_eagerly()
    admin = staff_client("Super Admin")
    page = admin.get(RESULTS).content.decode()
    assert FLAKY in page
    detail = admin.get(f"{RESULTS}{result.pk}/change/").content.decode()
    assert "failed on purpose" in detail and "<pre" in detail
    assert 'value="retry_selected"' in detail  # the page's Retry button
    for role in OTHER_STAFF:
        client = staff_client(role)
        assert client.get(RESULTS).status_code == 403, role
        assert client.get(f"{RESULTS}{result.pk}/change/").status_code == 403, role
        assert retry(client, result).status_code == 403, role
    assert not JobRetry.objects.exists()


# --- retry -----------------------------------------------------------------------------------


def test_retry_sends_the_failed_job_again_with_its_arguments_and_records_who_and_when(
    staff_client,
):
    result = fail_once_eagerly(note="again")
    admin = staff_client("Super Admin")
    assert jobs_count(admin.user) == 1

    response = retry(admin, result)

    assert response.status_code == 200
    assert "1 job sent again." in said(response)
    retried = JobRetry.objects.get(task_id=result.task_id)
    assert retried.retried_by == admin.user and retried.task_name == FLAKY
    assert timezone.now() - retried.retried_at < datetime.timedelta(minutes=1)
    new_run = TaskResult.objects.get(task_id=retried.new_task_id)
    assert new_run.status == states.SUCCESS
    assert new_run.task_args == result.task_args and new_run.task_kwargs == result.task_kwargs
    assert jobs_count(admin.user) == 0


def test_the_result_page_button_retries_and_comes_back_to_the_result(staff_client):
    result = fail_once_eagerly()
    admin = staff_client("Super Admin")
    response = retry(admin, result, _from_result="1")
    assert response.redirect_chain[-1][0] == f"{RESULTS}{result.pk}/change/"
    page = response.content.decode()
    assert "Retried by" in page and 'value="retry_selected"' not in page


def test_a_successful_job_is_not_retried_and_the_admin_says_why(staff_client):
    token = uuid.uuid4().hex[:8]
    flaky.apply_async(args=[token])
    result = TaskResult.objects.get(task_name=FLAKY, task_args__contains=token)
    assert result.status == states.SUCCESS
    admin = staff_client("Super Admin")

    response = retry(admin, result)

    assert response.status_code == 200
    assert any("Only a failed job can be retried" in m for m in said(response))
    assert not JobRetry.objects.exists()
    assert TaskResult.objects.count() == 1


def test_a_job_whose_task_no_longer_exists_is_not_retried(staff_client):
    result = stored_failure("apps.gone.removed_task", args="[1]", kwargs="{}")
    response = retry(staff_client("Super Admin"), result)
    assert any("no longer registered" in m for m in said(response))
    # the task's name as it is (the admin capitalises a message's first letter)
    page = response.content.decode()
    assert "apps.gone.removed_task" in page and "Apps.gone" not in page
    assert not JobRetry.objects.exists()


def test_a_job_whose_arguments_no_longer_fit_its_task_is_not_retried(staff_client):
    """A deploy changed the task's signature: a message, not a 500, and nothing recorded."""
    result = stored_failure(FLAKY, args='["a", "b", "c"]', kwargs='{"unknown": 1}')
    response = retry(staff_client("Super Admin"), result)
    assert response.status_code == 200
    assert any("no longer takes the arguments" in m for m in said(response))
    assert not JobRetry.objects.exists()


def test_a_failed_job_is_retried_once_its_new_run_is_retried_on_its_own(staff_client):
    result = fail_once_eagerly()
    admin = staff_client("Super Admin").user
    job_retry(result=result, by=admin)
    with pytest.raises(Conflict):
        job_retry(result=result, by=admin)
    assert JobRetry.objects.count() == 1


def test_arguments_kept_as_a_workers_repr_are_read_back_for_the_retry(staff_client):
    # a worker (task protocol 2) stores the repr of the arguments, JSON-encoded
    token = uuid.uuid4().hex[:8]
    result = stored_failure(FLAKY, args=f"\"('{token}',)\"", kwargs="\"{'note': 'repr'}\"")
    retried = job_retry(result=result, by=staff_client("Super Admin").user)
    new_run = TaskResult.objects.get(task_id=retried.new_task_id)
    assert new_run.status == states.SUCCESS and token in new_run.result


# --- the "Failed jobs" work queue ------------------------------------------------------------


def test_the_failed_jobs_queue_counts_recent_failures_not_retried_for_super_admins_only(
    staff_client,
):
    waiting = fail_once_eagerly("waiting")
    old = fail_once_eagerly("old")
    TaskResult.objects.filter(pk=old.pk).update(
        date_done=timezone.now() - datetime.timedelta(days=settings.JOB_FAILED_QUEUE_DAYS + 1)
    )
    done = fail_once_eagerly("done")
    JobRetry.objects.create(task_id=done.task_id, task_name=FLAKY, new_task_id="n")
    flaky.apply_async(args=["fine"])  # a success
    admin = staff_client("Super Admin")

    assert jobs_count(admin.user) == 1
    for role in OTHER_STAFF:
        assert jobs_count(staff_client(role).user) is None, role
    (queue,) = [q for q in work_queues(user=admin.user) if q["key"] == "jobs"]
    listed = admin.get(queue["url"]).context["cl"].result_list
    assert [result.task_id for result in listed] == [waiting.task_id]


# --- periodic tasks --------------------------------------------------------------------------


# beat's scheduler commits on its own: these tests run outside a test transaction
@pytest.mark.django_db(transaction=True)
def test_periodic_tasks_of_the_settings_are_in_the_database_once_beat_sets_up(staff_client):
    PeriodicTask.objects.create(  # an entry of an earlier version of the settings
        name="removed-from-settings",
        task="core.ping",
        interval=IntervalSchedule.objects.create(every=10, period=IntervalSchedule.SECONDS),
        description="CELERY_BEAT_SCHEDULE",
    )
    DatabaseScheduler(app=celery_app)  # what beat does when it starts

    in_db = {task.name: task for task in PeriodicTask.objects.all()}
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert in_db[name].task == entry["task"] and in_db[name].enabled, name
    assert in_db["integrations-webhooks-sweep"].expire_seconds == math.ceil(
        settings.WEBHOOK_SWEEP_SECONDS
    )
    assert in_db["removed-from-settings"].enabled is False
    page = staff_client("Super Admin").get(PERIODIC).content.decode()
    assert "core-heartbeat" in page and "celery.backend_cleanup" in page
    for role in OTHER_STAFF:
        assert staff_client(role).get(PERIODIC).status_code == 403, role


@pytest.mark.django_db(transaction=True)  # beat's scheduler closes old connections
def test_an_interval_job_that_never_ran_runs_at_beats_start_however_often_beat_restarts():
    """Beat's every start rewrote the rows, and django-celery-beat counts a job that never
    ran from its row's last change: with beat restarted more often than daily (a deploy, a
    rescheduled pod) the daily purges never ran. They run at start now; a job that ran
    keeps its time, a crontab job its hour."""
    scheduler = DatabaseScheduler(app=celery_app)
    assert scheduler.schedule["quotes-expire"].is_due()[0]  # hourly, never ran: due now
    assert scheduler.schedule["core-idempotency-purge"].is_due()[0]  # daily
    ran = timezone.now() - datetime.timedelta(minutes=5)
    PeriodicTask.objects.filter(name="quotes-expire").update(last_run_at=ran)
    crontab = PeriodicTask.objects.filter(crontab__isnull=False).values_list("name", flat=True)

    restarted = DatabaseScheduler(app=celery_app)  # beat starts again
    assert PeriodicTask.objects.get(name="quotes-expire").last_run_at == ran
    assert not restarted.schedule["quotes-expire"].is_due()[0]  # ran 5 minutes ago
    assert restarted.schedule["core-idempotency-purge"].is_due()[0]  # still never ran
    for name in crontab:
        assert PeriodicTask.objects.get(name=name).last_run_at is None, name


@pytest.mark.django_db(transaction=True)
def test_a_super_admin_disables_and_runs_a_periodic_task_from_the_admin(staff_client):
    DatabaseScheduler(app=celery_app)
    heartbeat = PeriodicTask.objects.get(name="core-heartbeat")
    admin = staff_client("Super Admin")

    admin.post(PERIODIC, {"action": "disable_tasks", "_selected_action": [heartbeat.pk]})
    heartbeat.refresh_from_db()
    assert heartbeat.enabled is False

    cache.delete(HEARTBEAT_KEY)
    admin.post(PERIODIC, {"action": "run_tasks", "_selected_action": [heartbeat.pk]})
    assert cache.get(HEARTBEAT_KEY)  # run now (in-process here: the suite's eager mode)


# --- query count -----------------------------------------------------------------------------


def test_the_task_result_list_query_count_does_not_grow_with_the_rows(staff_client):
    admin = staff_client("Super Admin")

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin.get(RESULTS).status_code == 200
        return len(queries)

    for _ in range(3):
        fail_once_eagerly()
    count_queries()  # warm: the work queues of the header are cached a minute
    few = count_queries()
    for n in range(20):
        result = fail_once_eagerly()
        if n % 2:
            job_retry(result=result, by=admin.user)
    assert count_queries() == few


# --- a real worker ---------------------------------------------------------------------------


@pytest.fixture
def worker(transactional_db):
    """A real Celery worker on this run's broker, test database and cache, which also knows
    the flaky task."""
    yield from one_worker(
        worker_env(), "--include=tests.backoffice.job_tasks", "--pool=solo", name="jobs"
    )


def wait_for(predicate, proc, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        assert proc.poll() is None, proc.stdout.read()
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout} s")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_job_failed_on_a_worker_is_retried_from_the_admin_and_runs_there_again(
    worker, staff_client, monkeypatch
):
    # given: a task that fails on the worker
    token = uuid.uuid4().hex[:8]
    cache.set(failing_key(token), True, timeout=300)
    celery_app.send_task(FLAKY, args=[token], kwargs={"note": "worker"})
    failed = wait_for(
        lambda: TaskResult.objects.filter(task_name=FLAKY, status=states.FAILURE).first(),
        worker,
        "the failed result",
    )
    assert token in failed.task_args and "worker" in failed.task_kwargs
    assert failed.worker.startswith("jobs-") and failed.date_started is not None
    assert "failed on purpose" in failed.traceback
    admin = staff_client("Super Admin")
    assert jobs_count(admin.user) == 1

    # when: the cause is gone and a super admin retries it (sent to the broker, not run here)
    cache.delete(failing_key(token))
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    response = retry(admin, failed)

    # then: the worker runs it again with the same arguments; who retried it is kept
    assert "1 job sent again." in said(response)
    retried = JobRetry.objects.get(task_id=failed.task_id)
    assert retried.retried_by == admin.user
    new_run = wait_for(
        lambda: TaskResult.objects.filter(
            task_id=retried.new_task_id, status=states.SUCCESS
        ).first(),
        worker,
        "the new run",
    )
    assert token in new_run.task_args and new_run.result == f'"done {token} worker"'
    assert jobs_count(admin.user) == 0


@pytest.fixture
def broker_down(monkeypatch):
    """The broker is a loopback port where nothing listens (tasks are sent, not run here)."""
    from tests.conftest import closed_port

    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    # celery reads the environment's CELERY_BROKER_URL before its own setting
    monkeypatch.setenv("CELERY_BROKER_URL", f"redis://127.0.0.1:{closed_port()}/0")
    # connections made for the new URL (celery keeps a pool and a producer pool)
    monkeypatch.setattr(celery_app, "_pool", None)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)


@pytest.mark.django_db(transaction=True)  # the scheduler, as above
def test_with_the_broker_down_retry_and_run_now_say_so_instead_of_failing(
    staff_client, broker_down
):
    """No request makes a 500: both actions answer the page with a message, and nothing is
    recorded as retried."""
    result = fail_once_eagerly()
    admin = staff_client("Super Admin")

    response = retry(admin, result)
    assert response.status_code == 200
    assert any("not answering" in message for message in said(response))
    assert not JobRetry.objects.exists()

    DatabaseScheduler(app=celery_app)
    heartbeat = PeriodicTask.objects.get(name="core-heartbeat")
    response = admin.post(
        PERIODIC, {"action": "run_tasks", "_selected_action": [heartbeat.pk]}, follow=True
    )
    assert response.status_code == 200
    assert any("not answering" in message for message in said(response))
