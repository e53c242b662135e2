"""The Idempotency-Key record commits with the write it protects: a committed write always
replays, whatever happens after its commit; a failed one may be sent again; a record left
by a request that died is taken over as soon as its database session is gone; old records are
purged by beat."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory

from apps.core.api.parsers import SafeJSONParser
from apps.core.exceptions import Conflict
from apps.core.idempotency import (
    body_hash,
    idempotency_claim,
    idempotency_records_purge,
    idempotent,
)
from apps.core.models import IdempotencyRecord
from apps.core.tasks import idempotency_purge

pytestmark = [pytest.mark.django_db]


def _request(key: str, body: dict) -> Request:
    django_request = APIRequestFactory().post("/x", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    return Request(django_request, parsers=[JSONParser()])


class Boom(Exception):
    pass


def test_a_write_committed_before_the_answer_failed_replays_instead_of_running_again():
    writes = []

    def handler():
        with transaction.atomic():
            writes.append("order")
            idempotency_claim("SO-2026-000042")
        raise Boom("the answer could not be built after the commit")

    with pytest.raises(Boom):
        idempotent(_request("k1", {"a": 1}), scope="s", handler=handler)

    record = IdempotencyRecord.objects.get(scope="s", key="k1")
    assert record.resource == "SO-2026-000042"
    assert record.status_code is None

    def rebuild(reference):
        return Response({"number": reference}, status=201)

    response = idempotent(_request("k1", {"a": 1}), scope="s", handler=handler, rebuild=rebuild)
    assert response.status_code == 201
    assert response.data == {"number": "SO-2026-000042"}
    assert response["Idempotent-Replayed"] == "true"
    assert writes == ["order"]  # the handler did not run again


def test_a_claim_rolled_back_with_its_write_lets_the_request_be_sent_again():
    def failing():
        with transaction.atomic():
            idempotency_claim("SO-2026-000043")
            raise Boom("the placement failed")

    with pytest.raises(Boom):
        idempotent(_request("k2", {"a": 1}), scope="s", handler=failing)
    assert not IdempotencyRecord.objects.filter(key="k2").exists()

    response = idempotent(
        _request("k2", {"a": 1}), scope="s", handler=lambda: Response({"ok": 1}, status=201)
    )
    assert response.status_code == 201
    assert IdempotencyRecord.objects.get(key="k2").status_code == 201


def test_atomic_handlers_store_their_answer_in_their_own_transaction():
    def handler():
        IdempotencyRecord.objects.create(scope="other", key="written-by-handler", request_hash="x")
        return Response({"ok": True}, status=200)

    idempotent(_request("k3", {}), scope="s", handler=handler, atomic=True)
    assert IdempotencyRecord.objects.get(key="k3").status_code == 200

    def failing():
        IdempotencyRecord.objects.create(scope="other", key="rolled-back", request_hash="x")
        raise Boom

    with pytest.raises(Boom):
        idempotent(_request("k4", {}), scope="s", handler=failing, atomic=True)
    assert not IdempotencyRecord.objects.filter(key__in=["k4", "rolled-back"]).exists()


def test_an_unfinished_record_is_waited_for_while_its_request_lives_and_taken_over_once_dead(
    monkeypatch,
):
    """Whose request is alive is the database's answer: its session holds the key's lock.
    While it does, a repeat waits, then answers 409 with Retry-After; once its session ends
    (the connection was lost: the first request got 503), the repeat takes the key over at
    once, however young the record (it waited 2 minutes before, answered 409 meanwhile)."""
    import psycopg  # here: a second session of the test database, as another process's

    from apps.core.idempotency import _KeyLock
    from tests.conftest import subprocess_database_url

    IdempotencyRecord.objects.create(scope="s", key="k5", request_hash=body_hash({"a": 1}))
    monkeypatch.setattr("apps.core.idempotency.WAIT_SECONDS", 0.3)
    other = psycopg.connect(subprocess_database_url(), autocommit=True)
    try:
        other.execute("SELECT pg_advisory_lock(%s)", [_KeyLock("s", "k5").id])
        with pytest.raises(Conflict) as refused:
            idempotent(_request("k5", {"a": 1}), scope="s", handler=lambda: Response({}, 201))
        assert refused.value.code == "idempotency_in_progress"
        assert refused.value.headers == {"Retry-After": "5"}
        # another body under the same key is told at once, alive or not
        with pytest.raises(Conflict) as reused:
            idempotent(_request("k5", {"a": 2}), scope="s", handler=lambda: Response({}, 201))
        assert reused.value.code == "idempotency_key_reused"
    finally:
        other.close()  # the first request's session ends

    response = idempotent(
        _request("k5", {"a": 1}), scope="s", handler=lambda: Response({"n": 1}, status=201)
    )
    assert response.status_code == 201 and response.data == {"n": 1}
    replay = idempotent(_request("k5", {"a": 1}), scope="s", handler=lambda: Response({}, 500))
    assert replay["Idempotent-Replayed"] == "true" and replay.data == {"n": 1}


def test_a_key_is_locked_only_while_its_request_runs():
    """The lock is taken before the record is written and given back with the answer, also
    when the handler fails: a kept connection does not hold it for the next request."""
    from apps.core.idempotency import _KeyLock

    def held_elsewhere() -> bool:
        import psycopg  # here: a second session of the test database

        from tests.conftest import subprocess_database_url

        with psycopg.connect(subprocess_database_url(), autocommit=True) as other:
            taken = other.execute(
                "SELECT pg_try_advisory_lock(%s)", [_KeyLock("s", "k6").id]
            ).fetchone()[0]
            return not taken

    seen = []

    def handler():
        seen.append(held_elsewhere())
        return Response({}, status=201)

    idempotent(_request("k6", {}), scope="s", handler=handler)
    assert seen == [True] and not held_elsewhere()

    def failing():
        raise Boom

    with pytest.raises(Boom):
        idempotent(_request("k6b", {}), scope="s", handler=failing)
    assert not held_elsewhere()


def test_beat_purges_idempotency_records_older_than_a_week():
    assert settings.CELERY_BEAT_SCHEDULE["core-idempotency-purge"]["task"] == (
        "core.idempotency_purge"
    )
    old = IdempotencyRecord.objects.create(scope="s", key="old", request_hash="x")
    IdempotencyRecord.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=8)
    )
    IdempotencyRecord.objects.create(scope="s", key="new", request_hash="x")
    assert idempotency_purge.apply().get() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    assert idempotency_records_purge() == 0


def _raw_request(key: str, body: str) -> Request:
    django_request = APIRequestFactory().post(
        "/x", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key
    )
    return Request(django_request, parsers=[SafeJSONParser()])


def test_a_key_sent_again_with_a_number_that_only_its_float_shares_is_another_request():
    """The body's digest reads each number by the digits sent: ``10.00000000000000000001`` is
    not ``10.0`` (the second body alone is refused for its places), so it is a 409, not the
    first request's answer replayed."""
    calls = []

    def handler():
        calls.append(1)
        return Response({"ok": True}, status=201)

    first = idempotent(_raw_request("k9", '{"quantity": 10.0}'), scope="s", handler=handler)
    assert first.status_code == 201
    # the same value, written otherwise, is the same request: replayed
    again = idempotent(_raw_request("k9", '{ "quantity" : 10.000 }'), scope="s", handler=handler)
    assert again.status_code == 201 and calls == [1]
    with pytest.raises(Conflict) as refused:
        idempotent(
            _raw_request("k9", '{"quantity": 10.00000000000000000001}'),
            scope="s",
            handler=handler,
        )
    assert refused.value.code == "idempotency_key_reused"
    assert calls == [1]
