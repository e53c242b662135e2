"""Races made to happen on every run, against PostgreSQL: one transaction is held open until a
second request, sent meanwhile from another thread, waits on a lock it holds; then it commits.
Each thread has its own database connection (tests marked ``django_db(transaction=True)``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import close_old_connections, connection, transaction

SECONDS = 20  # every wait is bounded


def waiting_on_a_lock() -> bool:
    """Does a session of this test database wait on a lock right now?"""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def while_held(
    hold: Callable[[], object],
    request: Callable[[], object],
    meanwhile: Callable[[], object] = lambda: None,
) -> dict:
    """``hold()`` runs in a transaction kept open until ``request()``, run meanwhile in another
    thread, waits on a lock; then ``meanwhile()`` runs, then the transaction commits. Answers
    ``{"first": hold's result, "second": request's}``."""
    held, release = threading.Event(), threading.Event()
    answers: dict = {}

    def first():
        try:
            with transaction.atomic():
                answers["first"] = hold()
                held.set()
                release.wait(SECONDS)
        finally:
            close_old_connections()

    def second():
        try:
            held.wait(SECONDS)
            answers["second"] = request()
        finally:
            close_old_connections()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert held.wait(SECONDS)
    deadline = time.monotonic() + SECONDS
    while not waiting_on_a_lock() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert waiting_on_a_lock(), "the second request never waited on the first"
    meanwhile()
    release.set()
    for thread in threads:
        thread.join(SECONDS)
    return answers
