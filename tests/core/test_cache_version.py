"""One helper bumps every cache version (catalog, prices, campaigns): now and again on commit."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.db import transaction

from apps.catalog.cache import VERSION_KEY, catalog_cache_bump, catalog_cache_version
from apps.core.cache import cache_version, cache_version_bump, cache_version_incr
from apps.pricing.engine import PRICES_VERSION_KEY, prices_bump

KEY = "test:cache-version"


@pytest.fixture(autouse=True)
def _fresh():
    cache.delete_many([KEY, VERSION_KEY, PRICES_VERSION_KEY])
    yield
    cache.delete_many([KEY, VERSION_KEY, PRICES_VERSION_KEY])


def test_a_missing_version_is_1_and_a_bump_makes_it_larger():
    assert cache_version(KEY) == 1
    cache_version_incr(KEY)
    assert cache_version(KEY) == 2


def test_a_version_evicted_meanwhile_is_bumped_above_the_default():
    """Nothing stored (evicted): the bump stores the time in milliseconds, above the default
    and above what a counter went up to before (2 could be a version old entries still
    live under)."""
    before = int(time.time() * 1000)
    assert cache_version_incr(KEY) is True
    assert cache_version(KEY) >= before > 2


@pytest.mark.django_db
def test_a_bump_in_a_transaction_counts_now_and_again_when_it_commits(
    django_capture_on_commit_callbacks,
):
    start = cache_version(KEY)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        cache_version_bump(KEY)
        assert cache_version(KEY) == start + 1  # the writer reads its own change
    assert cache_version(KEY) == start + 2  # a reader in between is superseded


@pytest.mark.django_db
def test_a_bump_rolled_back_does_not_count_twice(django_capture_on_commit_callbacks):
    start = cache_version(KEY)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                cache_version_bump(KEY)
                raise RuntimeError
        except RuntimeError:
            pass
    assert callbacks == [] and cache_version(KEY) == start + 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("bump", "key"), [(catalog_cache_bump, VERSION_KEY), (prices_bump, PRICES_VERSION_KEY)]
)
def test_the_apps_bump_through_the_one_helper(django_capture_on_commit_callbacks, bump, key):
    start = cache_version(key)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        bump()
    assert cache_version(key) == start + 2
    assert catalog_cache_version() == cache_version(VERSION_KEY)
