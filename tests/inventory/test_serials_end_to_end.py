"""Serial-tracked products made by the ERP can be sold and shipped: the ERP creates the
product, feeds its stock with serial numbers, a dealer orders, the ERP ships, and the serials
that leave are the ones the ERP fed."""

from __future__ import annotations

import pytest

from apps.inventory.models import SerialNumber, StockLevel
from apps.orders.models import Order
from tests.orders.conftest import Shop, place

pytestmark = [pytest.mark.django_db]

API = "/api/integration/v1"
FED = ["CAM-A", "CAM-B", "CAM-C"]


def ok(response):
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body.get("failed", 0) == 0, body
    return body


def test_serials_fed_by_the_erp_are_the_ones_an_order_ships(dealer_client, integration_client):
    erp = integration_client()
    shop = Shop(dealer_client)  # a dealer with addresses and credit, and warehouse IST

    # the ERP creates the product, prices it and feeds its stock with serial numbers
    ok(
        erp.post(
            f"{API}/products",
            [
                {
                    "sku": "CAM-9",
                    "name": "IP kamera",
                    "category": "Güvenlik > Kameralar",
                    "unit": "piece",
                    "vat_rate": 20,
                    "serial_tracked": True,
                }
            ],
            format="json",
        )
    )
    ok(
        erp.post(
            f"{API}/prices",
            [{"sku": "CAM-9", "price_list": "LIST", "min_quantity": 1, "amount": "1500"}],
            format="json",
        )
    )
    stock = [{"sku": "CAM-9", "warehouse": "IST", "on_hand": 3, "serial_numbers": FED}]
    assert ok(erp.post(f"{API}/stock", stock, format="json"))["created"] == 1

    # a dealer orders two
    response = place(shop.owner, [("CAM-9", 2)])
    assert response.status_code == 201, response.json()
    order = Order.objects.get(number=response.json()["number"])

    # the ERP ships it without naming serials: the oldest fed ones leave
    url = f"{API}/orders/{order.number}/status"
    ok(erp.post(url, {"status": "processing"}, format="json"))
    shipped = ok(erp.post(url, {"status": "shipped", "tracking_number": "T1"}, format="json"))

    assert shipped["status"] == "shipped"
    assert shipped["lines"][0]["serial_numbers"] == ["CAM-A", "CAM-B"]
    assert dict(SerialNumber.objects.values_list("serial", "status")) == {
        "CAM-A": "sold",
        "CAM-B": "sold",
        "CAM-C": "in_stock",
    }
    assert set(SerialNumber.objects.filter(status="sold").values_list("reference", flat=True)) == {
        f"order:{order.number}"
    }
    stock_level = StockLevel.objects.get(product__sku="CAM-9", warehouse__code="IST")
    assert (stock_level.on_hand, stock_level.reserved) == (1, 0)

    # the ERP's next count agrees: unchanged, nothing written off
    stock = [{"sku": "CAM-9", "warehouse": "IST", "on_hand": 1, "serial_numbers": ["CAM-C"]}]
    assert ok(erp.post(f"{API}/stock", stock, format="json"))["unchanged"] == 1
    assert SerialNumber.objects.get(serial="CAM-C").status == "in_stock"
