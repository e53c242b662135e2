"""Rule: serial-tracked products ship by serial number and come back naming the serial numbers
that shipped on the line (DESIGN.md, Orders and Returns). So the ERP cannot switch a product's
serial tracking while units of it are on hand or reserved, or sold units can still be returned:
the reservation could not ship, the return could not be judged. The record fails with a
field-level reason; the rest of the batch is applied."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.catalog.models import Product
from apps.inventory.models import StockLevel
from apps.orders.models import Order
from tests.returns.conftest import ask, line

pytestmark = [pytest.mark.django_db]

URL = "/api/integration/v1/products"


def erp_record(product: Product, **overrides) -> dict:
    return {
        "sku": product.sku,
        "name": product.name,
        "category": "Elektrik > Kameralar",
        "unit": "piece",
        "vat_rate": product.vat_rate,
        **overrides,
    }


def send(client, *records) -> dict:
    response = client.post(URL, list(records), format="json")
    assert response.status_code == 200, response.content
    return response.json()


def refused(body) -> dict:
    return {error["key"]: error["errors"] for error in body["errors"]}


def no_stock(*products) -> None:
    StockLevel.objects.filter(product__in=products).update(on_hand=0, reserved=0)


def test_the_erp_cannot_switch_serial_tracking_while_units_are_on_hand_or_reserved(
    shop, integration_client
):
    erp = integration_client()
    stocked = shop.products["A-1"]  # 50 on hand
    free = shop.product("FREE-1", stock=None)
    body = send(
        erp, erp_record(stocked, serial_tracked=True), erp_record(free, serial_tracked=True)
    )
    assert (body["updated"], body["failed"]) == (1, 1)
    assert list(refused(body)) == ["A-1"]
    assert "stock on hand or reserved" in refused(body)["A-1"]["serial_tracked"][0]
    assert not Product.objects.get(sku="A-1").serial_tracked
    assert Product.objects.get(sku="FREE-1").serial_tracked

    # a reservation alone holds it too: the order placed before must still ship
    from tests.orders.conftest import place

    assert place(shop.owner, items=[("A-1", 5)]).status_code == 201
    StockLevel.objects.filter(product=stocked).update(on_hand=5)  # all 5 reserved
    body = send(erp, erp_record(stocked, serial_tracked=True))
    assert body["failed"] == 1


def test_sold_units_that_can_still_be_returned_hold_serial_tracking(
    shop, order, integration_client
):
    erp = integration_client()
    cable, camera = shop.products["A-1"], shop.products["CAM"]
    no_stock(cable, camera)
    body = send(
        erp, erp_record(cable, serial_tracked=True), erp_record(camera, serial_tracked=False)
    )
    assert body["failed"] == 2
    assert "return window" in refused(body)["A-1"]["serial_tracked"][0]
    assert "return window" in refused(body)["CAM"]["serial_tracked"][0]

    # a return asked in time holds it after the window has passed, until it is settled
    assert ask(shop.owner, order, [line("CAM", 1, serial_numbers=["CAM-001"])]).status_code == 201
    Order.objects.filter(pk=order.pk).update(delivered_at=timezone.now() - dt.timedelta(days=30))
    body = send(
        erp, erp_record(cable, serial_tracked=True), erp_record(camera, serial_tracked=False)
    )
    assert body["updated"] == 1 and list(refused(body)) == ["CAM"]
    assert Product.objects.get(sku="A-1").serial_tracked
    assert Product.objects.get(sku="CAM").serial_tracked
