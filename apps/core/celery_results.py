"""Where Celery keeps task results: django-celery-results' database backend (the back
office's job dashboard reads it), made to survive a lost database connection.

The worker's main process writes results too (a task revoked or expired on arrival), on a
connection nothing else checks or reopens: after a database restart or failover that write
failed, and the error stopped the worker. Here a connection error closes the connection and
the write is tried again (``CELERY_RESULT_BACKEND_ALWAYS_RETRY``, for about a minute), on a
new connection. A revoked task's state that still cannot be written is given up with a
warning: the task did not run and will not, and losing that line of the job dashboard is
better than the worker stopping (Celery calls a failed write there unrecoverable) while the
database is away."""

from __future__ import annotations

import logging

from celery.exceptions import BackendStoreError
from django.db import InterfaceError, OperationalError, connection
from django_celery_results.backends.database import DatabaseBackend as _DatabaseBackend

logger = logging.getLogger(__name__)


class DatabaseBackend(_DatabaseBackend):
    def exception_safe_to_retry(self, exc) -> bool:
        if isinstance(exc, InterfaceError | OperationalError):
            connection.close()  # the next try opens a new one
            return True
        return super().exception_safe_to_retry(exc)

    def mark_as_revoked(self, task_id, *args, **kwargs):
        try:
            return super().mark_as_revoked(task_id, *args, **kwargs)
        except BackendStoreError:
            logger.warning(
                "task %s was revoked or expired; its state was not stored: the database "
                "did not answer",
                task_id,
            )
            return None
