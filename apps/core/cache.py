"""Version numbers in the cache: the invalidation of a cached family of answers at once.

A family of cached answers (the category tree and brand list, the engine's price-list rows,
the campaign rules) is keyed by a version number kept under one cache key; a change of what
they are built from bumps the version, and every old entry is out of use at once (and expires).

``cache_version_bump`` bumps at once, so the writer's own transaction reads its change, and
again once the transaction commits: a reader that rebuilt an entry from the old rows between
the two (it could not see the uncommitted change) is superseded. Outside a transaction both
happen at once, which is harmless.
"""

from __future__ import annotations

from django.core.cache import cache

from apps.core.transactions import after_commit


def cache_version(key: str) -> int:
    """The current version under ``key`` (1 when there is none yet)."""
    version = cache.get(key)
    if version is None:
        cache.add(key, 1, timeout=None)
        version = cache.get(key) or 1
    return int(version)


def cache_version_incr(key: str) -> None:
    """Bump the version under ``key`` once, now."""
    try:
        cache.incr(key)
    except ValueError:  # no version yet (or evicted): any version above the default 1
        cache.set(key, 2, timeout=None)


def cache_version_bump(key: str) -> None:
    """Bump the version under ``key`` now and again after the running transaction commits."""
    cache_version_incr(key)
    after_commit(lambda: cache_version_incr(key), name=f"cache_version_bump:{key}")
