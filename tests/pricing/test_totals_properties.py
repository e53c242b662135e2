"""Property tests of an order's amounts (DESIGN.md "Money"): each line's net is rounded half-up
to 2 places, its VAT is ``round2(line_net * vat_rate / 100)``, and the order's totals are the
sums of those rounded line amounts (VAT is computed per line, never once on the subtotal).
The reference below is written from DESIGN.md alone; the code under test is the one function
that prices the lines of carts, quotes and orders (``apps.pricing.lines``)."""

from __future__ import annotations

import itertools
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from apps.catalog.models import Product
from apps.catalog.services.categories import category_create
from apps.pricing.lines import lines_price, totals
from apps.pricing.models import Price, PriceList
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db]

CENT = Decimal("0.01")
_skus = itertools.count(1)


def round2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


lines = st.lists(
    st.tuples(
        st.decimals(min_value=0, max_value=Decimal("20000"), places=4),  # unit net
        st.integers(1, 500),  # quantity
        st.sampled_from([0, 1, 10, 20]),  # KDV
    ),
    min_size=1,
    max_size=8,
)


@pytest.fixture
def world():
    return category_create(name="Props"), CustomerFactory(), PriceList.objects.get(code="LIST")


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
# two lines whose VAT is half a kuruş each: 0.01 + 0.01 per line, 0.01 if rounded once
@example([(Decimal("0.5000"), 1, 1), (Decimal("0.5000"), 1, 1)])
@given(lines=lines)
def test_order_totals_are_sums_of_lines_rounded_one_by_one(world, lines):
    category, customer, list_prices = world
    pairs = []
    for unit, quantity, rate in lines:
        product = Product.objects.create(
            sku=f"PROP-{next(_skus)}", name="p", category=category, vat_rate=rate
        )
        Price.objects.create(price_list=list_prices, product=product, amount=unit)
        pairs.append((product, quantity))

    priced = lines_price(customer=customer, pairs=pairs)
    got = totals(priced)

    expected_net = expected_vat = Decimal("0.00")
    for line, (unit, quantity, rate) in zip(priced, lines, strict=True):
        net = round2(unit * quantity)
        vat = round2(net * rate / 100)
        assert (line.line_net, line.line_vat, line.line_gross) == (net, vat, net + vat)
        expected_net += net
        expected_vat += vat
    assert got == {
        "subtotal_net": expected_net,
        "vat_total": expected_vat,
        "grand_total": expected_net + expected_vat,
    }
