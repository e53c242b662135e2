"""Two parallel batches with one Idempotency-Key apply the batch once (real PostgreSQL)."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.accounts.models import Customer
from apps.accounts.services.api_keys import api_key_create
from apps.integrations.models import BatchLog

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_parallel_requests_with_one_key_apply_the_batch_once():
    _, raw = api_key_create(name="ERP")
    batch = [
        {"code": f"P{n}", "name": f"Parallel {n}", "tax_number": tax}
        for n, tax in enumerate(["4540536920", "10000000146"])
    ]
    results = []
    barrier = threading.Barrier(4)

    def send():
        client = APIClient()
        barrier.wait()
        try:
            response = client.post(
                "/api/integration/v1/customers",
                batch,
                format="json",
                HTTP_X_API_KEY=raw,
                HTTP_IDEMPOTENCY_KEY="parallel-1",
            )
            results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [status for status, _ in results] == [200] * 4
    assert {body["created"] for _, body in results} == {2}  # every answer is the first one
    assert Customer.objects.count() == 2
    assert BatchLog.objects.count() == 1


def _parallel(raw: str, url: str, bodies: list, *, headers=None) -> list[dict]:
    """Each body POSTed by its own thread, all released at once; the answers' bodies."""
    results = []
    barrier = threading.Barrier(len(bodies))

    def send(body):
        client = APIClient()
        barrier.wait()
        try:
            response = client.post(url, body, format="json", HTTP_X_API_KEY=raw, **(headers or {}))
            results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [status for status, _ in results] == [200] * len(bodies), results
    return [body for _, body in results]


def test_the_same_new_customer_sent_in_parallel_without_a_key_is_created_once_and_never_fails():
    """A connector retrying while its first try still runs: one ``created``, the others
    ``unchanged`` (what a batch sent after it answers), never the database's refusal."""
    _, raw = api_key_create(name="ERP")
    record = {"code": "RACE-1", "name": "Race Bayi", "tax_number": "4540536920", "tier": "A"}
    answers = _parallel(raw, "/api/integration/v1/customers", [[record]] * 6)
    assert [a["errors"] for a in answers] == [[]] * 6
    assert sorted(a["created"] for a in answers) == [0] * 5 + [1]
    assert sum(a["unchanged"] for a in answers) == 5
    assert Customer.objects.filter(code="RACE-1").count() == 1


def test_one_new_tax_number_under_two_codes_in_parallel_names_the_tax_number():
    _, raw = api_key_create(name="ERP")
    bodies = [
        [{"code": f"TWIN-{n}", "name": "Twin", "tax_number": "4540536920", "tier": "A"}]
        for n in range(4)
    ]
    answers = _parallel(raw, "/api/integration/v1/customers", bodies)
    assert sum(a["created"] for a in answers) == 1
    refused = [e for a in answers for e in a["errors"]]
    assert len(refused) == 3
    assert all(list(e["errors"]) == ["tax_number"] for e in refused), refused
    assert Customer.objects.filter(tax_number="4540536920").count() == 1


def test_the_same_new_product_sent_in_parallel_is_created_once_and_then_unchanged():
    """No spurious ``updated`` (with an audit entry and a ``product.updated`` event) when two
    batches with the same product race: the later finds it equal."""
    from apps.catalog.models import Product
    from apps.core.models import OutboxEvent

    _, raw = api_key_create(name="ERP")
    record = {
        "sku": "RACE-P1",
        "name": "Race",
        "category": "Race > Child",
        "unit": "piece",
        "vat_rate": 20,
    }
    answers = _parallel(raw, "/api/integration/v1/products", [[record]] * 6)
    assert [a["errors"] for a in answers] == [[]] * 6
    assert sum(a["created"] for a in answers) == 1
    assert sum(a["updated"] for a in answers) == 0, answers
    assert Product.objects.filter(sku="RACE-P1").count() == 1
    changes = [
        p["change"]
        for event in OutboxEvent.objects.filter(type="product.updated")
        for p in event.data["products"]
    ]
    assert changes == ["created"]
