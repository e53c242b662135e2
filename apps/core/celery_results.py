"""Where Celery keeps task results: django-celery-results' database backend (the back
office's job dashboard reads it), made to survive a lost database connection.

The worker's main process writes results too (a task revoked or expired on arrival), on a
connection nothing else checks or reopens: after a database restart or failover that write
failed, and the error stopped the worker. Here a connection error closes the connection and
the write is tried again (``CELERY_RESULT_BACKEND_ALWAYS_RETRY``), on a new connection."""

from __future__ import annotations

from django.db import InterfaceError, OperationalError, connection
from django_celery_results.backends.database import DatabaseBackend as _DatabaseBackend


class DatabaseBackend(_DatabaseBackend):
    def exception_safe_to_retry(self, exc) -> bool:
        if isinstance(exc, InterfaceError | OperationalError):
            connection.close()  # the next try opens a new one
            return True
        return super().exception_safe_to_retry(exc)
