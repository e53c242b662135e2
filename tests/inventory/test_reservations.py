"""Reserving stock for orders, releasing it and turning it into a sale."""

from __future__ import annotations

import pytest

from apps.core.exceptions import Conflict, ValidationError
from apps.inventory.models import SerialNumber, StockMovement
from apps.inventory.queries import stock_held_for_reference
from apps.inventory.services import (
    Allocation,
    stock_commit_sale,
    stock_receive,
    stock_release,
    stock_reserve,
)
from tests.factories import StaffUserFactory
from tests.inventory.factories import ProductFactory, WarehouseFactory
from tests.inventory.helpers import assert_ledger_consistent, level, stocked

pytestmark = pytest.mark.django_db

REF = "order:SO-2026-000001"


def movements(kind=None, reference=REF):
    qs = StockMovement.objects.filter(reference=reference)
    return qs.filter(kind=kind) if kind else qs


def test_reserve_draws_from_warehouses_in_sort_order_and_splits_a_line():
    product, wh = stocked({"IST": 5, "ANK": 10})
    actor = StaffUserFactory()

    allocations = stock_reserve(lines=[(product.pk, 8)], reference=REF, actor=actor)

    assert allocations == [
        Allocation(product.pk, wh["IST"].pk, 5),
        Allocation(product.pk, wh["ANK"].pk, 3),
    ]
    assert (level(product, wh["IST"]).reserved, level(product, wh["ANK"]).reserved) == (5, 3)
    reservation = movements(StockMovement.Kind.RESERVATION).get(warehouse=wh["ANK"])
    assert (reservation.quantity, reservation.reserved_before, reservation.reserved_after) == (
        3,
        0,
        3,
    )
    assert (reservation.on_hand_before, reservation.on_hand_after) == (10, 10)
    assert reservation.actor == actor
    for warehouse in wh.values():
        assert_ledger_consistent(level(product, warehouse))


def test_reserve_prefers_the_lower_sort_order_then_the_code():
    product = ProductFactory()
    later = WarehouseFactory(code="AAA", sort_order=5)
    first = WarehouseFactory(code="ZZZ", sort_order=1)
    tie = WarehouseFactory(code="BBB", sort_order=5)
    for warehouse in (later, first, tie):
        stock_receive(product=product, warehouse=warehouse, quantity=2)

    allocations = stock_reserve(lines=[(product.pk, 5)], reference=REF)

    assert [(a.warehouse_id, a.quantity) for a in allocations] == [
        (first.pk, 2),
        (later.pk, 2),
        (tie.pk, 1),
    ]


def test_reserve_skips_inactive_warehouses():
    product, wh = stocked({"IST": 5, "OLD": 50})
    wh["OLD"].is_active = False
    wh["OLD"].save()

    with pytest.raises(Conflict) as caught:
        stock_reserve(lines=[(product.pk, 6)], reference=REF)

    assert caught.value.extra["lines"][0]["available"] == 5
    assert level(product, wh["OLD"]).reserved == 0


def test_one_short_line_reserves_nothing_and_names_every_short_line():
    enough, _ = stocked({"IST": 10})
    short_a, _ = stocked({"IST": 2}, sku="SHORT-A")
    short_b = ProductFactory(sku="SHORT-B")  # no stock level at all

    with pytest.raises(Conflict) as caught:
        stock_reserve(lines=[(enough.pk, 3), (short_a.pk, 5), (short_b.pk, 1)], reference=REF)

    assert caught.value.code == "insufficient_stock"
    assert caught.value.status_code == 409
    assert caught.value.extra["lines"] == [
        {"sku": "SHORT-A", "requested": 5, "available": 2},
        {"sku": "SHORT-B", "requested": 1, "available": 0},
    ]
    assert not movements().exists()
    assert stock_held_for_reference(reference=REF) == {}
    assert enough.stock_levels.get().reserved == 0


def test_the_same_product_twice_is_reserved_once_for_the_sum():
    product, wh = stocked({"IST": 5})

    with pytest.raises(Conflict) as caught:
        stock_reserve(lines=[(product.pk, 3), (product.pk, 3)], reference=REF)
    assert caught.value.extra["lines"][0]["requested"] == 6

    assert stock_reserve(lines=[(product.pk, 2), (product.pk, 3)], reference=REF) == [
        Allocation(product.pk, wh["IST"].pk, 5)
    ]
    assert movements(StockMovement.Kind.RESERVATION).count() == 1


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([], "lines"),
        ([(1, 0)], "lines.0.quantity"),
        ([(1, -2)], "lines.0.quantity"),
        ([(1, 1.5)], "lines.0.quantity"),
        ([("x", 1)], "lines.0.product_id"),
        ([(1,)], "lines.0"),
    ],
)
def test_reserve_refuses_bad_lines_with_a_field_error(lines, field):
    with pytest.raises(ValidationError) as caught:
        stock_reserve(lines=lines, reference=REF)
    assert field in caught.value.errors


def test_reserve_refuses_an_unknown_product_and_a_missing_reference():
    product, _ = stocked({"IST": 5})
    with pytest.raises(ValidationError) as caught:
        stock_reserve(lines=[(product.pk + 999, 1)], reference=REF)
    assert "lines" in caught.value.errors
    with pytest.raises(ValidationError) as caught:
        stock_reserve(lines=[(product.pk, 1)], reference="  ")
    assert "reference" in caught.value.errors
    assert not StockMovement.objects.exclude(reference="setup").exists()


def test_reserving_a_serial_tracked_product_picks_no_serials():
    product, wh = stocked({"IST": 0}, serial_tracked=True)
    stock_receive(product=product, warehouse=wh["IST"], quantity=2, serials=["A1", "A2"])

    stock_reserve(lines=[(product.pk, 1)], reference=REF)

    assert set(SerialNumber.objects.values_list("status", flat=True)) == {"in_stock"}
    assert level(product, wh["IST"]).reserved == 1


def test_release_gives_back_what_the_reference_holds_and_is_idempotent():
    product, wh = stocked({"IST": 5, "ANK": 5})
    other, _ = stocked({"IST": 4}, product=ProductFactory())
    stock_reserve(lines=[(product.pk, 7), (other.pk, 2)], reference=REF)
    stock_reserve(lines=[(product.pk, 1)], reference="order:SO-OTHER")

    released = stock_release(reference=REF)

    assert sorted((a.product_id, a.warehouse_id, a.quantity) for a in released) == sorted(
        [
            (product.pk, wh["IST"].pk, 5),
            (product.pk, wh["ANK"].pk, 2),
            (other.pk, wh["IST"].pk, 2),
        ]
    )
    assert level(product, wh["ANK"]).reserved == 1  # the other order keeps its unit
    assert level(product, wh["IST"]).reserved == 0
    assert movements(StockMovement.Kind.RELEASE).count() == 3
    assert stock_held_for_reference(reference=REF) == {}

    assert stock_release(reference=REF) == []
    assert movements(StockMovement.Kind.RELEASE).count() == 3
    for warehouse in wh.values():
        assert_ledger_consistent(level(product, warehouse))


def test_partial_release_gives_back_from_the_last_warehouse_first():
    product, wh = stocked({"IST": 5, "ANK": 5})
    stock_reserve(lines=[(product.pk, 7)], reference=REF)

    released = stock_release(reference=REF, lines=[(product.pk, 3)])

    assert released == [
        Allocation(product.pk, wh["IST"].pk, 1),
        Allocation(product.pk, wh["ANK"].pk, 2),
    ]
    assert stock_held_for_reference(reference=REF) == {(product.pk, wh["IST"].pk): 4}


def test_release_of_an_unknown_reference_changes_nothing():
    assert stock_release(reference="order:NOPE") == []
    assert not StockMovement.objects.exists()


def test_commit_sale_lowers_on_hand_and_reserved_and_is_idempotent():
    product, wh = stocked({"IST": 5, "ANK": 5})
    stock_reserve(lines=[(product.pk, 7)], reference=REF)

    sold = stock_commit_sale(reference=REF)

    assert sorted(a.quantity for a in sold) == [2, 5]
    ist, ank = level(product, wh["IST"]), level(product, wh["ANK"])
    assert (ist.on_hand, ist.reserved, ank.on_hand, ank.reserved) == (0, 0, 3, 0)
    sale = movements(StockMovement.Kind.SALE).get(warehouse=wh["ANK"])
    assert (sale.quantity, sale.on_hand_before, sale.on_hand_after) == (-2, 5, 3)
    assert (sale.reserved_before, sale.reserved_after) == (2, 0)

    assert stock_commit_sale(reference=REF) == []
    assert stock_release(reference=REF) == []  # nothing left to release after the sale
    assert movements(StockMovement.Kind.SALE).count() == 2
    assert_ledger_consistent(ist)
    assert_ledger_consistent(ank)


def test_commit_sale_marks_the_named_serials_sold():
    product, wh = stocked({"IST": 0}, serial_tracked=True)
    stock_receive(product=product, warehouse=wh["IST"], quantity=3, serials=["S1", "S2", "S3"])
    stock_reserve(lines=[(product.pk, 2)], reference=REF)

    stock_commit_sale(reference=REF, serials={product.pk: ["S1", "S3"]})

    statuses = dict(SerialNumber.objects.values_list("serial", "status"))
    assert statuses == {"S1": "sold", "S2": "in_stock", "S3": "sold"}
    assert SerialNumber.objects.get(serial="S1").reference == REF
    assert level(product, wh["IST"]).on_hand == 1


@pytest.mark.parametrize(
    "serials",
    [
        None,  # none named
        ["S1"],  # too few
        ["S1", "S1"],  # the same twice
        ["S1", "NOPE"],  # unknown
        ["S1", "SOLD"],  # already sold
        ["S1", "OTHER-PRODUCT"],  # belongs to another product
    ],
)
def test_commit_sale_refuses_wrong_serials_and_changes_nothing(serials):
    product, wh = stocked({"IST": 0}, serial_tracked=True)
    stock_receive(product=product, warehouse=wh["IST"], quantity=3, serials=["S1", "S2", "SOLD"])
    stranger = ProductFactory(serial_tracked=True)
    stock_receive(product=stranger, warehouse=wh["IST"], quantity=1, serials=["OTHER-PRODUCT"])
    stock_reserve(lines=[(product.pk, 1)], reference="order:EARLIER")
    stock_commit_sale(reference="order:EARLIER", serials={product.pk: ["SOLD"]})
    stock_reserve(lines=[(product.pk, 2)], reference=REF)

    with pytest.raises(ValidationError) as caught:
        stock_commit_sale(reference=REF, serials=None if serials is None else {product.pk: serials})

    assert f"serials.{product.pk}" in caught.value.errors
    assert not movements(StockMovement.Kind.SALE).exists()
    assert level(product, wh["IST"]).reserved == 2
    assert SerialNumber.objects.get(serial="S1").status == "in_stock"


def test_commit_sale_refuses_serials_for_a_product_without_tracking():
    product, _ = stocked({"IST": 3})
    stock_reserve(lines=[(product.pk, 1)], reference=REF)
    with pytest.raises(ValidationError):
        stock_commit_sale(reference=REF, serials={product.pk: ["X"]})
    assert not movements(StockMovement.Kind.SALE).exists()


def test_reserving_many_lines_takes_as_many_queries_as_one(django_assert_max_num_queries):
    warehouses = {"IST": 3, "ANK": 3}
    one, _ = stocked(warehouses)
    many = [stocked(warehouses, product=ProductFactory())[0] for _ in range(5)]
    # products, locked levels, warehouses, one UPDATE, one INSERT, the savepoint pair, and the
    # stock.changed event (its stock read and its outbox row)
    with django_assert_max_num_queries(9):
        stock_reserve(lines=[(one.pk, 4)], reference="order:one")
    with django_assert_max_num_queries(9):
        stock_reserve(lines=[(p.pk, 4) for p in many], reference="order:many")
    assert StockMovement.objects.filter(reference="order:many").count() == 10


@pytest.mark.parametrize("serials", [["S1"], {"x": ["S1"]}, {"PID": "S1"}])
def test_commit_sale_refuses_serials_in_the_wrong_shape(serials):
    product, wh = stocked({"IST": 0}, serial_tracked=True)
    stock_receive(product=product, warehouse=wh["IST"], quantity=1, serials=["S1"])
    stock_reserve(lines=[(product.pk, 1)], reference=REF)
    if isinstance(serials, dict) and "PID" in serials:
        serials = {str(product.pk): "S1"}
    with pytest.raises(ValidationError):
        stock_commit_sale(reference=REF, serials=serials)
    # keys as strings (from JSON) are fine
    stock_commit_sale(reference=REF, serials={str(product.pk): ["S1"]})
    assert SerialNumber.objects.get(serial="S1").status == "sold"
