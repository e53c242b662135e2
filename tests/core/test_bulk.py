"""The bulk writer every ERP feed writes through: deadlocks retried, refused rows isolated, audit
entries saved with django-auditlog's model."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.db import DatabaseError, OperationalError
from psycopg import errors as pg_errors

from apps.catalog.models import Brand
from apps.core import bulk
from apps.core.bulk import AuditEntry, audit_log_many, audit_text, write_isolating

APPS = Path(__file__).resolve().parents[2] / "apps"


def _refusing(bad: set[int], calls: list):
    """A ``write`` that refuses any part holding one of ``bad``, as the database would."""

    def write(part):
        calls.append(list(part))
        if bad & set(part):
            raise DatabaseError(f"violates check constraint\nDETAIL: {sorted(bad & set(part))}")
        return dict.fromkeys(part, "created"), {}

    return write


def test_a_refused_row_fails_alone_and_the_others_are_written():
    calls = []
    outcomes, errors = write_isolating(
        list(range(8)), _refusing({5}, calls), index_of=lambda item: item
    )
    assert outcomes == {i: "created" for i in range(8) if i != 5}
    assert errors == {
        5: {"non_field_errors": ["Rejected by the database: violates check constraint"]}
    }
    assert len(calls) <= 1 + 2 * 3  # halved, not row by row


def test_every_refused_row_is_named_by_its_index():
    outcomes, errors = write_isolating(
        [("a", 10), ("b", 11), ("c", 12)],
        lambda part: _refusing({("a", 10), ("c", 12)}, [])(part),
        index_of=lambda item: item[1],
    )
    assert set(errors) == {10, 12}
    assert outcomes == {("b", 11): "created"}


def test_nothing_to_write_writes_nothing():
    assert write_isolating([], lambda part: pytest.fail("called"), index_of=id) == ({}, {})


def _deadlock() -> OperationalError:
    try:
        raise OperationalError("deadlock detected") from pg_errors.DeadlockDetected()
    except OperationalError as exc:
        return exc


def test_a_deadlock_is_retried_and_then_written(monkeypatch):
    monkeypatch.setattr(bulk.time, "sleep", lambda _s: None)
    attempts = []

    def write(part):
        attempts.append(part)
        if len(attempts) < bulk.ATTEMPTS:
            raise _deadlock()
        return {0: "updated"}, {}

    assert write_isolating([0], write, index_of=lambda i: i) == ({0: "updated"}, {})
    assert len(attempts) == bulk.ATTEMPTS


def test_a_deadlock_that_persists_fails_the_row_rather_than_the_batch(monkeypatch):
    monkeypatch.setattr(bulk.time, "sleep", lambda _s: None)

    def write(part):
        raise _deadlock()

    outcomes, errors = write_isolating([7], write, index_of=lambda i: i)
    assert outcomes == {}
    assert errors[7]["non_field_errors"][0].startswith("Rejected by the database: deadlock")


def test_an_error_that_is_not_the_database_is_raised():
    def write(part):
        raise KeyError("bug")

    with pytest.raises(KeyError):
        write_isolating([1, 2], write, index_of=lambda i: i)


@pytest.mark.django_db
def test_audit_entries_are_log_entries_of_the_rows_readable_through_auditlog():
    brand = Brand.objects.create(name="Işık", slug="isik")
    LogEntry.objects.all().delete()
    at = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)

    audit_log_many(
        model=Brand,
        entries=[
            AuditEntry(pk=brand.pk, repr="Işık", created=True, changes={"name": ["None", "Işık"]}),
            AuditEntry(pk=brand.pk, repr="Işık", created=False, changes={"name": ["a", "Işık"]}),
        ],
        timestamp=at,
        remote_addr="10.0.0.7",
        batch_id=42,
    )

    created, updated = LogEntry.objects.get_for_object(brand).order_by("id")
    assert (created.action, updated.action) == (LogEntry.Action.CREATE, LogEntry.Action.UPDATE)
    assert created.changes == {"name": ["None", "Işık"]}
    assert (created.object_repr, created.remote_addr, created.timestamp) == ("Işık", "10.0.0.7", at)
    assert created.additional_data == {"source": "integration", "batch": 42}
    assert updated.changes_dict == {"name": ["a", "Işık"]}


def test_audit_text_writes_times_naive_in_utc_and_none_as_auditlog_does():
    moment = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    assert audit_text(moment) == "2026-03-01 09:00:00"
    assert audit_text(None) == "None"


def test_no_app_writes_auditlogs_table_by_hand_nor_keeps_its_own_isolating_writer():
    offenders = []
    for path in APPS.rglob("*.py"):
        text = path.read_text()
        if "LogEntry._meta.db_table" in text or "auditlog_logentry" in text:
            offenders.append(f"{path}: raw SQL on django-auditlog's table")
        if "def _write_isolating" in text or "def _sync_isolating" in text:
            offenders.append(f"{path}: its own split-in-half writer")
        if path.name != "bulk.py" and "DeadlockDetected" in text:
            offenders.append(f"{path}: its own deadlock retry")
    assert offenders == []
