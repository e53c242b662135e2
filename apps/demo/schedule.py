"""The periodic tasks, written into the database as celery beat writes them when it starts
(``config.beat``): the demo runs no beat, and the back office's Periodic tasks screens would
otherwise be empty. Idempotent (beat's own upsert); ``--reset`` leaves them, as they are the
settings' schedule, not demo data."""

from __future__ import annotations

from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask
from django_celery_beat.schedulers import ModelEntry

from config.beat import for_the_database
from config.celery import app as celery_app


def seed_schedule(options) -> list[str]:
    # beat's own upsert of each entry (``DatabaseScheduler.update_from_dict``), without the
    # scheduler, which closes the database connection the demo's transaction holds
    for name, fields in celery_app.conf.beat_schedule.items():
        ModelEntry.from_entry(name, app=celery_app, **for_the_database(fields))
    return [
        f"periodic tasks: {PeriodicTask.objects.count()} "
        f"({IntervalSchedule.objects.count()} intervals, {CrontabSchedule.objects.count()} "
        "crontabs), as beat writes them at its start"
    ]


def reset_schedule(options) -> None:
    """Nothing: the schedule is the settings', not demo data."""


STEPS = [("schedule", seed_schedule, reset_schedule)]
