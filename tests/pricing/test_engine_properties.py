"""Property tests: the engine's rule equals a brute-force reference over random price tables
and campaigns; prices are never negative; monotone in quantity when breaks are monotone."""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.campaigns.rules import CampaignRule
from apps.pricing.engine import resolve_one

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


@dataclass
class P:
    pk: int = 1
    vat_rate: int = 20
    brand_id: int = 7
    category_id: int = 3


@dataclass
class D:
    pk: int = 11
    tier: str = "B"


amounts = st.decimals(min_value=0, max_value=Decimal("5000"), places=4)
rows = st.lists(st.tuples(st.integers(1, 50), amounts), max_size=4, unique_by=lambda r: r[0])


@st.composite
def campaigns(draw):
    kind = draw(st.sampled_from(["percentage", "fixed"]))
    # a few round values make ties (equal unit prices) frequent, so tie-breaking is exercised
    value = draw(
        st.one_of(
            st.sampled_from([Decimal(v) for v in ("0", "5", "10", "50", "100")]),
            st.decimals(min_value=0, max_value=100, places=2),
        )
        if kind == "percentage"
        else st.one_of(
            st.sampled_from([Decimal(v) for v in ("0", "1", "10", "100", "9999")]),
            st.decimals(min_value=0, max_value=Decimal("6000"), places=4),
        )
    )
    return CampaignRule(
        id=draw(st.integers(1, 10_000)),
        name="c",
        priority=draw(st.integers(0, 3)),
        min_quantity=draw(st.integers(1, 30)),
        discount_type=kind,
        discount_value=value,
        applies_to_special_prices=draw(st.booleans()),
        starts_at=None,
        ends_at=None,
        audience=draw(st.sampled_from(["everyone", "tiers", "dealers"])),
        tiers=frozenset(draw(st.sets(st.sampled_from("ABC")))),
        customer_ids=frozenset(draw(st.sets(st.sampled_from([11, 12])))),
        scope=draw(st.sampled_from(["everything", "brands", "products"])),
        brand_ids=frozenset(draw(st.sets(st.sampled_from([7, 8])))),
        product_ids=frozenset(draw(st.sets(st.sampled_from([1, 2])))),
    )


def q4(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def reference(special, tier, listing, camps, quantity):
    """Brute force, written independently: (source, base, unit, campaign id) or None."""

    def best_break(table):
        eligible = sorted((q, a) for q, a in table if q <= quantity)
        return eligible[-1][1] if eligible else None

    for source, table in (("special", special), ("tier:B", tier), ("list", listing)):  # noqa: B007
        base = best_break(table)
        if base is not None:
            break
    else:
        return None
    offers = []
    for c in camps:
        reaches = (
            c.audience == "everyone"
            or (c.audience == "tiers" and "B" in c.tiers)
            or (c.audience == "dealers" and 11 in c.customer_ids)
        )
        covers = (
            c.scope == "everything"
            or (c.scope == "brands" and 7 in c.brand_ids)
            or (c.scope == "products" and 1 in c.product_ids)
        )
        if not (reaches and covers and c.min_quantity <= quantity):
            continue
        if source == "special" and not c.applies_to_special_prices:
            continue
        if c.discount_type == "percentage":
            unit = q4(base * (100 - c.discount_value) / 100)
        else:
            unit = q4(base - c.discount_value)
        offers.append((max(unit, Decimal(0)), -c.priority, c.id))
    offers = [o for o in offers if o[0] < base]
    if not offers:
        return source, q4(base), q4(base), None
    unit, _, cid = min(offers)
    return source, q4(base), unit, cid


def run(special, tier, listing, camps, quantity):
    return resolve_one(
        product=P(),
        quantity=quantity,
        customer=D(),
        at=NOW,
        special_rows=special,
        tier_rows=tier,
        list_rows=listing,
        campaigns=camps,
        category_path="0001",
    )


@settings(max_examples=200, deadline=None)
@given(rows, rows, rows, st.lists(campaigns(), max_size=4), st.integers(1, 60))
def test_engine_equals_the_brute_force_reference(special, tier, listing, camps, quantity):
    result = run(special, tier, listing, camps, quantity)
    expected = reference(special, tier, listing, camps, quantity)
    if expected is None:
        assert result.sellable is False and result.unit_net is None
        return
    source, base, unit, campaign_id = expected
    assert result.sellable
    assert (result.source, result.base, result.unit_net) == (source, base, unit)
    assert (result.campaign.id if result.campaign else None) == campaign_id
    assert result.discount == base - unit
    assert result.unit_gross == q4(unit * Decimal("1.20"))


@settings(max_examples=150, deadline=None)
@given(rows, rows, rows, st.lists(campaigns(), max_size=4), st.integers(1, 60))
def test_prices_are_never_negative(special, tier, listing, camps, quantity):
    result = run(special, tier, listing, camps, quantity)
    if result.sellable:
        assert result.unit_net >= 0 and result.unit_gross >= 0 and result.discount >= 0


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(1, 60), min_size=1, max_size=5, unique=True),
    st.decimals(min_value=1, max_value=Decimal("1000"), places=4),
    st.lists(st.decimals(min_value=0, max_value=Decimal("50"), places=4), min_size=5, max_size=5),
)
def test_monotone_in_quantity_when_breaks_are_monotone(quantities, top, steps):
    # a LIST table whose amounts fall as min_quantity rises
    breaks = sorted(quantities)
    amounts, current = [], top
    for step in steps[: len(breaks)]:
        amounts.append(current)
        current = max(current - step, Decimal(0))
    table = list(zip(breaks, amounts, strict=True))
    previous = None
    for quantity in range(1, 70):
        result = run([], [], table, [], quantity)
        if not result.sellable:
            assert previous is None
            continue
        if previous is not None:
            assert result.unit_net <= previous
        previous = result.unit_net
