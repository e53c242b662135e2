"""A task of the job dashboard's tests: it fails while the cache says so, else it succeeds.
Imported by the tests and by the real worker they start (``celery worker --include``)."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache

FLAKY = "tests.backoffice.flaky"


def failing_key(token: str) -> str:
    return f"jobs-test:fail:{token}"


# store_eager_result: run in-process (the suite's eager mode) its result is stored as a worker's
@shared_task(name=FLAKY, store_eager_result=True)
def flaky(token: str, *, note: str = "") -> str:
    if cache.get(failing_key(token)):
        raise RuntimeError(f"job {token} failed on purpose ({note})")
    return f"done {token} {note}"
