"""``cache_get_or_build``: an expensive cached value (the catalog's seek points) is built by one
process at a time; the others do without meanwhile instead of building it too."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import cache

from apps.core.cache import cache_get_or_build

KEY = "test:built"


@pytest.fixture(autouse=True)
def _fresh():
    cache.delete_many([KEY, f"{KEY}:building"])
    yield
    cache.delete_many([KEY, f"{KEY}:building"])


def test_a_value_is_built_once_then_read_from_the_cache():
    calls = []

    def build():
        calls.append(1)
        return [("a", 1)]

    assert cache_get_or_build(KEY, build, timeout=60) == [("a", 1)]
    assert cache_get_or_build(KEY, build, timeout=60) == [("a", 1)]
    assert len(calls) == 1
    assert cache.get(f"{KEY}:building") is None  # the lock is gone with the build


def test_while_one_process_builds_the_others_do_without():
    started, release = threading.Event(), threading.Event()
    builds = []

    def slow_build():
        builds.append(1)
        started.set()
        release.wait(10)
        return ["points"]

    results = {}
    builder = threading.Thread(
        target=lambda: results.update(first=cache_get_or_build(KEY, slow_build, timeout=60))
    )
    builder.start()
    assert started.wait(10)
    # a second worker (a second Redis client call) misses the value while the first builds
    assert cache_get_or_build(KEY, slow_build, timeout=60) is None
    release.set()
    builder.join(10)
    assert results["first"] == ["points"] and len(builds) == 1
    assert cache_get_or_build(KEY, slow_build, timeout=60) == ["points"]


def test_a_failed_build_leaves_no_lock_behind():
    def broken():
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        cache_get_or_build(KEY, broken, timeout=60)
    assert cache_get_or_build(KEY, lambda: [1], timeout=60) == [1]
