"""Readiness checks of the services the platform depends on.

Each check returns nothing when healthy and raises when not; ``run_checks`` times them and
reports which failed. The checks read the *current* settings so a test can point one at a
closed port.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.core.cache import caches
from django.core.files.storage import storages
from django.db import connections


def check_database() -> str:
    for alias in connections:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    return "ok"


def check_cache() -> str:
    cache = caches["default"]
    get_client = getattr(getattr(cache, "client", None), "get_client", None)
    if get_client is not None:
        # Redis: ask it directly, so a failure names itself (the cache swallows its errors)
        get_client(True).ping()
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("the cache did not return the value just written")
    cache.delete(key)
    return "ok"


def check_broker() -> str:
    url = getattr(settings, "CELERY_BROKER_URL", None)
    if settings.CELERY_TASK_ALWAYS_EAGER:  # nothing is sent to a broker, whatever its URL
        return "skipped: tasks run eagerly in-process"
    if not url:
        raise RuntimeError("CELERY_BROKER_URL is not set and tasks are not eager")
    from kombu import Connection

    timeout = settings.HEALTH_CHECK_TIMEOUT
    # a broker that accepts and never answers: every read bounded too, not the connect alone
    options = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    with Connection(url, connect_timeout=timeout, transport_options=options) as conn:
        conn.ensure_connection(max_retries=1, timeout=timeout)
    return "ok"


def check_storage() -> str:
    storage = storages["default"]
    bucket = getattr(storage, "bucket", None) if hasattr(storage, "bucket_name") else None
    if bucket is not None:
        # S3: the bucket itself (a key's metadata read answers "no such key" for a bucket
        # that does not exist, and every upload then failed)
        bucket.meta.client.head_bucket(Bucket=storage.bucket_name)
    else:
        # a metadata read: proves the directory is reachable, writes nothing
        storage.exists(f"health/{uuid.uuid4().hex}")
    location = getattr(storage, "location", None)
    if storage.__class__.__name__ == "FileSystemStorage" and location:
        from pathlib import Path

        path = Path(location)
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".health-{uuid.uuid4().hex}"
        probe.write_bytes(b"ok")
        probe.unlink()
    return "ok"


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "storage": check_storage,
}


def run_checks() -> tuple[bool, dict[str, dict]]:
    """Every check at once, each in a thread of its own, the whole bounded by
    ``HEALTH_CHECK_TIMEOUT`` (plus a second): a service that accepts connections and never
    answers (a frozen database server, a hung store) is reported as down in seconds, not
    after gunicorn's timeout. A check still running then is left to finish in its thread,
    which closes its own database connection."""
    timeout = settings.HEALTH_CHECK_TIMEOUT
    pool = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="health")
    started = time.monotonic()
    futures = {name: pool.submit(_run_one, check) for name, check in CHECKS.items()}
    deadline = started + timeout + 1
    results: dict[str, dict] = {}
    for name, future in futures.items():
        try:
            results[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            results[name] = {
                "status": "error",
                "error": f"no answer within {timeout:g} s",
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            }
    pool.shutdown(wait=False, cancel_futures=True)
    healthy = all(entry["status"] == "ok" for entry in results.values())
    return healthy, results


def _run_one(check: Callable[[], str]) -> dict:
    started = time.monotonic()
    try:
        detail = check()
        entry = {"status": "ok"}
        if detail != "ok":
            entry["detail"] = detail
    except Exception as exc:
        entry = {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:300]}
    finally:
        connections.close_all()  # this thread's own connections
    entry["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
    return entry
