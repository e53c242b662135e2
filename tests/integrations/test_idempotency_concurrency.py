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
