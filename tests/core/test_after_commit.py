"""``pending_after_commit``: one step per transaction that later writes add to."""

from __future__ import annotations

import pytest
from django.db import transaction

from apps.core.transactions import after_commit, pending_after_commit

pytestmark = [pytest.mark.django_db]


class _Step:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


def test_the_step_registered_on_the_open_transaction_is_found():
    with transaction.atomic():
        assert pending_after_commit(_Step) is None
        step = _Step()
        after_commit(step)
        assert pending_after_commit(_Step) is step


def test_a_step_that_already_ran_takes_nothing_more(django_capture_on_commit_callbacks):
    # tests run a transaction's steps while it stays open: what is added to a step that ran
    # would never run, so a new one is registered instead
    with transaction.atomic():
        with django_capture_on_commit_callbacks(execute=True):
            first = _Step()
            after_commit(first)
        assert first.calls == 1
        assert pending_after_commit(_Step) is None
        second = _Step()
        after_commit(second)
        assert pending_after_commit(_Step) is second
