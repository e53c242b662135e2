"""A product's serial tracking changes only while no stock hangs on it, also when the ERP's
product feed and its stock feed run at once: units are never counted under a tracking that is
no longer the product's. Against PostgreSQL with two real transactions: the first request's
transaction stays open until the second waits on the product's lock, so the race happens
every run."""

from __future__ import annotations

import pytest

from apps.catalog.models import Product
from apps.catalog.services.categories import category_get_or_create_path
from apps.inventory.models import StockLevel
from tests.held_transactions import while_held

pytestmark = [pytest.mark.django_db(transaction=True)]

PRODUCTS = "/api/integration/v1/products"
STOCK = "/api/integration/v1/stock"


def product_record(*, serial_tracked: bool) -> dict:
    return {
        "sku": "CAM-1",
        "name": "IP Kamera",
        "category": "Güvenlik > Kameralar",
        "unit": "piece",
        "vat_rate": 20,
        "is_active": True,
        "serial_tracked": serial_tracked,
    }


@pytest.fixture
def clients(integration_client):
    """Two keys: a request touches its key's row (last use), which the held transaction would
    otherwise keep locked from the other request."""
    Product.objects.create(
        sku="CAM-1",
        name="IP Kamera",
        category=category_get_or_create_path("Güvenlik > Kameralar"),
    )
    return integration_client(), integration_client(name="second connector")


def on_hand() -> int:
    return sum(StockLevel.objects.filter(product__sku="CAM-1").values_list("on_hand", flat=True))


def test_stock_sent_while_serial_tracking_is_switched_on_fails_and_counts_no_units(clients):
    """The stock record was read against the product untracked; it waits for the tracking
    change and then fails with a reason to send it again, rather than putting 3 units without
    serial numbers on a serial-tracked product."""
    first, second = clients
    answers = while_held(
        lambda: first.post(PRODUCTS, [product_record(serial_tracked=True)], format="json").json(),
        lambda: second.post(
            STOCK, [{"sku": "CAM-1", "warehouse": "MERKEZ", "on_hand": 3}], format="json"
        ).json(),
    )

    assert answers["first"]["updated"] == 1, answers["first"]
    assert answers["second"]["failed"] == 1, answers["second"]
    assert answers["second"]["errors"][0]["errors"] == {
        "non_field_errors": [
            "The product's serial tracking changed meanwhile; send the record again."
        ]
    }
    assert Product.objects.get(sku="CAM-1").serial_tracked
    assert on_hand() == 0

    # sent again, the record is judged against the tracking now stored
    again = second.post(
        STOCK, [{"sku": "CAM-1", "warehouse": "MERKEZ", "on_hand": 3}], format="json"
    ).json()
    assert again["errors"][0]["errors"] == {
        "serial_numbers": ["On hand grows by 3: name 3 new serial numbers, not 0."]
    }


def test_serial_tracking_switched_on_while_stock_comes_in_is_refused_by_that_stock(clients):
    """The stock is not committed when the product record arrives: the tracking change waits
    for it, then sees the units and is refused, as it would be had the stock come first."""
    first, second = clients
    answers = while_held(
        lambda: first.post(
            STOCK, [{"sku": "CAM-1", "warehouse": "MERKEZ", "on_hand": 3}], format="json"
        ).json(),
        lambda: second.post(PRODUCTS, [product_record(serial_tracked=True)], format="json").json(),
    )

    assert answers["first"]["created"] == 1, answers["first"]
    assert answers["second"]["failed"] == 1, answers["second"]
    assert answers["second"]["errors"][0]["errors"] == {
        "serial_tracked": ["It has stock on hand or reserved: bring its stock to 0 first."]
    }
    assert not Product.objects.get(sku="CAM-1").serial_tracked
    assert on_hand() == 3
