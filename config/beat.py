"""celery beat's scheduler (``CELERY_BEAT_SCHEDULER``): django-celery-beat's database scheduler,
so staff see, disable and run the periodic tasks in the admin, with ``CELERY_BEAT_SCHEDULE``
(settings) as the one definition of what runs when. Loaded by beat only, once Django is set
up (it imports models).

At every start the entries of ``CELERY_BEAT_SCHEDULE`` are written into the database (their
schedule, arguments and options; a task staff disabled stays disabled), and an entry that an
earlier version of the settings made but this one no longer has is disabled. Entries staff
add in the admin are left alone."""

from __future__ import annotations

import math
from datetime import timedelta

from django.utils import timezone
from django_celery_beat import schedulers
from django_celery_beat.models import PeriodicTask, PeriodicTasks

FROM_SETTINGS = "CELERY_BEAT_SCHEDULE"  # the description of the entries made from settings


def for_the_database(fields: dict) -> dict:
    """The database keeps an entry's ``expires`` option (seconds, as celery's own scheduler
    reads it) as ``expire_seconds``, whole seconds."""
    options = dict(fields.get("options") or {})
    expires = options.get("expires")
    if isinstance(expires, int | float) and "expire_seconds" not in options:
        options["expire_seconds"] = max(math.ceil(expires), 1)
    return {**fields, "options": options, "description": FROM_SETTINGS}


class DatabaseScheduler(schedulers.DatabaseScheduler):
    def update_from_dict(self, mapping):
        super().update_from_dict(
            {name: for_the_database(fields) for name, fields in mapping.items()}
        )

    def setup_schedule(self):
        super().setup_schedule()
        gone = (
            PeriodicTask.objects.filter(description=FROM_SETTINGS, enabled=True)
            .exclude(name__in=[*self.app.conf.beat_schedule, "celery.backend_cleanup"])
            .update(enabled=False)
        )
        # an interval entry that never ran first runs one interval after its row last changed
        # (django-celery-beat's reading), and every start rewrites the rows: a beat restarted
        # more often than daily never ran the daily jobs (purges, expiries). Such an entry
        # runs at start instead; one that ran keeps its time, a crontab entry its hour
        never_ran = PeriodicTask.objects.filter(
            description=FROM_SETTINGS,
            enabled=True,
            interval__isnull=False,
            last_run_at__isnull=True,
        ).update(last_run_at=timezone.now() - timedelta(days=366))
        if gone or never_ran:
            PeriodicTasks.update_changed()
