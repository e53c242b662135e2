"""The bulk writer of the ERP feeds: one way to write a batch set-based and answer per record.

A feed (products, stock, prices, special prices; invoices and returns next) reads what its
batch refers to, compares it with what is stored and hands the rows that change to
``write_isolating`` with a ``write(part)`` of its own: one transaction, a constant number of
statements whatever the size of ``part``, answering ``({index: outcome}, {index: errors})``.
This module gives every feed the same three things around that function:

* a deadlock (or serialization failure) with a concurrent writer rolls ``write`` back and runs
  it again, up to ``ATTEMPTS`` times;
* when the database refuses the set (a constraint the checks before could not foresee: a
  product deleted meanwhile...), the set is halved until the refused rows are found: they fail
  alone with "Rejected by the database", the others are applied;
* for a feed that only creates (invoices, payments), ``write_new_settling``: a record the
  database refused because a concurrent batch created the same key meanwhile is compared
  again with what is stored now (``unchanged``, or the feed's own "other content" error);
* the audit-log entries that django-auditlog would have written had the rows been saved one by
  one (bulk SQL sends no signals), rows of its ``LogEntry`` model saved in one ``COPY``
  (``audit_log_many``) or, for a feed that writes in one statement, one ``INSERT ... SELECT``
  from what the statement wrote (``audit_insert_sql``);
* after a large batch, ``ANALYZE`` of the tables it wrote whose statistics are stale
  (``analyze_stale``), after the commit.

``rows_copy`` inserts rows of any model with ``COPY``, named by the model's field names: the
columns, the defaults and the conversion of each value come from the model's fields (as
``save()`` prepares them), not from a table layout written here. ``QuerySet.bulk_create`` is
the first choice for a few hundred rows; for a batch of 5000 it spends seconds quoting the
values of its ``UNNEST`` arrays in Python (5000 audit entries: 1.7-3.5 s; model instances
through ``COPY``: 0.5 s; ``rows_copy``: well under 0.1 s).

It knows no domain model: the feeds live in their apps' ``services/``.
"""

from __future__ import annotations

import datetime
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, OperationalError, connections, router, transaction
from django.db.models import AutoField, JSONField, Model
from django.utils.translation import gettext as _
from psycopg import errors as pg_errors

from apps.core.exceptions import NON_FIELD, is_database_unavailable
from apps.core.transactions import after_commit

Errors = dict[str, list[str]]
Outcomes = dict[int, str]
Result = tuple[Outcomes, dict[int, Errors]]
T = TypeVar("T")
logger = logging.getLogger(__name__)

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
ATTEMPTS = 3  # a deadlock with a concurrent writer is retried this many times
RETRYABLE = (pg_errors.DeadlockDetected, pg_errors.SerializationFailure)


def write_retrying(write: Callable[[T], Result], part: T, *, attempts: int = ATTEMPTS) -> Result:
    """``write(part)``, again after a deadlock or serialization failure with a concurrent
    writer (``write`` owns its transaction, so all of it was rolled back)."""
    for attempt in range(attempts):
        try:
            return write(part)
        except OperationalError as exc:
            if attempt == attempts - 1 or not isinstance(exc.__cause__, RETRYABLE):
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def database_gave_no_answer(exc: BaseException) -> bool:
    """The database refused no record: it did not answer (``is_database_unavailable``: a
    statement cancelled by ``statement_timeout``, a lost connection, a deadlock retried in
    vain). Not a program limit (SQLSTATE class 54, an index row too large for one value): an
    ``OperationalError`` too, but the record's own."""
    sqlstate = getattr(exc.__cause__, "sqlstate", None) or ""
    return is_database_unavailable(exc) and not sqlstate.startswith("54")


def write_isolating(
    items: Sequence[T],
    write: Callable[[Sequence[T]], Result],
    *,
    index_of: Callable[[T], int],
) -> Result:
    """``write(items)`` (retried after a deadlock); when the database refuses the set, halve it
    until the refused items are found: each fails alone (``index_of(item)``: its record's
    index), the others are applied. A database that did not answer (a statement cancelled by
    ``statement_timeout``, a lost connection: ``database_gave_no_answer``) refused no record:
    that is raised, for the request to answer 503 and the connector to send the batch again.
    Halving it made each half wait out the timeout again, the batch outlived gunicorn's
    timeout (a 500), or answered 200 with every record "rejected", which its
    ``Idempotency-Key`` then replayed."""
    if not items:
        return {}, {}
    try:
        return write_retrying(write, items)
    except DatabaseError as exc:
        if database_gave_no_answer(exc):
            raise
        if len(items) == 1:
            return {}, {index_of(items[0]): {NON_FIELD: [rejected_message(exc)]}}
    middle = len(items) // 2
    first, first_errors = write_isolating(items[:middle], write, index_of=index_of)
    second, second_errors = write_isolating(items[middle:], write, index_of=index_of)
    return first | second, first_errors | second_errors


def write_new_settling(
    records: Mapping[int, T],
    sort_out: Callable[[Mapping[int, T]], tuple[Outcomes, dict[int, Errors], list]],
    write: Callable[[Sequence], Result],
) -> Result:
    """For a feed that only ever creates (a record already stored with the same content is
    ``unchanged``): ``sort_out(records)`` answers what it can against what is stored and names
    the new ``(index, row)`` items, which ``write_isolating`` writes. A concurrent batch may
    create the same key meanwhile, and the database then refuses ours: those records are sorted
    out once more against what is stored now, so the same record sent twice at once is
    ``unchanged`` the second time, not refused."""
    outcomes, errors, new = sort_out(records)
    if not new:
        return outcomes, errors
    written, refused = write_isolating(new, write, index_of=lambda item: item[0])
    outcomes.update(written)
    if refused:
        again, again_errors, still_new = sort_out({index: records[index] for index in refused})
        outcomes.update(again)
        errors.update(again_errors)
        refused = {index: refused[index] for index, _row in still_new}
    errors.update(refused)
    return outcomes, errors


def rejected_message(exc: BaseException) -> str:
    """The answer for a record the database refused: the first line of its message."""
    first_line = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return _("Rejected by the database: %(e)s") % {"e": first_line}


# --- statistics -------------------------------------------------------------------------------

# A batch that wrote at least ANALYZE_MIN_ROWS rows has the statistics of the tables it wrote
# refreshed (``ANALYZE``) when they were never gathered, or when the rows changed since the last
# ANALYZE exceed ANALYZE_SHARE of the rows it counted (the table doubled, or its values were
# rewritten): autovacuum may be off or lag behind a bulk load, and a planner that believes a
# table of 100,000 prices empty sorts a catalog page for minutes.
ANALYZE_MIN_ROWS = 1000
ANALYZE_SHARE = 1.0
_ANALYZE_LOCK = 0x616E616C << 32  # advisory lock key space ("anal"); the low half: the oid

_STALE = (
    "SELECT c.oid::bigint, c.oid::regclass::text, c.reltuples, "
    "pg_stat_get_mod_since_analyze(c.oid) FROM pg_class c WHERE c.oid = ANY(%s::regclass[])"
)


def analyze_stale(models: Iterable[type[Model]], *, written: int) -> None:
    """After a batch that wrote ``written`` rows into the tables of ``models``: ``ANALYZE`` the
    ones whose statistics are stale (see ``ANALYZE_MIN_ROWS``), after the commit (outside the
    batch's locks) or at once outside a transaction. Cheap when nothing is stale: one query on
    ``pg_class``. Two workers never analyze one table at once (an advisory lock: the second
    skips it); a failure is logged, never raised (the batch is committed)."""
    models = list(models)
    if written < ANALYZE_MIN_ROWS or not models:
        return
    tables = [model._meta.db_table for model in models]
    using = router.db_for_write(models[0])
    if connections[using].vendor != "postgresql":  # the demo's SQLite plans without statistics
        return
    after_commit(lambda: _analyze(tables, written, using), name="analyze stale tables", using=using)


def analyze_stale_now(models: Iterable[type[Model]]) -> None:
    """Before a statement that reads whole tables (a full rebuild of a derived table):
    ``ANALYZE`` those of ``models`` never analyzed or changed by more than ``ANALYZE_SHARE``
    of their rows since, at once, in the caller's transaction (``ANALYZE`` there counts the
    transaction's own new rows). A planner that takes 100,000 fresh rows for an empty table
    picks nested loops that run for minutes instead of seconds."""
    models = list(models)
    if not models:
        return
    _analyze([model._meta.db_table for model in models], 0, router.db_for_write(models[0]))


def _analyze(tables: list[str], written: int, using: str) -> None:
    connection = connections[using]
    with connection.cursor() as cursor:
        # the batch just committed reports its row counts to the shared statistics at most
        # once a second: flushed now, they are counted before the look below (and reset by its
        # ANALYZE), not added after it as changes since (PostgreSQL 15+)
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute(_STALE, [tables])
        stale = [
            (oid, name)
            for oid, name, reltuples, modified in cursor.fetchall()
            if reltuples < 0 or max(modified, written) > ANALYZE_SHARE * reltuples
        ]
    for oid, name in stale:
        try:
            with transaction.atomic(using=using), connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_ANALYZE_LOCK | oid])
                if cursor.fetchone()[0]:
                    cursor.execute(f"ANALYZE {name}")  # a regclass name from pg_class
        except DatabaseError:
            logger.warning("ANALYZE %s failed", name, exc_info=True)


# --- audit ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditEntry:
    """One written row, as django-auditlog records it: ``changes`` is ``{field: [old, new]}``
    in text (``audit_text``), every field of a created row (old ``"None"``)."""

    pk: int
    repr: str
    created: bool
    changes: dict[str, list[str]]


def audit_log_many(
    *,
    model: type[Model],
    entries: Iterable[AuditEntry],
    timestamp: datetime.datetime,
    remote_addr: str | None = None,
    batch_id: int | None = None,
) -> None:
    """Save the audit-log entries of rows written in bulk, in the caller's transaction, as
    rows of django-auditlog's ``LogEntry`` model named by its fields (one ``COPY``): the
    batch is named in ``additional_data`` (``{"source": "integration", "batch": <id>}``)."""
    create, update = int(LogEntry.Action.CREATE), int(LogEntry.Action.UPDATE)
    rows_copy(
        LogEntry,
        fields=("object_pk", "object_id", "object_repr", "action", "changes"),
        rows=(
            (
                str(entry.pk),
                entry.pk,
                entry.repr,
                create if entry.created else update,
                entry.changes,
            )
            for entry in entries
        ),
        constants={
            "content_type": ContentType.objects.get_for_model(model).pk,
            "remote_addr": remote_addr,
            "timestamp": timestamp,
            "additional_data": {"source": "integration", "batch": batch_id},
        },
    )


def audit_created_many(
    *,
    model: type[Model],
    objects: Iterable[Model],
    fields: Sequence[str],
    timestamp: datetime.datetime,
    remote_addr: str | None = None,
    batch_id: int | None = None,
) -> None:
    """``audit_log_many`` for rows just created in bulk: each one's ``fields``, from nothing."""
    audit_log_many(
        model=model,
        entries=(
            AuditEntry(
                pk=obj.pk,
                repr=str(obj),
                created=True,
                changes={name: ["None", audit_text(getattr(obj, name))] for name in fields},
            )
            for obj in objects
        ),
        timestamp=timestamp,
        remote_addr=remote_addr,
        batch_id=batch_id,
    )


AUDIT_CREATE, AUDIT_UPDATE = int(LogEntry.Action.CREATE), int(LogEntry.Action.UPDATE)


def audit_insert_sql(
    *,
    model: type[Model],
    source: str,
    timestamp: datetime.datetime,
    remote_addr: str | None = None,
    batch_id: int | None = None,
    prefix: str = "audit",
) -> tuple[str, dict[str, Any]]:
    """The audit-log entries of rows written in bulk, as one ``INSERT ... SELECT`` for a
    feed's own statement (a data-modifying CTE, say): no row travels through Python.

    ``source`` is a ``SELECT`` whose columns are named after django-auditlog's ``LogEntry``
    fields: ``object_pk`` (text), ``object_id``, ``object_repr``, ``action`` (``AUDIT_CREATE``
    or ``AUDIT_UPDATE``) and ``changes`` (jsonb, ``{field: [old, new]}`` in text as
    ``audit_text`` and ``audit_text_sql`` write it). The other columns, the defaults and their
    conversion come from the model's fields, as in ``audit_log_many``. Returns the SQL and its
    named parameters (``%(<prefix>_<column>)s``), to merge with the caller's."""
    meta = LogEntry._meta
    connection = connections[router.db_for_write(LogEntry)]
    varying = ("object_pk", "object_id", "object_repr", "action", "changes")
    constants = {
        "content_type": ContentType.objects.get_for_model(model).pk,
        "remote_addr": remote_addr,
        "timestamp": timestamp,
        "additional_data": {"source": "integration", "batch": batch_id},
    }
    fixed = [meta.get_field(name) for name in constants]
    defaults = [
        field
        for field in meta.concrete_fields
        if field.name not in constants
        and field.name not in varying
        and not isinstance(field, AutoField)
    ]
    params: dict[str, Any] = {}
    values = []
    for field in (*fixed, *defaults):
        value = constants[field.name] if field.name in constants else field.get_default()
        name = f"{prefix}_{field.column}"
        params[name] = field.get_db_prep_save(value, connection)
        values.append(f"%({name})s::{field.cast_db_type(connection)}")
    quote = connection.ops.quote_name
    columns = [meta.get_field(name).column for name in varying]
    columns += [field.column for field in (*fixed, *defaults)]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(map(quote, columns))}) "  # noqa: S608
        f"SELECT {', '.join('s.' + name for name in varying)}, {', '.join(values)} "
        f"FROM ({source}) s"
    )
    return sql, params


def audit_text_sql(expression: str) -> str:
    """SQL for ``audit_text`` of a ``timestamptz`` expression: naive UTC, microseconds only
    when there are some, ``'None'`` for NULL (numbers: ``expression::text`` is already
    ``str()`` of their ``Decimal``)."""
    utc = f"({expression}) AT TIME ZONE 'UTC'"
    return (
        f"CASE WHEN ({expression}) IS NULL THEN 'None' ELSE "
        f"to_char({utc}, 'YYYY-MM-DD HH24:MI:SS') || CASE WHEN date_trunc('second', "
        f"{utc}) = {utc} THEN '' ELSE to_char({utc}, '.US') END END"
    )


def audit_text(value: Any) -> str:
    """A value as django-auditlog writes it into ``changes``: times naive in UTC, ``None`` as
    ``"None"``, everything else ``str()``."""
    if isinstance(value, datetime.datetime):
        return str(value.astimezone(datetime.UTC).replace(tzinfo=None))
    return str(value)


def rows_copy(
    model: type[Model],
    *,
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    constants: Mapping[str, Any] | None = None,
) -> None:
    """Insert ``rows`` of ``model`` with one ``COPY`` in the caller's transaction (no signals,
    no primary keys read back). Each row gives the values of ``fields`` (by field name; a
    foreign key takes the related primary key), ``constants`` the values every row shares, and
    every other field but an auto-increment key takes its default. Values are converted by
    their field (``get_db_prep_save``, as ``save()`` does)."""
    constants = constants or {}
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":  # the demo's SQLite has no COPY
        names = [meta.get_field(name).attname for name in fields]
        fixed_values = {meta.get_field(name).attname: value for name, value in constants.items()}
        model.objects.bulk_create(
            (model(**dict(zip(names, row, strict=True)), **fixed_values) for row in rows),
            batch_size=500,
        )
        return
    varying = [meta.get_field(name) for name in fields]
    fixed = [meta.get_field(name) for name in constants]
    named = {field.name for field in (*varying, *fixed)}
    defaults = [
        field
        for field in meta.concrete_fields
        if field.name not in named and not isinstance(field, AutoField)
    ]
    shared = [_converter(field, connection)(constants[field.name]) for field in fixed]
    shared += [_converter(field, connection)(field.get_default()) for field in defaults]
    converters = [_converter(field, connection) for field in varying]
    columns = ", ".join(
        connection.ops.quote_name(field.column) for field in (*varying, *fixed, *defaults)
    )
    table = connection.ops.quote_name(meta.db_table)
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,  # names from the model
    ):
        for row in rows:
            values = [convert(value) for convert, value in zip(converters, row, strict=True)]
            copy.write_row(values + shared)


# fields whose value of this exact type is what the database takes (their preparation would
# hand it back unchanged): the hot path of 5000-row batches skips it
_PLAIN_TYPES = {
    "CharField": str,
    "TextField": str,
    "IntegerField": int,
    "BigIntegerField": int,
    "SmallIntegerField": int,
    "PositiveIntegerField": int,
    "PositiveBigIntegerField": int,
    "PositiveSmallIntegerField": int,
}


def _converter(field, connection) -> Callable[[Any], Any]:
    if isinstance(field, JSONField):  # as JSON text: COPY reads it into json/jsonb
        encoder = field.encoder
        return lambda value: None if value is None else json.dumps(value, cls=encoder)
    prepare = field.get_db_prep_save
    plain = _PLAIN_TYPES.get(field.get_internal_type())
    if plain is not None:
        return lambda value: value if type(value) is plain else prepare(value, connection)
    return lambda value: prepare(value, connection)
