"""The inventory back office: stock is adjusted only through a form with a reason, the
movement ledger is read-only."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from apps.inventory.models import SerialNumber, StockLevel, StockMovement, Warehouse
from apps.inventory.services import stock_reserve
from tests.inventory.factories import ProductFactory, SerialNumberFactory, WarehouseFactory
from tests.inventory.helpers import assert_ledger_consistent, level, stocked

pytestmark = pytest.mark.django_db


def changelist() -> str:
    return reverse("admin:inventory_stocklevel_changelist")


def adjust_url(stock_level) -> str:
    return reverse("admin:inventory_stocklevel_adjust", args=[stock_level.pk])


def test_stock_level_list_shows_numbers_and_searches_and_filters(staff_client):
    client = staff_client(superuser=True)
    product, wh = stocked({"IST": 12, "ANK": 3}, sku="DRILL-18V")
    stock_reserve(lines=[(product.pk, 5)], reference="order:1")
    other, _ = stocked({"IST": 1}, sku="SAW-200")

    response = client.get(changelist(), {"q": "DRILL"})
    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert {row.product.sku for row in rows} == {"DRILL-18V"}
    assert {(row.warehouse.code, row.on_hand, row.reserved, row.available) for row in rows} == {
        ("IST", 12, 5, 7),
        ("ANK", 3, 0, 3),
    }
    assert b"Adjust stock" in response.content

    response = client.get(changelist(), {"warehouse__id__exact": wh["ANK"].pk})
    assert [row.product.sku for row in response.context["cl"].result_list] == ["DRILL-18V"]
    assert other.stock_levels.exists()


def test_adjust_through_the_admin_writes_a_movement(staff_client):
    client = staff_client(superuser=True)
    product, wh = stocked({"IST": 12})
    stock_level = level(product, wh["IST"])

    assert client.get(adjust_url(stock_level)).status_code == 200
    response = client.post(adjust_url(stock_level), {"new_on_hand": 9, "reason": "Cycle count"})

    assert response.status_code == 302
    stock_level.refresh_from_db()
    assert stock_level.on_hand == 9
    movement = StockMovement.objects.get(kind="adjustment")
    assert (movement.quantity, movement.reason, movement.actor) == (-3, "Cycle count", client.user)
    assert movement.reference == "admin"
    assert_ledger_consistent(stock_level)


def test_adjust_below_reserved_is_refused_with_the_reason_on_the_field(staff_client):
    client = staff_client(superuser=True)
    product, wh = stocked({"IST": 12})
    stock_reserve(lines=[(product.pk, 8)], reference="order:1")
    stock_level = level(product, wh["IST"])

    response = client.post(adjust_url(stock_level), {"new_on_hand": 5, "reason": "Count"})

    assert response.status_code == 200
    assert "new_on_hand" in response.context["form"].errors
    assert not StockMovement.objects.filter(kind="adjustment").exists()
    response = client.post(adjust_url(stock_level), {"new_on_hand": 15, "reason": ""})
    assert "reason" in response.context["form"].errors
    assert level(product, wh["IST"]).on_hand == 12


def test_adjusting_a_serial_tracked_product_in_the_admin_names_its_serials(staff_client):
    """A count of a serial-tracked product names the serial numbers that leave (written off);
    without them the form says how many to name, on the serial numbers field."""
    client = staff_client(superuser=True)
    product = ProductFactory(serial_tracked=True)
    warehouse = WarehouseFactory()
    for name in ("CAM-1", "CAM-2"):
        SerialNumberFactory(product=product, warehouse=warehouse, serial=name)
    StockLevel.objects.create(product=product, warehouse=warehouse, on_hand=2)
    stock_level = level(product, warehouse)

    response = client.post(adjust_url(stock_level), {"delta": -1, "reason": "Broken"})

    assert response.status_code == 200
    assert response.context["form"].errors == {"serials": ["Name 1 serial number, not 0."]}
    assert level(product, warehouse).on_hand == 2

    response = client.post(
        adjust_url(stock_level), {"delta": -1, "serials": "CAM-2\n", "reason": "Broken"}
    )

    assert response.status_code == 302
    assert level(product, warehouse).on_hand == 1
    assert SerialNumber.objects.get(serial="CAM-2").status == "written_off"
    assert SerialNumber.objects.get(serial="CAM-1").status == "in_stock"


def test_add_opens_the_adjust_page_for_a_product_by_sku(staff_client):
    client = staff_client(superuser=True)
    product = ProductFactory(sku="NEW-1")
    warehouse = WarehouseFactory(code="IZM")
    add = reverse("admin:inventory_stocklevel_add")

    response = client.post(
        add, {"sku": "NOPE", "warehouse": warehouse.pk, "new_on_hand": 4, "reason": "x"}
    )
    assert "sku" in response.context["form"].errors
    response = client.post(
        add, {"sku": "NEW-1", "warehouse": warehouse.pk, "new_on_hand": 4, "reason": "Opening"}
    )

    assert response.status_code == 302
    assert level(product, warehouse).on_hand == 4


def test_adjust_action_on_several_rows_asks_first_then_adjusts_each(staff_client):
    client = staff_client(superuser=True)
    product, wh = stocked({"IST": 12, "ANK": 3})
    stock_reserve(lines=[(product.pk, 12)], reference="order:1")  # IST fully reserved
    levels = [level(product, wh["IST"]), level(product, wh["ANK"])]
    picked = {"action": "adjust_selected", ACTION_CHECKBOX_NAME: [lv.pk for lv in levels]}

    response = client.post(changelist(), picked)
    assert response.status_code == 200
    assert b'name="reason"' in response.content
    assert not StockMovement.objects.filter(kind="adjustment").exists()

    response = client.post(
        changelist(), {**picked, "post": "yes", "delta": -2, "reason": "Damaged in transit"}
    )

    assert response.status_code == 302
    # IST cannot drop below its 12 reserved units; ANK can
    assert level(product, wh["IST"]).on_hand == 12
    assert level(product, wh["ANK"]).on_hand == 1
    assert StockMovement.objects.filter(kind="adjustment").count() == 1


def test_the_adjust_action_says_which_rows_already_had_that_quantity(staff_client):
    """A change of 0 (or a count equal to on hand) redirected with no message at all."""
    client = staff_client(superuser=True)
    product, wh = stocked({"IST": 12, "ANK": 3})
    levels = [level(product, wh["IST"]), level(product, wh["ANK"])]
    picked = {"action": "adjust_selected", ACTION_CHECKBOX_NAME: [lv.pk for lv in levels]}

    response = client.post(
        changelist(), {**picked, "post": "yes", "new_on_hand": 3, "reason": "Count"}, follow=True
    )

    shown = [str(m) for m in response.context["messages"]]
    assert shown == [
        "1 stock level adjusted.",
        "1 stock level already had that quantity: nothing recorded.",
    ]
    assert level(product, wh["IST"]).on_hand == 3


def test_stock_levels_cannot_be_edited_directly(staff_client):
    client = staff_client(superuser=True)
    product, wh = stocked({"IST": 12})
    stock_level = level(product, wh["IST"])
    change = reverse("admin:inventory_stocklevel_change", args=[stock_level.pk])

    assert client.get(change).status_code == 200  # a read-only view
    client.post(change, {"on_hand": 999, "reserved": 0})
    delete = reverse("admin:inventory_stocklevel_delete", args=[stock_level.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403

    stock_level.refresh_from_db()
    assert (stock_level.on_hand, stock_level.reserved) == (12, 0)


def test_adjusting_needs_the_adjust_permission(staff_client):
    client = staff_client("Customer Service")  # sees stock, may not adjust it
    product, wh = stocked({"IST": 12})
    stock_level = level(product, wh["IST"])

    assert client.get(changelist()).status_code == 200
    assert client.get(adjust_url(stock_level)).status_code == 403
    assert (
        client.post(adjust_url(stock_level), {"new_on_hand": 1, "reason": "x"}).status_code == 403
    )
    assert client.get(reverse("admin:inventory_stocklevel_add")).status_code == 403
    response = client.post(
        changelist(),
        {
            "action": "adjust_selected",
            ACTION_CHECKBOX_NAME: [stock_level.pk],
            "post": "yes",
            "new_on_hand": 1,
            "reason": "x",
        },
    )
    assert level(product, wh["IST"]).on_hand == 12
    assert response.status_code in (200, 302)


def test_movements_are_read_only(staff_client):
    client = staff_client(superuser=True)
    product, wh = stocked({"IST": 12})
    movement = StockMovement.objects.get()

    assert client.get(reverse("admin:inventory_stockmovement_add")).status_code == 403
    assert client.post(reverse("admin:inventory_stockmovement_add"), {}).status_code == 403
    change = reverse("admin:inventory_stockmovement_change", args=[movement.pk])
    assert client.get(change).status_code == 200  # view only
    client.post(change, {"quantity": 99})
    delete = reverse("admin:inventory_stockmovement_delete", args=[movement.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    movement.refresh_from_db()
    assert movement.quantity == 12

    changelist = reverse("admin:inventory_stockmovement_changelist")
    response = client.get(changelist, {"kind__exact": "receipt", "q": product.sku})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [movement]
    response = client.get(changelist, {"warehouse__id__exact": wh["IST"].pk})
    assert response.status_code == 200


def test_warehouses_are_managed_in_the_admin(staff_client):
    client = staff_client(superuser=True)
    response = client.post(
        reverse("admin:inventory_warehouse_add"),
        {"code": "ANK", "name": "Ankara", "is_active": "on", "sort_order": 20},
    )
    assert response.status_code == 302
    warehouse = Warehouse.objects.get(code="ANK")
    response = client.post(
        reverse("admin:inventory_warehouse_change", args=[warehouse.pk]),
        {"code": "ANK", "name": "Ankara depo", "sort_order": 5},
    )
    assert response.status_code == 302
    warehouse.refresh_from_db()
    assert (warehouse.name, warehouse.is_active, warehouse.sort_order) == ("Ankara depo", False, 5)
    assert client.get(reverse("admin:inventory_warehouse_changelist")).status_code == 200


def test_serial_numbers_list_with_filters(staff_client):
    client = staff_client(superuser=True)
    serial = SerialNumberFactory(serial="SN-42")
    SerialNumberFactory(status="sold")
    changelist = reverse("admin:inventory_serialnumber_changelist")

    response = client.get(changelist, {"status__exact": "in_stock", "q": "SN-42"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [serial]
    assert client.get(reverse("admin:inventory_serialnumber_add")).status_code == 403
    assert StockLevel.objects.count() == 0


# --- receiving serial numbers -----------------------------------------------------------------


def receive_url() -> str:
    return reverse("admin:inventory_serialnumber_receive")


def test_receiving_serial_numbers_adds_on_hand_with_a_receipt_by_the_staff_member(staff_client):
    client = staff_client(superuser=True)
    product, wh = stocked({"IST": 0}, sku="CAM-1", serial_tracked=True)
    changelist = reverse("admin:inventory_serialnumber_changelist")
    assert receive_url().encode() in client.get(changelist).content  # the button
    assert client.get(receive_url()).status_code == 200

    response = client.post(
        receive_url(),
        {
            "sku": "CAM-1",
            "warehouse": wh["IST"].pk,
            "serials": "SN-1\r\n  SN-2 \r\n\r\nSN-3\r\n",
            "reference": "IRS-2026-77",
            "reason": "Delivery from the supplier",
        },
    )

    assert response.status_code == 302
    assert level(product, wh["IST"]).on_hand == 3
    movement = StockMovement.objects.get()
    assert (movement.kind, movement.quantity, movement.actor) == ("receipt", 3, client.user)
    assert (movement.reference, movement.reason) == ("IRS-2026-77", "Delivery from the supplier")
    rows = SerialNumber.objects.order_by("serial")
    assert [(r.serial, r.status, r.warehouse_id) for r in rows] == [
        (name, "in_stock", wh["IST"].pk) for name in ("SN-1", "SN-2", "SN-3")
    ]
    assert_ledger_consistent(level(product, wh["IST"]))


@pytest.mark.parametrize(
    ("serials", "sku", "field"),
    [
        ("SN-1\nNEW-1", "CAM-1", "serials"),  # SN-1 is in stock (in another warehouse)
        ("RET-1", "CAM-1", "serials"),  # back from a dealer: in stock again
        ("NEW-1\nNEW-1", "CAM-1", "serials"),  # named twice
        ("\n \n", "CAM-1", "serials"),  # none
        ("NEW-1", "PLAIN-1", "sku"),  # not serial-tracked
        ("NEW-1", "NOPE", "sku"),
        ("SN–001", "CAM-1", "serials"),  # an en dash for "-"
        ("SN\u200b002", "CAM-1", "serials"),  # invisible
        ("SN-00١", "CAM-1", "serials"),  # an Arabic-Indic digit
        ("ЅN-004", "CAM-1", "serials"),  # a Cyrillic Ѕ
    ],
)
def test_receiving_duplicate_or_wrong_serials_is_a_form_error_and_changes_nothing(
    staff_client, serials, sku, field
):
    client = staff_client(superuser=True)
    product, wh = stocked({"IST": 0, "ANK": 0}, sku="CAM-1", serial_tracked=True)
    ProductFactory(sku="PLAIN-1")
    SerialNumberFactory(product=product, warehouse=wh["ANK"], serial="SN-1")
    SerialNumberFactory(product=product, warehouse=wh["ANK"], serial="RET-1", status="returned")
    before = list(SerialNumber.objects.order_by("id").values())

    response = client.post(
        receive_url(),
        {"sku": sku, "warehouse": wh["IST"].pk, "serials": serials, "reason": "Delivery"},
    )

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert list(SerialNumber.objects.order_by("id").values()) == before
    assert not StockMovement.objects.exists()
    assert not StockLevel.objects.filter(on_hand__gt=0).exists()


def test_receiving_serial_numbers_needs_the_adjust_permission(staff_client):
    client = staff_client("Customer Service")  # may not change stock
    _product, wh = stocked({"IST": 0}, sku="CAM-1", serial_tracked=True)

    assert client.get(receive_url()).status_code == 403
    data = {"sku": "CAM-1", "warehouse": wh["IST"].pk, "serials": "SN-1", "reason": "x"}
    assert client.post(receive_url(), data).status_code == 403
    assert not SerialNumber.objects.exists() and not StockMovement.objects.exists()
