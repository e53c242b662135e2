"""A dealer with a delivered order: 5 cables (120.00 gross each) and 2 serial-tracked cameras
(CAM-001, CAM-002 shipped; CAM-003 still in stock), placed, shipped and delivered through the
real services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.orders.models import Order
from apps.orders.services import order_set_status
from apps.orders.states import ERP
from tests.inventory.factories import SerialNumberFactory
from tests.orders.conftest import Shop, place

RETURNS = "/api/v1/returns"


def deliver(order: Order, *, at: dt.datetime | None = None) -> Order:
    for status in ("processing", "shipped", "delivered"):
        order, _changed = order_set_status(order=order, status=status, actor=ERP)
    if at is not None:
        Order.objects.filter(pk=order.pk).update(delivered_at=at)
        order.refresh_from_db()
    return order


def delivered_order(shop: Shop, items=(("A-1", 5), ("CAM", 2)), **kwargs) -> Order:
    response = place(shop.owner, items=list(items))
    assert response.status_code == 201, response.content
    return deliver(Order.objects.get(number=response.json()["number"]), **kwargs)


def make_shop(dealer_client) -> Shop:
    shop = Shop(dealer_client)
    shop.product("A-1", price="100", stock=50)
    camera = shop.product("CAM", price="1000", stock=3, serial_tracked=True, vat_rate=20)
    for name in ("CAM-001", "CAM-002", "CAM-003"):
        SerialNumberFactory(product=camera, warehouse=shop.warehouse, serial=name)
    return shop


@pytest.fixture
def shop(dealer_client):
    return make_shop(dealer_client)


@pytest.fixture
def order(shop) -> Order:
    return delivered_order(shop, at=timezone.now() - dt.timedelta(days=2))


def line(sku="A-1", quantity=1, reason="damaged", **extra) -> dict:
    return {"sku": sku, "quantity": quantity, "reason": reason, **extra}


def ask(client, order, lines, **extra):
    return client.post(
        RETURNS, {"order_number": order.number, "lines": lines, **extra}, format="json"
    )
