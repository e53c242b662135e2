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
* the audit-log entries that django-auditlog would have written had the rows been saved one by
  one (bulk SQL sends no signals), built as instances of its ``LogEntry`` model and saved in
  one ``COPY``: ``audit_log_many``.

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
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, OperationalError, connections, router
from django.db.models import AutoField, JSONField, Model
from django.utils.translation import gettext as _
from psycopg import errors as pg_errors

from apps.core.exceptions import NON_FIELD

Errors = dict[str, list[str]]
Outcomes = dict[int, str]
Result = tuple[Outcomes, dict[int, Errors]]
T = TypeVar("T")

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


def write_isolating(
    items: Sequence[T],
    write: Callable[[Sequence[T]], Result],
    *,
    index_of: Callable[[T], int],
) -> Result:
    """``write(items)`` (retried after a deadlock); when the database refuses the set, halve it
    until the refused items are found: each fails alone (``index_of(item)``: its record's
    index), the others are applied."""
    if not items:
        return {}, {}
    try:
        return write_retrying(write, items)
    except DatabaseError as exc:
        if len(items) == 1:
            return {}, {index_of(items[0]): {NON_FIELD: [rejected_message(exc)]}}
    middle = len(items) // 2
    first, first_errors = write_isolating(items[:middle], write, index_of=index_of)
    second, second_errors = write_isolating(items[middle:], write, index_of=index_of)
    return first | second, first_errors | second_errors


def rejected_message(exc: BaseException) -> str:
    """The answer for a record the database refused: the first line of its message."""
    first_line = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return _("Rejected by the database: %(e)s") % {"e": first_line}


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
