"""``Idempotency-Key`` support: the same key and body replay the first answer; the same key
with another body answers 422; a concurrent duplicate waits for the first to finish.

Only successful (2xx) answers are kept: a request that failed may be retried with its key.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.response import Response

from apps.core.exceptions import Conflict, UnprocessableEntity, ValidationError
from apps.core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
KEEP_FOR = timedelta(days=7)
WAIT_SECONDS = 15.0


def body_hash(payload) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(record.response_body, status=record.status_code)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(request, *, scope: str, handler: Callable[[], Response]) -> Response:
    key = request.headers.get(HEADER)
    if key is None:
        return handler()
    key = key.strip()
    if not key or len(key) > 200:
        raise ValidationError({HEADER: [_("Use a key of 1 to 200 characters.")]})
    digest = body_hash(request.data)
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(scope=scope, key=key, request_hash=digest)
    except IntegrityError:
        return _existing(scope=scope, key=key, digest=digest)

    try:
        response = handler()
    except BaseException:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        raise
    if 200 <= response.status_code < 300:
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            status_code=response.status_code,
            response_body=response.data,
            completed_at=timezone.now(),
        )
    else:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
    return response


def _existing(*, scope: str, key: str, digest: str) -> Response:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        record = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        if record is None:
            raise Conflict(
                _("The first request with this Idempotency-Key failed; send it again."),
                code="idempotency_retry",
            )
        if record.request_hash != digest:
            raise UnprocessableEntity(
                _("This Idempotency-Key was used with a different request body."),
                code="idempotency_key_reused",
            )
        if record.status_code is not None:
            return _replay(record)
        if time.monotonic() > deadline:
            raise Conflict(
                _("A request with this Idempotency-Key is still being processed."),
                code="idempotency_in_progress",
            )
        time.sleep(0.1)


def idempotency_records_purge() -> int:
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - KEEP_FOR).delete()
    return deleted
