"""The bulk writer every ERP feed writes through: deadlocks retried, refused rows isolated, audit
entries saved with django-auditlog's model."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.db import DatabaseError, DataError, OperationalError, connection
from psycopg import errors as pg_errors

from apps.catalog.models import Brand, Product
from apps.catalog.services.categories import category_create
from apps.core import bulk
from apps.core.bulk import AuditEntry, audit_log_many, audit_text, write_isolating
from apps.pricing.services.feeds import price_upsert_many

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


def test_a_deadlock_that_persists_is_the_batchs_503_not_the_rows_fault(monkeypatch):
    """It failed the row "Rejected by the database: deadlock", which a connector reads as a
    bad record and does not send again; the record is fine, the database was busy: the
    batch's 503 (``database_gave_no_answer``), to be sent again whole."""
    monkeypatch.setattr(bulk.time, "sleep", lambda _s: None)
    attempts = []

    def write(part):
        attempts.append(part)
        raise _deadlock()

    with pytest.raises(OperationalError):
        write_isolating([7, 8], write, index_of=lambda i: i)
    assert len(attempts) == bulk.ATTEMPTS  # retried, never halved


def test_a_record_the_database_refuses_fails_alone():
    def write(part):
        if 8 in part:
            raise DataError("value too long for type character varying(64)")
        return dict.fromkeys(part, "created"), {}

    outcomes, errors = write_isolating([7, 8, 9], write, index_of=lambda i: i)
    assert outcomes == {7: "created", 9: "created"}
    assert errors[8]["non_field_errors"][0].startswith("Rejected by the database: value too")


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


# --- statistics after a large batch -----------------------------------------------------------


@pytest.fixture
def empty_price_statistics():
    """The price tables' statistics say what they hold: nothing. ``ANALYZE`` writes ``pg_class``
    in place, so an earlier test that analyzed a full table and rolled back leaves statistics
    claiming rows the empty table does not have (and a batch smaller than that count is then
    rightly taken as no change worth analyzing)."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE pricing_price, pricing_pricechange")


def _analyze_count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = %s", [table])
        return cursor.fetchone()[0]


def _price_records(count: int) -> dict[int, dict]:
    category = category_create(name="Kablo")
    Product.objects.bulk_create(
        Product(sku=f"P-{n:04d}", name=f"Kablo {n}", category=category) for n in range(count)
    )
    return {
        n: {"sku": f"P-{n:04d}", "price_list": "LIST", "min_quantity": 1, "amount": D("10.0000")}
        for n in range(count)
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("empty_price_statistics")
def test_a_large_batch_analyzes_the_tables_it_wrote_after_its_commit(monkeypatch):
    monkeypatch.setattr(bulk, "ANALYZE_MIN_ROWS", 50)
    records = _price_records(60)
    before = _analyze_count("pricing_price"), _analyze_count("pricing_pricechange")

    outcomes, errors = price_upsert_many(records=records)

    assert errors == {} and set(outcomes.values()) == {"created"}
    after = _analyze_count("pricing_price"), _analyze_count("pricing_pricechange")
    assert after == (before[0] + 1, before[1] + 1)
    with connection.cursor() as cursor:  # the planner knows the rows are there
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'pricing_price'")
        assert cursor.fetchone()[0] == 60


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("empty_price_statistics")
def test_a_small_batch_or_fresh_statistics_analyze_nothing(monkeypatch):
    monkeypatch.setattr(bulk, "ANALYZE_MIN_ROWS", 50)
    records = _price_records(120)
    before = _analyze_count("pricing_price")
    price_upsert_many(records=dict(list(records.items())[:40]))  # below the threshold
    assert _analyze_count("pricing_price") == before
    price_upsert_many(records=dict(list(records.items())[40:]))  # 80 rows: stale, analyzed
    assert _analyze_count("pricing_price") == before + 1
    changed = {n: {**r, "amount": D("11.0000")} for n, r in list(records.items())[:55]}
    price_upsert_many(records=changed)  # 55 changed rows of 120 counted: still fresh
    assert _analyze_count("pricing_price") == before + 1


def test_analyze_stale_is_a_no_op_below_the_threshold():
    # no query at all, not even the look at pg_class (the test may not use the database)
    bulk.analyze_stale([Product], written=bulk.ANALYZE_MIN_ROWS - 1)


@pytest.mark.django_db
def test_audit_text_sql_writes_times_as_audit_text_does():
    moments = [
        None,
        dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=3))),
        dt.datetime(2026, 3, 1, 9, 0, 0, 120, tzinfo=dt.UTC),
        dt.datetime(5, 1, 2, 3, 4, 5, 999999, tzinfo=dt.UTC),
    ]
    with connection.cursor() as cursor:
        for moment in moments:
            text = bulk.audit_text_sql("t")
            cursor.execute(f"SELECT {text} FROM (SELECT %s::timestamptz AS t) x", [moment])  # noqa: S608
            assert cursor.fetchone()[0] == audit_text(moment)
