"""A quote is used once, even when its acceptance is sent several times at the same moment:
real parallel requests through the HTTP stack against PostgreSQL, each thread with its own
connection, released together by a barrier. Exactly one order; every other answer is 409."""

from __future__ import annotations

import datetime
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from apps.inventory.models import StockLevel
from apps.orders.models import Order
from apps.quotes.models import Quote
from apps.quotes.services import quote_answer, quote_request
from tests.orders.test_concurrency import dealer, product

pytestmark = [pytest.mark.django_db(transaction=True)]
THREADS = 8


@pytest.fixture(autouse=True)
def _rate_limits_off(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"ip": None, "user": None, "api_key": None},
    }


def test_parallel_acceptances_of_one_quote_place_exactly_one_order():
    from tests.inventory.factories import WarehouseFactory

    owner, token = dealer(credit_limit="1000000")
    warehouse = WarehouseFactory(code="IST")
    product("Q-1", price="100", stock={warehouse: 100})
    quote = quote_request(user=owner, lines=[{"sku": "Q-1", "quantity": 10}])
    quote_answer(
        quote=quote,
        by=None,
        prices={quote.lines.get().pk: Decimal("77.7700")},
        valid_until=timezone.localdate() + datetime.timedelta(days=3),
    )
    barrier = threading.Barrier(THREADS)
    outcomes: list = [None] * THREADS

    def worker(index: int) -> None:
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
            barrier.wait(timeout=60)
            response = client.post(
                f"/api/v1/quotes/{quote.number}/accept",
                {"payment_method": "on_account"},
                format="json",
            )
            outcomes[index] = (response.status_code, response.json().get("code"))
        except Exception as exc:  # a deadlock or a crash: reported below
            outcomes[index] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 120
    for thread in threads:
        thread.join(timeout=max(0.1, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads), "an acceptance hung"
    assert sorted(o[0] for o in outcomes) == [201] + [409] * (THREADS - 1), outcomes
    assert {o[1] for o in outcomes if o[0] == 409} == {"quote_used"}
    order = Order.objects.get()
    assert Quote.objects.get(pk=quote.pk).order == order
    assert order.lines.get().unit_net == Decimal("77.7700")
    assert StockLevel.objects.get(product__sku="Q-1").reserved == 10  # reserved once
