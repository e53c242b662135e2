"""``Idempotency-Key`` support: the same key and body replay the first answer; the same key
with another body answers 409 (``idempotency_key_reused``: API.md's conflict); a concurrent
duplicate waits for the first to finish.

How a committed write always replays, whatever happens after its commit:

1. ``idempotent()`` inserts the key's record (committed at once: a concurrent duplicate sees
   it and waits) and binds it to the request (a context variable).
2. The service that makes the write calls ``idempotency_claim(reference)`` *inside its own
   transaction*: the record is marked as belonging to that write (``resource``), so it
   commits, or rolls back, together with the write it protects.
3. When the handler returns a 2xx answer, the answer is stored for replays (with
   ``atomic=True``, in the same transaction as the handler's writes: no claim is needed).

A repeat finds the stored answer and replays it. If step 3 never happened (the process died,
or the answer could not be built after the commit), a claimed record is never dropped: the
repeat rebuilds the answer from the claimed resource with the ``rebuild`` callable the view
gave. An unclaimed record of a request that failed is deleted, so the request may be sent
again with its key.

Who is working on a key: on PostgreSQL the request that holds the key's session advisory lock
(``_KeyLock``), from before its record is written until its answer is settled. A lost
connection (a database restart, a killed worker) ends the session and frees the lock, so an
unfinished, unclaimed record whose lock is free was left by a request that died: a repeat
takes it over at once (after a 503 the client's retry is answered, not told for minutes that
the key is in progress), and a repeat waiting for a first request that fails runs itself.
Elsewhere (the demo's SQLite), such a record is taken over after
``IDEMPOTENCY_STALE_SECONDS``.

Endpoints whose writes are idempotent by their content (the integration batches: upserts by
natural key, absolute stock levels) need no claim: a batch cut short is simply sent again.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.response import Response

from apps.core.api.parsers import JSONNumber
from apps.core.exceptions import Conflict, ValidationError
from apps.core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
KEEP_FOR = timedelta(days=7)
WAIT_SECONDS = 15.0

Rebuild = Callable[[str], Response]

_bound_record: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "idempotency_record", default=None
)


def body_hash(payload) -> str:
    """The request body's digest: equal for the same JSON value, whatever its key order and
    spacing. A number counts by the digits sent (``JSONNumber``'s text), not by its float:
    ``10.0`` and ``10.00000000000000000001`` are two bodies (the second alone is refused)."""
    # each non-integer number goes through ``json.dumps`` as a string behind a random tag no
    # body can contain, then is put back as the number literal it was sent as
    tag = secrets.token_hex(16)
    canonical = json.dumps(
        _numbers_tagged(payload, tag), sort_keys=True, separators=(",", ":"), default=str
    )
    canonical = re.sub(f'"{tag}([^"]*)"', r"\1", canonical)
    return hashlib.sha256(canonical.encode()).hexdigest()


_TAGGED = (dict, list, tuple, float, JSONNumber)  # what the walk below goes into or rewrites


def _numbers_tagged(value, tag: str):
    """``value`` with each float as ``tag`` + its text. By exact types, and only into what may
    hold a number: a 5,000-record ERP batch takes ~5 ms."""
    kind = type(value)
    if kind is dict:
        return {k: _numbers_tagged(v, tag) if type(v) in _TAGGED else v for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_numbers_tagged(v, tag) if type(v) in _TAGGED else v for v in value]
    if kind is JSONNumber or kind is float:
        return f"{tag}{value}"  # a JSONNumber's str() is its digits as sent
    return value


def idempotency_claim(reference: str) -> None:
    """Called by a service inside the transaction of its write: the request's Idempotency-Key
    record (if the request has one) now belongs to ``reference`` and commits with it."""
    record_pk = _bound_record.get()
    if record_pk is not None:
        IdempotencyRecord.objects.filter(pk=record_pk).update(resource=str(reference)[:200])


def _replay(record: IdempotencyRecord, rebuild: Rebuild | None) -> Response | None:
    if record.status_code is not None:
        response = Response(record.response_body, status=record.status_code)
    elif record.resource and rebuild is not None:
        response = rebuild(record.resource)
    else:
        return None
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(
    request,
    *,
    scope: str,
    handler: Callable[[], Response],
    rebuild: Rebuild | None = None,
    atomic: bool = False,
) -> Response:
    """Answer ``request`` with ``handler()`` once per ``Idempotency-Key`` (when it sends one).
    ``rebuild(reference)`` answers a repeat whose first request committed its write (claimed
    with ``idempotency_claim``) but could not store its answer. ``atomic=True`` runs the
    handler and the storing of its answer in one transaction (for short writes that hold no
    lock every request needs; a placement claims instead, see above)."""
    key = request.headers.get(HEADER)
    if key is None:
        return handler()
    return idempotent_by_key(
        key,
        request.data,
        scope=scope,
        handler=handler,
        rebuild=rebuild,
        atomic=atomic,
        field=HEADER,
    )


class _KeyLock:
    """The session advisory lock of one key (PostgreSQL; elsewhere every ``acquire`` is
    granted and nothing is locked)."""

    def __init__(self, scope: str, key: str):
        digest = hashlib.sha256(f"{scope}\x00{key}".encode()).digest()
        self.id = int.from_bytes(digest[:8], "big", signed=True)
        self.real = connection.vendor == "postgresql"

    def acquire(self) -> bool:
        if not self.real:
            return True
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [self.id])
            return bool(cursor.fetchone()[0])

    def release(self) -> None:
        if not self.real:
            return
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [self.id])
        except DatabaseError:
            # the connection is gone (and the lock with its session), or unusable: closed,
            # so that the lock cannot outlive this request on a kept connection
            connection.close()


def idempotent_by_key(
    key: str,
    payload,
    *,
    scope: str,
    handler: Callable[[], Response],
    rebuild: Rebuild | None = None,
    atomic: bool = False,
    field: str = HEADER,
) -> Response:
    """``idempotent`` for a key and a body that do not come from the API's header and JSON
    (the portal's checkout form carries its own key); ``field`` names the key in the 400."""
    key = key.strip()
    # ASCII only: a header's other bytes arrive decoded as Latin-1, so "ü" would pass and
    # "ю" not, depending on their bytes
    if not key or len(key) > 200 or not (key.isascii() and key.isprintable()):
        raise ValidationError({field: [_("Use a key of 1 to 200 printable ASCII characters.")]})
    digest = body_hash(payload)
    lock = _KeyLock(scope, key)
    deadline = time.monotonic() + WAIT_SECONDS
    while not lock.acquire():
        # another request is working on this key: its answer, once it has one
        _found, replayed = _stored_answer(scope=scope, key=key, digest=digest, rebuild=rebuild)
        if replayed is not None:
            return replayed
        if time.monotonic() > deadline:
            raise _in_progress()
        time.sleep(0.1)
    try:
        return _first(
            scope=scope,
            key=key,
            digest=digest,
            handler=handler,
            rebuild=rebuild,
            atomic=atomic,
            locked=lock.real,
        )
    finally:
        lock.release()


def _first(*, scope, key, digest, handler, rebuild, atomic: bool, locked: bool) -> Response:
    """The request, run by the one holding the key's lock; a record found there is replayed
    (or, left unfinished by a request that died, taken over)."""
    record = _record_create(scope=scope, key=key, digest=digest, locked=locked)
    if record is None:
        return _existing(scope=scope, key=key, digest=digest, rebuild=rebuild)

    token = _bound_record.set(record.pk)
    try:
        if atomic:
            with transaction.atomic():
                response = handler()
                _settle(record, response)
        else:
            response = handler()
            _settle(record, response)
    except BaseException:
        # a claimed record protects a committed write: it stays, and a repeat rebuilds it
        IdempotencyRecord.objects.filter(pk=record.pk, resource="").delete()
        raise
    finally:
        _bound_record.reset(token)
    return response


def _settle(record: IdempotencyRecord, response: Response) -> None:
    if 200 <= response.status_code < 300:
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            status_code=response.status_code,
            response_body=response.data,
            completed_at=timezone.now(),
        )
    else:
        IdempotencyRecord.objects.filter(pk=record.pk, resource="").delete()


def _record_create(*, scope: str, key: str, digest: str, locked: bool) -> IdempotencyRecord | None:
    """The new in-progress record, or None when the key has one. An unfinished, unclaimed one
    is taken over: at once under the key's lock (``locked``: its request died), else once
    stale."""
    for _attempt in range(2):
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(scope=scope, key=key, request_hash=digest)
        except IntegrityError:
            left = IdempotencyRecord.objects.filter(
                scope=scope, key=key, request_hash=digest, status_code__isnull=True, resource=""
            )
            if not locked:
                stale = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_STALE_SECONDS)
                left = left.filter(created_at__lt=stale)
            deleted, _rows = left.delete()
            if not deleted:
                return None
    return None


def _existing(*, scope: str, key: str, digest: str, rebuild: Rebuild | None) -> Response:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        found, replayed = _stored_answer(scope=scope, key=key, digest=digest, rebuild=rebuild)
        if not found:
            raise Conflict(
                _("The first request with this Idempotency-Key failed; send it again."),
                code="idempotency_retry",
            )
        if replayed is not None:
            return replayed
        if time.monotonic() > deadline:
            raise _in_progress()
        time.sleep(0.1)


def _stored_answer(
    *, scope: str, key: str, digest: str, rebuild: Rebuild | None
) -> tuple[bool, Response | None]:
    """(whether the key has a record, its replayed answer if it has one yet); a record of
    another body is a 409 ``idempotency_key_reused``."""
    record = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
    if record is None:
        return False, None
    _same_request(record, digest)
    return True, _replay(record, rebuild)


def _same_request(record: IdempotencyRecord, digest: str) -> None:
    if record.request_hash != digest:
        raise Conflict(  # API.md's conflict: the key's stored request is another one
            _("This Idempotency-Key was used with a different request body."),
            code="idempotency_key_reused",
        )


def _in_progress() -> Conflict:
    """409 for a key whose first request is still running: ask again in a few seconds."""
    return Conflict(
        _("A request with this Idempotency-Key is still being processed."),
        code="idempotency_in_progress",
        headers={"Retry-After": "5"},
    )


def idempotency_records_purge() -> int:
    deleted, _rows = IdempotencyRecord.objects.filter(
        created_at__lt=timezone.now() - KEEP_FOR
    ).delete()
    return deleted
