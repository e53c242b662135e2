"""Staff adjustments, goods received and returns."""

from __future__ import annotations

import pytest

from apps.core.exceptions import ValidationError
from apps.inventory.models import SerialNumber, StockMovement
from apps.inventory.services import (
    stock_adjust,
    stock_commit_sale,
    stock_receive,
    stock_reserve,
    stock_return,
)
from tests.factories import StaffUserFactory
from tests.inventory.factories import ProductFactory, WarehouseFactory
from tests.inventory.helpers import assert_ledger_consistent, level, stocked

pytestmark = pytest.mark.django_db


def test_adjust_sets_on_hand_and_writes_an_adjustment_with_the_reason():
    product, wh = stocked({"IST": 10})
    actor = StaffUserFactory()

    movement = stock_adjust(
        product=product, warehouse=wh["IST"], new_on_hand=7, reason="Counted", actor=actor
    )

    assert (movement.kind, movement.quantity, movement.reason) == ("adjustment", -3, "Counted")
    assert (movement.on_hand_before, movement.on_hand_after, movement.actor) == (10, 7, actor)
    assert level(product, wh["IST"]).on_hand == 7
    assert_ledger_consistent(level(product, wh["IST"]))


def test_adjust_by_delta_and_on_a_warehouse_without_a_level_yet():
    product = ProductFactory()
    warehouse = WarehouseFactory()

    stock_adjust(product=product, warehouse=warehouse, delta=4, reason="Found in the back")
    stock_adjust(product=product.pk, warehouse=warehouse.pk, delta=-1, reason="Broken")

    assert level(product, warehouse).on_hand == 3
    assert_ledger_consistent(level(product, warehouse))


def test_adjust_refuses_to_go_below_zero():
    product, wh = stocked({"IST": 2})
    with pytest.raises(ValidationError) as caught:
        stock_adjust(product=product, warehouse=wh["IST"], delta=-3, reason="Lost")
    assert "delta" in caught.value.errors
    with pytest.raises(ValidationError) as caught:
        stock_adjust(product=product, warehouse=wh["IST"], new_on_hand=-1, reason="Lost")
    assert "new_on_hand" in caught.value.errors
    assert level(product, wh["IST"]).on_hand == 2
    assert not StockMovement.objects.filter(kind="adjustment").exists()


def test_adjust_refuses_to_go_below_what_is_reserved():
    product, wh = stocked({"IST": 10})
    stock_reserve(lines=[(product.pk, 6)], reference="order:1")

    with pytest.raises(ValidationError) as caught:
        stock_adjust(product=product, warehouse=wh["IST"], new_on_hand=5, reason="Counted")

    assert "6" in caught.value.errors["new_on_hand"][0]
    assert level(product, wh["IST"]).on_hand == 10
    assert stock_adjust(product=product, warehouse=wh["IST"], new_on_hand=6, reason="Counted")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"new_on_hand": 5, "reason": "  "}, "reason"),
        ({"new_on_hand": 5, "delta": 1, "reason": "x"}, "new_on_hand"),
        ({"reason": "x"}, "new_on_hand"),
        ({"delta": "3", "reason": "x"}, "delta"),
        ({"new_on_hand": 5, "reason": "x", "kind": "sale"}, "kind"),
    ],
)
def test_adjust_refuses_bad_input(kwargs, field):
    product, wh = stocked({"IST": 2})
    with pytest.raises(ValidationError) as caught:
        stock_adjust(product=product, warehouse=wh["IST"], **kwargs)
    assert field in caught.value.errors


def test_adjust_to_the_same_quantity_records_nothing():
    product, wh = stocked({"IST": 2})
    assert stock_adjust(product=product, warehouse=wh["IST"], new_on_hand=2, reason="ok") is None
    assert StockMovement.objects.count() == 1  # the receipt


def test_erp_sync_is_an_adjustment_of_its_own_kind():
    product, wh = stocked({"IST": 2})
    movement = stock_adjust(
        product=product,
        warehouse=wh["IST"],
        new_on_hand=20,
        reason="LOGO stock",
        kind=StockMovement.Kind.ERP_SYNC,
        reference="batch:17",
    )
    assert (movement.kind, movement.quantity, movement.reference) == ("erp_sync", 18, "batch:17")


def test_receive_adds_on_hand_and_records_serials():
    product = ProductFactory(serial_tracked=True)
    warehouse = WarehouseFactory()

    movement = stock_receive(
        product=product, warehouse=warehouse, quantity=2, reference="po:9", serials=["A", "B"]
    )

    assert (movement.kind, movement.quantity, movement.on_hand_after) == ("receipt", 2, 2)
    assert set(SerialNumber.objects.values_list("serial", "status", "warehouse")) == {
        ("A", "in_stock", warehouse.pk),
        ("B", "in_stock", warehouse.pk),
    }
    with pytest.raises(ValidationError):  # already in stock
        stock_receive(product=product, warehouse=warehouse, quantity=1, serials=["A"])
    with pytest.raises(ValidationError):  # count does not match
        stock_receive(product=product, warehouse=warehouse, quantity=2, serials=["C"])
    with pytest.raises(ValidationError):
        stock_receive(product=product, warehouse=warehouse, quantity=0)
    assert level(product, warehouse).on_hand == 2


def test_receive_of_a_serial_tracked_product_names_a_serial_number_per_unit():
    product = ProductFactory(serial_tracked=True)
    warehouse = WarehouseFactory()

    with pytest.raises(ValidationError) as caught:
        stock_receive(product=product, warehouse=warehouse, quantity=2)

    assert caught.value.errors == {"serials": ["Name the serial number of each unit."]}
    assert not StockMovement.objects.exists()


def _serials(product) -> dict[str, tuple[str, int | None]]:
    return {
        row.serial: (row.status, row.warehouse_id)
        for row in SerialNumber.objects.filter(product=product)
    }


def test_adjusting_a_serial_tracked_product_names_the_serials_that_come_and_go():
    """Its units are its serial numbers: a count up names the new ones (in stock here), a
    count down the ones that leave this warehouse (written off), as the ERP's stock feed."""
    product = ProductFactory(serial_tracked=True)
    ist, ank = WarehouseFactory(), WarehouseFactory()
    stock_receive(product=product, warehouse=ist, quantity=2, serials=["S1", "S2"])
    stock_receive(product=product, warehouse=ank, quantity=1, serials=["S9"])

    up = stock_adjust(
        product=product, warehouse=ist, delta=1, reason="Found", serials=["S3"], reference="adm"
    )
    down = stock_adjust(
        product=product, warehouse=ist, new_on_hand=1, reason="Broken", serials=["S1", "S3"]
    )

    assert (up.quantity, up.on_hand_after, down.quantity, down.on_hand_after) == (1, 3, -2, 1)
    assert _serials(product) == {
        "S1": ("written_off", ist.pk),
        "S2": ("in_stock", ist.pk),
        "S3": ("written_off", ist.pk),
        "S9": ("in_stock", ank.pk),
    }
    assert_ledger_consistent(level(product, ist))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"delta": 2}, "Name 2 serial numbers, not 0."),
        ({"delta": 2, "serials": ["N1"]}, "Name 2 serial numbers, not 1."),
        ({"delta": 1, "serials": ["S2"]}, "Already in stock: S2."),
        ({"delta": -1, "serials": ["S9"]}, "Not in stock in this warehouse: S9."),
        ({"delta": -1, "serials": ["NOPE"]}, "Not in stock in this warehouse: NOPE."),
        ({"delta": 1, "serials": ["x" * 101]}, f"At most 100 characters: {'x' * 101}."),
    ],
)
def test_adjusting_a_serial_tracked_product_with_wrong_serials_changes_nothing(kwargs, message):
    product = ProductFactory(serial_tracked=True)
    ist, ank = WarehouseFactory(), WarehouseFactory()
    stock_receive(product=product, warehouse=ist, quantity=1, serials=["S2"])
    stock_receive(product=product, warehouse=ank, quantity=1, serials=["S9"])
    before = _serials(product)

    with pytest.raises(ValidationError) as caught:
        stock_adjust(product=product, warehouse=ist, reason="Count", **kwargs)

    assert caught.value.errors == {"serials": [message]}
    assert level(product, ist).on_hand == 1
    assert _serials(product) == before
    assert StockMovement.objects.filter(kind="adjustment").count() == 0


def test_adjusting_a_plain_product_with_serials_is_refused():
    product, wh = stocked({"IST": 2})

    with pytest.raises(ValidationError) as caught:
        stock_adjust(product=product, warehouse=wh["IST"], delta=1, reason="x", serials=["A"])

    assert caught.value.errors == {"serials": ["This product is not serial-tracked."]}
    assert level(product, wh["IST"]).on_hand == 2


def test_return_puts_units_back_and_sold_serials_become_returned():
    product, wh = stocked({"IST": 0}, serial_tracked=True)
    stock_receive(product=product, warehouse=wh["IST"], quantity=2, serials=["R1", "R2"])
    stock_reserve(lines=[(product.pk, 2)], reference="order:1")
    stock_commit_sale(reference="order:1", serials={product.pk: ["R1", "R2"]})
    back = WarehouseFactory(code="RET")

    movement = stock_return(
        product=product, warehouse=back, quantity=1, reference="return:RMA-1", serials=["R2"]
    )

    assert (movement.kind, movement.quantity, movement.reference) == ("return", 1, "return:RMA-1")
    returned = SerialNumber.objects.get(serial="R2")
    assert (returned.status, returned.warehouse, returned.reference) == (
        "returned",
        back,
        "return:RMA-1",
    )
    assert level(product, back).on_hand == 1
    # a returned unit can be sold again
    stock_reserve(lines=[(product.pk, 1)], reference="order:2")
    stock_commit_sale(reference="order:2", serials={product.pk: ["R2"]})
    assert SerialNumber.objects.get(serial="R2").status == "sold"


def test_return_refuses_serials_that_were_not_sold_and_changes_nothing():
    product, wh = stocked({"IST": 0}, serial_tracked=True)
    stock_receive(product=product, warehouse=wh["IST"], quantity=1, serials=["X1"])

    for serials in (["X1"], ["UNKNOWN"], None):
        with pytest.raises(ValidationError) as caught:
            stock_return(
                product=product, warehouse=wh["IST"], quantity=1, reference="r", serials=serials
            )
        assert "serials" in caught.value.errors
    assert level(product, wh["IST"]).on_hand == 1
    assert not StockMovement.objects.filter(kind="return").exists()


def test_return_of_a_plain_product():
    product, wh = stocked({"IST": 1})
    stock_return(product=product, warehouse=wh["IST"], quantity=3, reference="return:RMA-2")
    assert level(product, wh["IST"]).on_hand == 4
    with pytest.raises(ValidationError):
        stock_return(product=product, warehouse=wh["IST"], quantity=1, reference="")
