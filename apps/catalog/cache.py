"""A version number in the cache that every catalog change bumps; cached catalog answers
(category tree, brand list) are keyed by it, so a bump invalidates them all at once.

Anything that writes categories or brands calls ``catalog_cache_bump()`` (bulk SQL too:
signals do not fire for it): now and again on commit (``apps.core.cache``)."""

from __future__ import annotations

from apps.core.cache import cache_version, cache_version_bump

VERSION_KEY = "catalog:version"


def catalog_cache_version() -> int:
    return cache_version(VERSION_KEY)


def catalog_cache_bump() -> None:
    cache_version_bump(VERSION_KEY)


def catalog_cache_key(name: str) -> str:
    return f"catalog:{catalog_cache_version()}:{name}"
