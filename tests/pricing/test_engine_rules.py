"""Worked examples of every price rule of DESIGN.md, through price_resolve_many on PostgreSQL."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.campaigns.models import Campaign
from apps.catalog.api.serializers import PriceSerializer
from apps.catalog.models import Brand, Product
from apps.catalog.services.categories import category_create
from apps.pricing.engine import price_resolve_many
from apps.pricing.models import Price, PriceList, SpecialPrice
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db]

D = Decimal


@pytest.fixture
def world():
    root = category_create(name="Electrical")
    leaf = category_create(name="Cables", parent=root)
    other = category_create(name="Lighting")
    brand = Brand.objects.create(name="Voltix", slug="voltix")
    product = Product.objects.create(sku="CAB-1", name="Cable", category=leaf, brand=brand)
    lamp = Product.objects.create(sku="LMP-1", name="Lamp", category=other, vat_rate=10)
    dealer = CustomerFactory(tier="B")
    lists = {p.code: p for p in PriceList.objects.all()}
    return {
        "root": root,
        "leaf": leaf,
        "brand": brand,
        "product": product,
        "lamp": lamp,
        "dealer": dealer,
        "lists": lists,
    }


def price(world, code, amount, min_quantity=1, product=None, **kwargs):
    return Price.objects.create(
        price_list=world["lists"][code],
        product=product or world["product"],
        min_quantity=min_quantity,
        amount=D(amount),
        **kwargs,
    )


def special(world, amount, min_quantity=1, **kwargs):
    return SpecialPrice.objects.create(
        customer=world["dealer"],
        product=world["product"],
        min_quantity=min_quantity,
        amount=D(amount),
        **kwargs,
    )


def campaign(**kwargs):
    defaults = {"name": "c", "discount_type": "percentage", "discount_value": D("10")}
    defaults.update(kwargs)
    return Campaign.objects.create(**defaults)


def resolve(world, quantity=1, product=None, at=None):
    return price_resolve_many(
        customer=world["dealer"], items=[(product or world["product"], quantity)], at=at
    )[0]


def test_special_beats_tier_beats_list(world):
    price(world, "LIST", "100")
    assert resolve(world).source == "list"
    price(world, "B", "90")
    assert (resolve(world).source, resolve(world).unit_net) == ("tier:B", D("90.0000"))
    special(world, "80")
    result = resolve(world)
    assert (result.source, result.unit_net, result.list_price) == ("special", D("80"), D("100"))


def test_break_boundaries_use_the_largest_min_quantity_not_above_q(world):
    price(world, "LIST", "100")
    price(world, "LIST", "95", min_quantity=10)
    price(world, "LIST", "90", min_quantity=50)
    assert resolve(world, 9).unit_net == D("100")
    assert resolve(world, 10).unit_net == D("95")
    assert resolve(world, 49).unit_net == D("95")
    assert resolve(world, 50).unit_net == D("90")


def test_a_special_break_above_q_falls_back_to_the_tier(world):
    price(world, "LIST", "100")
    price(world, "B", "92")
    special(world, "70", min_quantity=20)
    assert resolve(world, 19).source == "tier:B"
    assert resolve(world, 20).source == "special"


def test_expired_and_future_prices_do_not_count(world):
    now = timezone.now()
    price(world, "LIST", "100")
    price(world, "B", "50", valid_to=now - timedelta(seconds=1))
    special(world, "40", valid_from=now + timedelta(days=1))
    result = resolve(world)
    assert (result.source, result.unit_net) == ("list", D("100"))
    tomorrow = resolve(world, at=now + timedelta(days=2))
    assert tomorrow.source == "special"


def test_a_dealer_in_a_tier_without_a_tier_price_falls_back_to_list(world):
    price(world, "LIST", "100")
    price(world, "A", "70")  # another tier's price is not ours
    assert resolve(world).source == "list"


def test_no_list_price_means_not_sellable(world):
    result = resolve(world)
    assert result.sellable is False and result.unit_net is None
    price(world, "A", "70")
    assert resolve(world).sellable is False


def test_the_best_campaign_wins_and_ties_go_to_higher_priority(world):
    price(world, "LIST", "100")
    campaign(name="ten", discount_value=D("10"), priority=1)
    best = campaign(name="fixed 15", discount_type="fixed", discount_value=D("15"))
    assert resolve(world).campaign.id == best.id and resolve(world).unit_net == D("85")
    tie = campaign(name="also 15%", discount_value=D("15"), priority=5)
    result = resolve(world)
    assert result.campaign.id == tie.id and result.unit_net == D("85")
    assert result.discount == D("15")


def test_a_fixed_discount_larger_than_the_price_gives_zero_not_negative(world):
    price(world, "LIST", "30")
    campaign(discount_type="fixed", discount_value=D("45"))
    result = resolve(world)
    assert result.unit_net == D("0") and result.unit_gross == D("0")


def test_a_special_price_takes_a_campaign_only_when_the_campaign_says_so(world):
    price(world, "LIST", "100")
    special(world, "80")
    campaign(discount_value=D("50"))
    assert resolve(world).campaign is None and resolve(world).unit_net == D("80")
    flagged = campaign(discount_value=D("25"), applies_to_special_prices=True)
    result = resolve(world)
    assert result.campaign.id == flagged.id and result.unit_net == D("60")


def test_campaign_scope_category_includes_sub_categories(world):
    price(world, "LIST", "100")
    price(world, "LIST", "100", product=world["lamp"])
    made = campaign(scope="categories")
    made.categories.add(world["root"])
    assert resolve(world).campaign is not None
    assert resolve(world, product=world["lamp"]).campaign is None


def test_campaign_scope_by_brand_and_min_quantity(world):
    price(world, "LIST", "100")
    made = campaign(scope="brands", min_quantity=5)
    made.brands.add(world["brand"])
    assert resolve(world, 4).campaign is None
    assert resolve(world, 5).campaign.id == made.id


@pytest.mark.parametrize(
    ("audience", "tiers", "mine", "applies"),
    [
        ("everyone", [], False, True),
        ("tiers", ["A"], False, False),
        ("tiers", ["B", "C"], False, True),
        ("dealers", [], True, True),
        ("dealers", [], False, False),
    ],
)
def test_campaign_audience(world, audience, tiers, mine, applies):
    price(world, "LIST", "100")
    made = campaign(audience=audience, tiers=tiers)
    if mine:
        made.customers.add(world["dealer"])
    assert (resolve(world).campaign is not None) is applies


def test_campaign_window_and_inactive_flag(world):
    now = timezone.now()
    price(world, "LIST", "100")
    campaign(starts_at=now + timedelta(hours=1))
    campaign(ends_at=now - timedelta(hours=1))
    campaign(is_active=False)
    assert resolve(world).campaign is None
    assert resolve(world, at=now + timedelta(hours=2)).campaign is not None


def test_vat_gross_and_api_shape(world):
    price(world, "LIST", "10.0050", product=world["lamp"])
    result = resolve(world, product=world["lamp"])
    # the engine answers values; the API's price object is shaped by its serializer
    assert PriceSerializer(result).data == {
        "currency": "TRY",
        "list": "10.0050",
        "unit_net": "10.0050",
        "discount": "0.0000",
        "source": "list",
        "campaign": None,
        "unit_gross": "11.0055",
    }


def test_a_whole_page_is_priced_in_a_constant_number_of_queries(world):
    leaf = world["leaf"]
    products = [Product.objects.create(sku=f"P{i}", name=f"P{i}", category=leaf) for i in range(60)]
    for p in products:
        price(world, "LIST", "10", product=p)
        price(world, "B", "9", product=p, min_quantity=5)
    made = campaign(scope="categories")
    made.categories.add(world["root"])
    price_resolve_many(customer=world["dealer"], items=[(products[0], 1)])  # warm the cache
    with CaptureQueriesContext(connection) as small:
        price_resolve_many(customer=world["dealer"], items=[(p, 1) for p in products[:5]])
    with CaptureQueriesContext(connection) as large:
        results = price_resolve_many(customer=world["dealer"], items=[(p, 7) for p in products])
    assert len(small.captured_queries) == len(large.captured_queries) <= 3
    assert {r.unit_net for r in results} == {D("8.1000")}


def test_campaign_changes_reach_the_engine_at_once(world):
    price(world, "LIST", "100")
    made = campaign(discount_value=D("10"))
    assert resolve(world).unit_net == D("90")  # now cached
    made.discount_value = D("20")
    made.save()
    assert resolve(world).unit_net == D("80")
    made.delete()
    assert resolve(world).campaign is None
