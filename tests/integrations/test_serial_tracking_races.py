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


def test_serial_tracking_switched_by_staff_after_the_product_feed_read_it_is_judged_again(
    clients,
):
    """The product feed read CAM-1 untracked and sends it untracked with a new name; meanwhile
    staff switch its tracking on and receive two serial-numbered units. When the feed's write
    reaches the row, it sees the tracking it would switch back off, with serials in stock: it
    asks the guard again and refuses the record, rather than leaving two serial numbers in
    stock on an untracked product. Once the stock is gone, the same record switches it off and
    the audit entry says so."""
    from auditlog.models import LogEntry  # here: the other tests need no audit entries

    from apps.catalog.services.admin_products import product_save
    from apps.inventory.models import SerialNumber, Warehouse
    from apps.inventory.services.adjustments import stock_adjust, stock_receive

    first, _second = clients
    warehouse = Warehouse.objects.create(code="MERKEZ", name="Merkez")
    record = product_record(serial_tracked=False) | {"name": "IP Kamera 4MP"}

    def staff_switch_on_and_receive():
        product = Product.objects.get(sku="CAM-1")
        product.serial_tracked = True
        product_save(product=product)
        stock_receive(product=product, warehouse=warehouse, quantity=2, serials=["S1", "S2"])

    answers = while_held(
        staff_switch_on_and_receive,
        lambda: first.post(PRODUCTS, [record], format="json").json(),
    )

    assert answers["second"]["failed"] == 1, answers["second"]
    assert answers["second"]["errors"][0]["errors"] == {
        "serial_tracked": ["It has stock on hand or reserved: bring its stock to 0 first."]
    }
    product = Product.objects.get(sku="CAM-1")
    assert product.serial_tracked
    assert product.name == "IP Kamera"
    assert on_hand() == 2
    assert SerialNumber.objects.filter(product=product).count() == 2

    # the stock written off, the record is taken, tracking off included, and audited so
    stock_adjust(
        product=product,
        warehouse=warehouse,
        new_on_hand=0,
        reason="count",
        serials=["S1", "S2"],
    )
    again = first.post(PRODUCTS, [record], format="json").json()
    assert again["updated"] == 1, again
    product.refresh_from_db()
    assert (product.serial_tracked, product.name) == (False, "IP Kamera 4MP")
    entry = LogEntry.objects.get_for_object(product).order_by("-pk").first()
    assert entry.changes_dict["serial_tracked"] == ["True", "False"]
