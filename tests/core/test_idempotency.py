"""The Idempotency-Key record commits with the write it protects: a committed write always
replays, whatever happens after its commit; a failed one may be sent again; a record left
by a dead process is taken over; old records are purged by beat."""

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


def test_an_unfinished_record_of_a_dead_process_is_taken_over_after_the_stale_time(
    monkeypatch,
):
    request = _request("k5", {"a": 1})
    IdempotencyRecord.objects.create(scope="s", key="k5", request_hash=body_hash({"a": 1}))
    # young: a repeat waits for it, then gives up with 409
    IdempotencyRecord.objects.filter(key="k5").update(created_at=timezone.now())
    monkeypatch.setattr("apps.core.idempotency.WAIT_SECONDS", 0.2)
    with pytest.raises(Conflict):
        idempotent(request, scope="s", handler=lambda: Response({}, status=201))
    # stale: taken over
    IdempotencyRecord.objects.filter(key="k5").update(
        created_at=timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_STALE_SECONDS + 1)
    )
    response = idempotent(
        _request("k5", {"a": 1}), scope="s", handler=lambda: Response({"n": 1}, status=201)
    )
    assert response.status_code == 201
    assert response.data == {"n": 1}


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
