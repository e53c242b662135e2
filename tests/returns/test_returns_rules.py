"""The returns rules that need more than one request at a time, or many numbers: parallel
requests for the last units, and the credit note at the order's prices (property test)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.core.money import line_amounts, round2
from apps.returns.models import ReturnLine, ReturnRequest
from apps.returns.services import credit_amounts
from tests.returns.conftest import ask, delivered_order, line, make_shop


@pytest.mark.django_db(transaction=True)
def test_parallel_requests_for_the_last_units_cannot_exceed_what_shipped(dealer_client):
    """Four dealers' users ask for 3 of the 5 shipped units at once (real requests on their own
    connections): the order's lines are locked, so exactly one gets them."""
    shop = make_shop(dealer_client)
    order = delivered_order(shop, items=[("A-1", 5)])
    clients = [shop.client("purchasing") for _ in range(4)]
    barrier = threading.Barrier(len(clients))

    def request(client):
        try:
            barrier.wait(timeout=10)
            return ask(client, order, [line("A-1", 3)]).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(len(clients)) as pool:
        statuses = sorted(pool.map(request, clients))
    assert statuses == [201, 400, 400, 400]
    assert sum(ReturnLine.objects.values_list("quantity", flat=True)) == 3


UNIT = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("99999.9999"), places=4)
LINES = st.lists(
    st.tuples(UNIT, st.integers(1, 500), st.sampled_from([0, 1, 10, 20]), st.floats(0, 1)),
    min_size=1,
    max_size=6,
)


class _Line:
    def __init__(self, unit_net, quantity, vat_rate, received):
        self.order_line = type("OrderLine", (), {"unit_net": unit_net, "vat_rate": vat_rate})()
        self.quantity, self.received_quantity = quantity, received
        self.order_line_id = id(self)


class _Lines:
    def __init__(self, lines):
        self._lines = lines

    def select_related(self, *_args):
        return self._lines


@settings(max_examples=300, deadline=None)
@given(LINES)
def test_the_credit_note_is_the_orders_prices_for_the_received_quantities(lines):
    """DESIGN.md Returns: credit at the order's prices, VAT included. Per line the received
    quantity at the line's unit price, VAT per line rounded half-up (as placement does); a
    full return credits exactly the order's gross; never more."""
    built = [
        _Line(unit, quantity, rate, int(quantity * share)) for unit, quantity, rate, share in lines
    ]
    request = type("Request", (), {"lines": _Lines(built)})()
    net, vat, gross = credit_amounts(request, credited_before={})
    expected_net = sum(
        (round2(x.order_line.unit_net * x.received_quantity) for x in built), Decimal("0.00")
    )
    expected_vat = sum(
        (
            round2(
                round2(x.order_line.unit_net * x.received_quantity) * x.order_line.vat_rate / 100
            )
            for x in built
        ),
        Decimal("0.00"),
    )
    assert (net, vat, gross) == (expected_net, expected_vat, expected_net + expected_vat)
    order_gross = sum(
        (line_amounts(x.order_line.unit_net, x.quantity, x.order_line.vat_rate)[2] for x in built),
        Decimal("0.00"),
    )
    assert Decimal("0.00") <= gross <= order_gross
    for x in built:
        x.received_quantity = x.quantity
    assert credit_amounts(request, credited_before={})[2] == order_gross
    assert all(value == round2(value) for value in credit_amounts(request, credited_before={}))


@pytest.mark.django_db
def test_a_full_return_credits_exactly_the_orders_grand_total(dealer_client, integration_client):
    shop = make_shop(dealer_client)
    shop.product("ODD", price="33.3333", stock=20, vat_rate=10)
    order = delivered_order(shop, items=[("A-1", 3), ("ODD", 7)])
    erp = integration_client()
    number = ask(shop.owner, order, [line("A-1", 3), line("ODD", 7)]).json()["number"]
    for status in ("approved", "received", "credited"):
        erp.post(f"/api/integration/v1/returns/{number}/status", {"status": status}, format="json")
    returned = ReturnRequest.objects.get()
    assert returned.credit_total == order.grand_total
    assert returned.credit_note.amount == -order.grand_total
