"""Version numbers in the cache: the invalidation of a cached family of answers at once; and
``cache_get_or_build``, a cached value built by one process at a time.

A family of cached answers (the category tree and brand list, the engine's price-list rows,
the campaign rules) is keyed by a version number kept under one cache key; a change of what
they are built from bumps the version, and every old entry is out of use at once (and expires).

``cache_version_bump`` bumps at once, so the writer's own transaction reads its change, and
again once the transaction commits: a reader that rebuilt an entry from the old rows between
the two (it could not see the uncommitted change) is superseded. Outside a transaction both
happen at once, which is harmless.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache

from apps.core.transactions import after_commit

logger = logging.getLogger("apps.cache")

T = TypeVar("T")
BUILD_LOCK_SECONDS = 30  # how long a build may hold the others off (a crashed builder's lock)


def cache_version(key: str) -> int:
    """The current version under ``key`` (1 when there is none yet)."""
    version = cache.get(key)
    if version is None:
        cache.add(key, 1, timeout=None)
        version = cache.get(key) or 1
    return int(version)


def cache_version_incr(key: str) -> bool:
    """Bump the version under ``key`` once, now; False when the cache did not take it (Redis
    down or not answering: the cache swallows the error and answers None)."""
    try:
        return cache.incr(key) is not None
    except ValueError:  # no version yet (or evicted): a version no entry was ever built under
        cache.set(key, int(time.time() * 1000), timeout=None)
        return cache.get(key) is not None


def cache_version_bump(key: str) -> None:
    """Bump the version under ``key`` now and again after the running transaction commits.
    A bump after the commit that the cache does not take (Redis down or hung for a moment)
    is queued durably (``apps.core.task_queue``) and made by a worker once Redis answers:
    otherwise every entry built before the change would be served until it expires (an old
    price for an hour)."""
    cache_version_incr(key)
    after_commit(lambda: _bump_after_commit(key), name=f"cache_version_bump:{key}")


def _bump_after_commit(key: str) -> None:
    if cache_version_incr(key):
        return
    # here: the tasks import this module (a cycle at import time), and the task queue the
    # models, which modules importing the cache helpers at load time must not need
    from apps.core.task_queue import task_enqueue_for_sweep
    from apps.core.tasks import cache_version_bump_task

    logger.warning("cache version %s not bumped (the cache did not answer): queued", key)
    task_enqueue_for_sweep(cache_version_bump_task, key)


def cache_get_or_build(key: str, build: Callable[[], T], *, timeout: int) -> T | None:
    """The value cached under ``key``; when there is none, ``build()``'s, cached for
    ``timeout`` seconds, by one process at a time: while another process builds it (a short
    lock in the cache), None, and the caller does without. So the workers that miss an
    expensive entry at the same moment (it expired under load) build it once, not each, and
    with the cache down nobody builds what could not be kept."""
    value: Any = cache.get(key)
    if value is not None:
        return value
    lock = f"{key}:building"
    if not cache.add(lock, 1, timeout=BUILD_LOCK_SECONDS):
        return None
    try:
        value = build()
        cache.set(key, value, timeout=timeout)
        return value
    finally:
        cache.delete(lock)
