"""The price write services (history on every change, validation) and price_explain."""

from __future__ import annotations

import datetime
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from apps.campaigns.models import Campaign
from apps.catalog.models import Brand, Product
from apps.catalog.services.categories import category_create
from apps.core.exceptions import ValidationError
from apps.pricing.engine import price_resolve_many
from apps.pricing.models import Price, PriceChange, PriceList, SpecialPrice
from apps.pricing.selectors import price_explain
from apps.pricing.services import (
    price_delete,
    price_set,
    price_update,
    price_upsert,
    special_price_delete,
    special_price_set,
)
from tests.factories import CustomerFactory, StaffUserFactory

pytestmark = [pytest.mark.django_db]

D = Decimal


@pytest.fixture
def world():
    cables = category_create(name="Cables")
    lighting = category_create(name="Lighting")
    brand = Brand.objects.create(name="Voltix", slug="voltix")
    product = Product.objects.create(sku="CAB-1", name="Cable", category=cables, brand=brand)
    lamp = Product.objects.create(sku="LMP-1", name="Lamp", category=lighting)
    return {
        "product": product,
        "lamp": lamp,
        "brand": brand,
        "lighting": lighting,
        "dealer": CustomerFactory(tier="B"),
        "lists": {p.code: p for p in PriceList.objects.all()},
        "staff": StaffUserFactory(),
    }


def set_list(world, code="LIST", amount="100", min_quantity=1, **kwargs):
    return price_set(
        price_list=world["lists"][code],
        product=kwargs.pop("product", world["product"]),
        min_quantity=min_quantity,
        amount=D(amount),
        **kwargs,
    )


# --- writes and history ---------------------------------------------------------------------------


def test_price_set_creates_the_price_and_a_history_row_with_who_and_source(world):
    price = set_list(world, amount="100.5", by=world["staff"], source="erp", reference="b-1")

    assert price.amount == D("100.5000")
    change = PriceChange.objects.get()
    assert (change.old_amount, change.new_amount) == (None, D("100.5000"))
    assert change.price_list == world["lists"]["LIST"] and change.customer is None
    assert (change.changed_by, change.source, change.reference) == (world["staff"], "erp", "b-1")
    assert change.min_quantity == 1 and change.product == world["product"]


def test_price_set_with_the_same_values_writes_no_history(world):
    first = set_list(world, amount="100")
    again, outcome = price_upsert(
        price_list=world["lists"]["LIST"], product=world["product"], min_quantity=1, amount="100"
    )

    assert again.pk == first.pk and outcome == "unchanged"
    assert PriceChange.objects.count() == 1


def test_price_set_on_an_existing_break_updates_it_and_keeps_old_and_new(world):
    set_list(world, amount="100")
    _price, outcome = price_upsert(
        price_list=world["lists"]["LIST"], product=world["product"], min_quantity=1, amount="90"
    )

    assert outcome == "updated" and Price.objects.get().amount == D("90.0000")
    latest = PriceChange.objects.first()
    assert (latest.old_amount, latest.new_amount) == (D("100.0000"), D("90.0000"))
    assert PriceChange.objects.count() == 2


def test_a_change_of_validity_alone_is_a_change_too(world):
    set_list(world, amount="100")
    set_list(world, amount="100", valid_to=timezone.now() + timedelta(days=3))

    assert PriceChange.objects.count() == 2
    assert PriceChange.objects.first().old_amount == PriceChange.objects.first().new_amount


def test_quantity_breaks_are_separate_rows(world):
    set_list(world, amount="100", min_quantity=1)
    set_list(world, amount="95", min_quantity=10)

    assert Price.objects.count() == 2 and PriceChange.objects.count() == 2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"amount": "-1"}, "amount"),
        ({"amount": "1.00001"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"min_quantity": 0}, "min_quantity"),
        ({"min_quantity": "x"}, "min_quantity"),
        ({"source": "fax"}, "source"),
        # before year 1 in UTC, after 9999 in UTC: the audit log failed with a 500
        ({"valid_from": datetime.datetime(1, 1, 1)}, "valid_from"),
        ({"valid_to": datetime.datetime(9999, 12, 31, 23, 30)}, "valid_to"),
    ],
)
def test_invalid_input_is_a_field_error_and_writes_nothing(world, kwargs, field):
    values = {"amount": "10", "min_quantity": 1, **kwargs}
    with pytest.raises(ValidationError) as caught:
        price_set(price_list=world["lists"]["LIST"], product=world["product"], **values)

    assert field in caught.value.errors
    assert not Price.objects.exists() and not PriceChange.objects.exists()


def test_validity_must_end_after_it_starts(world):
    start = timezone.now()
    with pytest.raises(ValidationError) as caught:
        set_list(world, valid_from=start, valid_to=start)

    assert "valid_to" in caught.value.errors
    assert not Price.objects.exists()


def test_more_than_four_decimals_that_are_zeros_are_fine(world):
    assert set_list(world, amount="12.500000").amount == D("12.5000")


def test_price_delete_writes_history_with_no_new_amount(world):
    price = set_list(world, amount="100")
    price_delete(price=price, by=world["staff"])

    assert not Price.objects.exists()
    change = PriceChange.objects.first()
    assert (change.old_amount, change.new_amount, change.changed_by) == (
        D("100.0000"),
        None,
        world["staff"],
    )


def test_deleting_a_price_twice_records_it_once(world):
    price = set_list(world, amount="100")
    price_delete(price=price)
    price_delete(price=price)

    assert PriceChange.objects.filter(new_amount__isnull=True).count() == 1


def test_moving_a_break_deletes_the_old_one_and_sets_the_new_one(world):
    price = set_list(world, amount="100", min_quantity=1)
    moved = price_update(price=price, product=world["product"], min_quantity=5, amount="80")

    assert list(Price.objects.values_list("min_quantity", "amount")) == [(5, D("80.0000"))]
    assert moved.min_quantity == 5
    history = list(PriceChange.objects.order_by("id").values_list("min_quantity", "new_amount"))
    assert history == [(1, D("100.0000")), (1, None), (5, D("80.0000"))]


def test_special_price_set_and_delete_keep_the_customer_in_the_history(world):
    special = special_price_set(
        customer=world["dealer"], product=world["product"], min_quantity=1, amount="70"
    )
    special_price_set(
        customer=world["dealer"], product=world["product"], min_quantity=1, amount="70"
    )
    special_price_delete(special_price=special)

    assert not SpecialPrice.objects.exists()
    history = list(
        PriceChange.objects.order_by("id").values_list("customer", "old_amount", "new_amount")
    )
    pk = world["dealer"].pk
    assert history == [(pk, None, D("70.0000")), (pk, D("70.0000"), None)]
    assert not PriceChange.objects.filter(price_list__isnull=False).exists()


# --- price_explain --------------------------------------------------------------------------------


def campaign(**kwargs):
    defaults = {"name": "Spring", "discount_type": "percentage", "discount_value": D("10")}
    return Campaign.objects.create(**{**defaults, **kwargs})


def explain(world, quantity=1, product=None, **kwargs):
    return price_explain(
        customer=world["dealer"], product=product or world["product"], quantity=quantity, **kwargs
    )


def level(result, source):
    return next(lv for lv in result["levels"] if lv["source"] == source)


def test_explain_gives_the_engines_price(world):
    set_list(world, "LIST", "100")
    set_list(world, "B", "90")
    campaign(discount_value=D("10"))

    result = explain(world, quantity=3)
    engine = price_resolve_many(customer=world["dealer"], items=[(world["product"], 3)])[0]

    assert result["unit_net"] == engine.unit_net == D("81.0000")
    assert result["source"] == "tier:B" and result["campaign"]["name"] == "Spring"
    assert level(result, "tier:B")["status"] == "taken"
    assert level(result, "list")["status"] == "not_needed"
    assert level(result, "special")["status"] == "no_rows"
    assert result["campaigns"][0]["status"] == "applied"
    assert "81.00 ₺" in result["summary"] and "Spring" in result["summary"]
    with translation.override("tr"):  # amounts as the reader writes them
        assert "net 81,00 ₺ (KDV dahil 97,20 ₺)" in explain(world, quantity=3)["summary"]


def test_explain_special_price_without_the_flag_skips_the_campaign(world):
    set_list(world, "LIST", "100")
    special_price_set(customer=world["dealer"], product=world["product"], min_quantity=1, amount=60)
    campaign(applies_to_special_prices=False)

    result = explain(world)

    assert (result["source"], result["unit_net"], result["campaign"]) == (
        "special",
        D("60.0000"),
        None,
    )
    (considered,) = result["campaigns"]
    assert considered["status"] == "excluded"
    assert [r["code"] for r in considered["reasons"]] == ["special_price"]


def test_explain_special_price_with_the_flag_takes_the_campaign(world):
    special_price_set(customer=world["dealer"], product=world["product"], min_quantity=1, amount=60)
    campaign(applies_to_special_prices=True)

    result = explain(world)

    assert result["unit_net"] == D("54.0000") and result["campaigns"][0]["status"] == "applied"


def test_explain_tier_list_without_a_row_falls_back_to_list(world):
    set_list(world, "LIST", "100")
    set_list(world, "A", "80")  # another tier's list: not the dealer's

    result = explain(world)

    assert (result["source"], result["unit_net"]) == ("list", D("100.0000"))
    assert level(result, "tier:B")["status"] == "no_rows"
    assert level(result, "list")["status"] == "taken"


def test_explain_not_sellable_without_any_base_price(world):
    set_list(world, "LIST", "100", min_quantity=10)
    campaign()

    result = explain(world, quantity=2)

    assert result["sellable"] is False and result["unit_net"] is None
    assert level(result, "list")["status"] == "no_break"
    assert level(result, "list")["rows"][0]["status"] == "above"
    assert "not sellable" in result["summary"]
    assert result["campaigns"][0]["reasons"][0]["code"] == "not_sellable"


def test_explain_names_the_break_taken_and_the_others(world):
    now = timezone.now()
    set_list(world, "LIST", "100", min_quantity=1)
    set_list(world, "LIST", "90", min_quantity=10)
    set_list(world, "LIST", "80", min_quantity=50)
    expired = {"valid_from": now - timedelta(days=9), "valid_to": now - timedelta(days=1)}
    set_list(world, "LIST", "70", min_quantity=5, **expired)

    result = explain(world, quantity=20)

    rows = {row["min_quantity"]: row["status"] for row in level(result, "list")["rows"]}
    assert rows == {1: "below", 5: "not_valid", 10: "taken", 50: "above"}
    assert result["unit_net"] == D("90.0000")


def test_explain_says_why_each_campaign_was_left_out(world):
    now = timezone.now()
    set_list(world, "LIST", "100")
    campaign(name="Best", discount_value=D("20"))
    campaign(name="Weaker", discount_value=D("5"))
    campaign(name="Zero", discount_value=D("0"))
    campaign(name="Later", starts_at=now + timedelta(days=1))
    campaign(name="Tier A only", audience="tiers", tiers=["A"])
    campaign(name="Bulk", min_quantity=100)
    lamps = campaign(name="Lamps", scope="brands")
    lamps.brands.add(Brand.objects.create(name="Lumen", slug="lumen"))
    campaign(name="Paused", is_active=False)

    result = explain(world)

    by_name = {c["name"]: c for c in result["campaigns"]}
    assert by_name["Best"]["status"] == "applied" and result["unit_net"] == D("80.0000")
    assert by_name["Weaker"]["status"] == "not_lowest"
    assert by_name["Weaker"]["unit"] == D("95.0000")
    assert by_name["Zero"]["status"] == "no_discount"
    codes = {name: [r["code"] for r in c["reasons"]] for name, c in by_name.items()}
    assert codes["Later"] == ["not_live"]
    assert codes["Tier A only"] == ["audience"]
    assert codes["Bulk"] == ["min_quantity"]
    assert codes["Lamps"] == ["scope"]
    assert codes["Paused"] == ["switched_off"]
    assert result["campaigns"][0]["name"] == "Best"  # the applied one first


def test_explain_refuses_a_quantity_below_one(world):
    with pytest.raises(ValidationError) as caught:
        explain(world, quantity=0)
    assert "quantity" in caught.value.errors


def test_a_price_write_emits_price_changed(world):
    from apps.core.models import OutboxEvent

    set_list(world, amount="100")
    event = OutboxEvent.objects.get(type="price.changed")
    item = event.data["prices"][0]
    assert (item["sku"], item["price_list"], item["amount"], item["deleted"]) == (
        world["product"].sku,
        "LIST",
        "100.0000",
        False,
    )
    assert event.data["source"] == "admin"
