"""Money: Decimal, ROUND_HALF_UP to 2 places for amounts, 4 for unit prices; never float."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.core.money import line_amounts, part_amounts, round2, round4, vat_amount

decimals = st.decimals(min_value=Decimal("-1000000000"), max_value=Decimal("1000000000"), places=6)


def reference_half_up(value: Decimal, places: int) -> Decimal:
    """Half-up rounding done with integers only: the reference the helpers must equal."""
    scale = 10**places
    scaled = value * scale
    sign = -1 if scaled < 0 else 1
    magnitude = abs(scaled)
    whole = int(magnitude)
    if magnitude - whole >= Decimal("0.5"):
        whole += 1
    return Decimal(sign * whole) / scale


@given(decimals)
def test_round2_is_half_up_to_two_places(value):
    result = round2(value)
    assert result == reference_half_up(value, 2)
    assert result.as_tuple().exponent == -2


@given(decimals)
def test_round4_is_half_up_to_four_places(value):
    result = round4(value)
    assert result == reference_half_up(value, 4)
    assert result.as_tuple().exponent == -4


@given(decimals)
def test_rounding_is_idempotent_and_within_half_a_unit(value):
    assert round2(round2(value)) == round2(value)
    assert abs(round2(value) - value) <= Decimal("0.005")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.005", "0.01"),
        ("0.015", "0.02"),
        ("2.675", "2.68"),
        ("-0.005", "-0.01"),
        ("1.004", "1.00"),
    ],
)
def test_halves_round_away_from_zero_not_to_even(value, expected):
    assert round2(value) == Decimal(expected)


@given(
    unit=st.decimals(min_value=0, max_value=Decimal("100000"), places=4),
    quantity=st.integers(min_value=0, max_value=100000),
    rate=st.sampled_from([0, 1, 10, 20]),
)
def test_line_amounts_follow_the_vat_rule(unit, quantity, rate):
    net, vat, gross = line_amounts(unit, quantity, rate)
    assert net == round2(unit * quantity)
    assert vat == round2(net * rate / Decimal(100))
    assert vat == vat_amount(net, rate)
    assert gross == net + vat
    assert vat >= 0


def test_floats_are_refused():
    with pytest.raises(TypeError):
        round2(0.1)
    with pytest.raises(ValueError):
        round2("abc")
    with pytest.raises(ValueError):
        round2(Decimal("NaN"))


@given(
    unit=st.decimals(min_value=0, max_value=100000, places=4),
    rate=st.sampled_from([0, 1, 10, 20]),
    parts=st.lists(st.integers(min_value=1, max_value=500), min_size=1, max_size=12),
)
def test_parts_of_a_line_add_up_to_the_line_to_the_kurus(unit, rate, parts):
    """Returns credited in parts (DESIGN.md "Returns": a credit note at the order's prices):
    however a line is split, its parts' amounts add up to the line's own, never a kuruş more."""
    net = vat = Decimal("0.00")
    before = 0
    for quantity in parts:
        part_net, part_vat, part_gross = part_amounts(unit, quantity, rate, before=before)
        assert part_gross == part_net + part_vat and part_net >= 0 and part_vat >= 0
        net, vat, before = net + part_net, vat + part_vat, before + quantity
    line_net, line_vat, line_gross = line_amounts(unit, before, rate)
    assert (net, vat, net + vat) == (line_net, line_vat, line_gross)
