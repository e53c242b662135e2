"""The job dashboard: Celery's task results (django-celery-results, written by the workers with
the task's name, arguments and worker: ``CELERY_RESULT_EXTENDED``) and sending a failed task
again with its stored arguments, recorded as a ``JobRetry``. The "Failed jobs" work queue and
the task-result list's filter share ``failed_jobs_condition``."""

from __future__ import annotations

import ast
import json
from datetime import timedelta

from celery import current_app, states
from celery.utils import uuid
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _
from django_celery_results.models import TaskResult
from kombu.exceptions import OperationalError as KombuOperationalError

from apps.accounts.admin.scoping import SUPER_ADMIN
from apps.backoffice.models import JobRetry
from apps.core.exceptions import Conflict, ValidationError
from apps.core.work_queues import WorkQueue, register_work_queue

RETRY_FILTER = "retry"  # the task-result list's filter: "waiting" (the queue), "retried"


def retried() -> Exists:
    """Has the task result (the outer row) been sent again?"""
    return Exists(JobRetry.objects.filter(task_id=OuterRef("task_id")))


def failed_jobs_condition(*, days: int) -> Q:
    """Failed task results that finished in the last ``days`` days (counted by the database's
    clock, whenever the query runs) and were not sent again yet."""
    return Q(status=states.FAILURE, date_done__gte=Now() - timedelta(days=days)) & ~Q(retried())


def registered_task(name: str | None):
    """The task called ``name`` in this process's Celery app (every app's ``tasks`` module
    imported first, as a worker does), or ``None``."""
    if not name:
        return None
    current_app.loader.import_default_modules()
    return current_app.tasks.get(name)


def _read(text: str | None, kind: type):
    if text in (None, ""):
        return kind()
    value = json.loads(text)
    if isinstance(value, str):
        # a worker (task protocol 2) stores the arguments' repr: plain values read back
        value = ast.literal_eval(value)
    if kind is list and isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, kind):
        raise ValueError(f"expected {kind.__name__}, got {type(value).__name__}")
    return value


def stored_arguments(result: TaskResult) -> tuple[list, dict]:
    """The positional and named arguments ``result`` ran with. A worker keeps their repr, which
    reads back for the plain values (numbers, strings, lists, dicts) our tasks take; a repr cut
    short (over ``task_argsrepr_maxsize``) or of other values cannot, and raises
    ``ValidationError``."""
    try:
        return _read(result.task_args, list), _read(result.task_kwargs, dict)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
        raise ValidationError(
            _("The arguments this job ran with cannot be read back, so it cannot be retried.")
        ) from exc


def job_retry(*, result: TaskResult, by) -> JobRetry:
    """Send the failed task of ``result`` again, with the arguments it ran with, as a new task,
    and record who did it and when. Refused (``Conflict``) for a result that is not a failure,
    one already retried, or a task this code no longer has; ``ValidationError`` when its
    arguments cannot be read back. The broker refusing the message records nothing."""
    if result.status != states.FAILURE:
        raise Conflict(
            _("Only a failed job can be retried; %(task)s is %(status)s.")
            % {"task": result.task_name or result.task_id, "status": result.status}
        )
    if JobRetry.objects.filter(task_id=result.task_id).exists():
        raise Conflict(_("This job has been retried already: retry its new run if it failed."))
    task = registered_task(result.task_name)
    if task is None:
        raise Conflict(
            _("The task %(task)s is no longer registered, so this job cannot run again.")
            % {"task": result.task_name or "?"}
        )
    args, kwargs = stored_arguments(result)
    check = getattr(task, "__header__", None)  # celery's own check of a call's arguments
    try:
        if check is not None:
            check(*args, **kwargs)
    except TypeError as exc:  # the task's signature changed since (a deploy)
        raise Conflict(
            _("The task %(task)s no longer takes the arguments this job ran with.")
            % {"task": result.task_name or "?"}
        ) from exc
    new_task_id = uuid()
    eager = bool(current_app.conf.task_always_eager)
    try:
        with transaction.atomic():
            retry = JobRetry.objects.create(
                task_id=result.task_id,
                task_name=result.task_name,
                new_task_id=new_task_id,
                retried_by=by,
            )
            if not eager:
                # inside the transaction: a broker that refuses the message records nothing
                task.apply_async(args=args, kwargs=kwargs, task_id=new_task_id)
    except IntegrityError as exc:  # retried at the same moment by someone else
        raise Conflict(
            _("This job has been retried already: retry its new run if it failed.")
        ) from exc
    except BROKER_ERRORS as exc:  # the broker is down or not answering: nothing recorded
        raise BrokerDown(broker_down_message()) from exc
    if eager:
        # in-process (./dev demo, tests): after the record, and a failure is the task's
        # result rather than an error of the admin page
        task.apply(args=args, kwargs=kwargs, task_id=new_task_id, throw=False)
    return retry


# what publishing raises when the broker is down or does not answer (kombu's connection
# errors, the sockets' own)
BROKER_ERRORS = (KombuOperationalError, ConnectionError, OSError, TimeoutError)


class BrokerDown(Conflict):
    """The broker refused or did not answer: nothing was sent (the next jobs would wait as
    long again)."""


def broker_down_message() -> str:
    return _("The job queue (the broker) is not answering: nothing was sent. Try again later.")


def register_queue() -> None:
    """The back office's "Failed jobs" queue (``apps.core.work_queues``): for those who may
    open the task results (super admins), linking to the list filtered the same way."""
    register_work_queue(
        WorkQueue(
            "jobs",
            _("Failed jobs"),
            "django_celery_results.view_taskresult",
            TaskResult,
            SUPER_ADMIN,  # jobs name no dealer: the task-result screen is the super admins'
            failed_jobs_condition(days=settings.JOB_FAILED_QUEUE_DAYS),
            f"admin:django_celery_results_taskresult_changelist|{RETRY_FILTER}=waiting",
            order=50,
        )
    )
