"""A version number in the cache that every catalog change bumps; cached catalog answers
(category tree, brand list) are keyed by it, so a bump invalidates them all at once.

Anything that writes categories or brands calls ``catalog_cache_bump()`` (bulk SQL too:
signals do not fire for it)."""

from __future__ import annotations

from django.core.cache import cache

VERSION_KEY = "catalog:version"


def catalog_cache_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY) or 1
    return int(version)


def catalog_cache_bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 2, timeout=None)


def catalog_cache_key(name: str) -> str:
    return f"catalog:{catalog_cache_version()}:{name}"
