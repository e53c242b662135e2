"""Counters for rate limits and login lockout, in the cache's Redis, that say when Redis is
down instead of answering as if it were empty.

The default cache swallows Redis errors (``IGNORE_EXCEPTIONS``: a cache miss is harmless), so
``cache.incr`` answers ``None`` and ``cache.get`` answers "absent" when Redis is unreachable.
A counter must not mistake an outage for "no failed logins yet": these functions talk to the
raw Redis client and raise ``CounterStoreDown``, and each caller decides what to do without
Redis (``apps/core/throttling.py``: count per process; ``apps/accounts/lockout.py``: count the
failed logins recorded in the database). Without Redis configured (the zero-setup demo), the
local-memory cache holds the counters and is never down.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger("apps.counters")


class CounterStoreDown(Exception):
    """Redis, which holds the counters, did not answer."""


def _redis():
    """The raw Redis client under the default cache, or None when the cache is not Redis.
    After a failure its connections refuse at once for a few seconds (``redis_breaker``): a
    dead Redis does not add a connection attempt to every request."""
    client = getattr(cache, "client", None)
    get_client = getattr(client, "get_client", None)
    if get_client is None:
        return None
    return get_client(True)


def _failed(exc: Exception) -> CounterStoreDown:
    logger.debug("counter store unreachable: %s: %s", type(exc).__name__, exc)
    return CounterStoreDown(str(exc))


def counter_incr(key: str, *, timeout: int) -> int:
    """Add one to ``key`` (created with a lifetime of ``timeout`` seconds) and return it."""
    return counter_incr_many([(key, timeout)])[0]


def counter_incr_many(items: Sequence[tuple[str, int]]) -> list[int]:
    """``counter_incr`` of each ``(key, timeout)``, in one round trip to Redis (a request's
    rate limits: its address, its user, its API key), returning the new counts in order."""
    redis = _redis()
    if redis is None:
        return [_cache_incr(key, timeout) for key, timeout in items]
    try:
        pipe = redis.pipeline(transaction=True)
        for key, timeout in items:
            name = cache.make_key(key)
            pipe.incr(name)
            pipe.expire(name, timeout, nx=True)
        replies = pipe.execute()
    except (RedisError, OSError) as exc:
        raise _failed(exc) from exc
    return [int(count) for count in replies[::2]]


def _cache_incr(key: str, timeout: int) -> int:
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=timeout)
        return 1


def counter_get(key: str) -> float | None:
    """The number stored under ``key`` (a counter or a time), or None when absent."""
    redis = _redis()
    if redis is None:
        value = cache.get(key)
        return None if value is None else float(value)
    try:
        raw = redis.get(cache.make_key(key))
    except (RedisError, OSError) as exc:
        raise _failed(exc) from exc
    return None if raw is None else float(raw)


def counter_get_many(keys: Sequence[str]) -> list[float | None]:
    """``counter_get`` of each key, in one round trip."""
    if not keys:
        return []
    redis = _redis()
    if redis is None:
        found = cache.get_many(list(keys))
        return [None if found.get(key) is None else float(found[key]) for key in keys]
    try:
        raws = redis.mget([cache.make_key(key) for key in keys])
    except (RedisError, OSError) as exc:
        raise _failed(exc) from exc
    return [None if raw is None else float(raw) for raw in raws]


def counter_set(key: str, value: float, *, timeout: int) -> None:
    redis = _redis()
    if redis is None:
        cache.set(key, value, timeout=timeout)
        return
    try:
        redis.set(cache.make_key(key), repr(float(value)), ex=max(1, int(timeout)))
    except (RedisError, OSError) as exc:
        raise _failed(exc) from exc


def counter_delete(*keys: str) -> None:
    redis = _redis()
    if redis is None:
        cache.delete_many(list(keys))
        return
    try:
        redis.delete(*[cache.make_key(key) for key in keys])
    except (RedisError, OSError) as exc:
        raise _failed(exc) from exc
