"""The ERP's stock feed: POST /api/integration/v1/stock (absolute on_hand per SKU and warehouse,
the difference becomes an ``erp_sync`` stock movement)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.catalog.models import Product
from apps.catalog.services.categories import category_get_or_create_path
from apps.integrations.models import BatchLog
from apps.inventory.models import SerialNumber, StockLevel, StockMovement, Warehouse

pytestmark = [pytest.mark.django_db]

URL = "/api/integration/v1/stock"


def make_products(*skus):
    category = category_get_or_create_path("Elektrik > Kablolar")
    return [Product.objects.create(sku=sku, name=f"Ürün {sku}", category=category) for sku in skus]


def post(client, batch, **headers):
    response = client.post(URL, batch, format="json", **headers)
    assert response.status_code == 200, response.json()
    return response.json()


def level(sku, warehouse="MERKEZ"):
    return StockLevel.objects.get(product__sku=sku, warehouse__code=warehouse)


@pytest.fixture
def client(integration_client):
    return integration_client()


@pytest.fixture
def products():
    return make_products("KBL-001", "KBL-002")


def test_a_new_stock_level_is_created_with_a_movement_and_a_new_warehouse(client, products):
    body = post(client, [{"sku": "KBL-001", "warehouse": "MERKEZ", "on_hand": 40}])

    assert (body["created"], body["failed"]) == (1, 0)
    assert Warehouse.objects.get(code="MERKEZ").name == "MERKEZ"
    assert (level("KBL-001").on_hand, level("KBL-001").reserved) == (40, 0)
    movement = StockMovement.objects.get()
    assert (movement.kind, movement.quantity) == ("erp_sync", 40)
    assert (movement.on_hand_before, movement.on_hand_after) == (0, 40)


def test_a_warehouse_code_differing_only_in_case_is_a_typo_not_a_new_warehouse(client, products):
    """``merkez`` beside ``MERKEZ`` would be a second, sellable warehouse: that record is
    refused on ``warehouse``; the batch's others count."""
    post(client, [{"sku": "KBL-001", "warehouse": "MERKEZ", "on_hand": 40}])
    body = post(
        client,
        [
            {"sku": "KBL-001", "warehouse": "merkez", "on_hand": 8},
            {"sku": "KBL-002", "warehouse": "MERKEZ", "on_hand": 5},
        ],
    )
    assert (body["created"], body["failed"]) == (1, 1)
    [error] = body["errors"]
    assert error["index"] == 0 and "MERKEZ" in error["errors"]["warehouse"][0]
    assert list(Warehouse.objects.values_list("code", flat=True)) == ["MERKEZ"]
    assert level("KBL-001").on_hand == 40


@pytest.mark.parametrize("code", ["MERKEZ\u200b", "ＭＥＲＫＥＺ"], ids=["zero-width", "full-width"])
def test_a_warehouse_code_that_only_looks_like_one_is_refused(client, products, code):
    """An invisible or full-width character made a second warehouse that looks like MERKEZ
    and whose stock counted towards what dealers may order."""
    post(client, [{"sku": "KBL-001", "warehouse": "MERKEZ", "on_hand": 40}])
    body = post(client, [{"sku": "KBL-002", "warehouse": code, "on_hand": 5}])

    assert body["failed"] == 1 and "warehouse" in body["errors"][0]["errors"]
    assert list(Warehouse.objects.values_list("code", flat=True)) == ["MERKEZ"]


@pytest.mark.parametrize("code", ["İST", "ıst", "Ist"])
def test_a_turkish_i_in_a_warehouse_code_is_the_same_warehouse(client, products, code):
    """``"İ".lower()`` is an i with a combining dot: ``İST`` made a second warehouse beside
    ``IST``, and the first one every order drew from."""
    post(client, [{"sku": "KBL-001", "warehouse": "IST", "on_hand": 40}])
    body = post(client, [{"sku": "KBL-002", "warehouse": code, "on_hand": 5}])
    assert body["failed"] == 1 and "IST" in body["errors"][0]["errors"]["warehouse"][0]
    assert list(Warehouse.objects.values_list("code", flat=True)) == ["IST"]


def test_a_new_warehouse_comes_after_the_others(client, products):
    """A new code from the feed had sort order 0: every order drew from it first."""
    Warehouse.objects.create(code="IST", name="İstanbul", sort_order=10)
    Warehouse.objects.create(code="ANK", name="Ankara", sort_order=20)
    post(client, [{"sku": "KBL-001", "warehouse": "IZM", "on_hand": 5}])
    assert Warehouse.objects.get(code="IZM").sort_order == 30


def test_two_new_codes_differing_only_in_case_in_one_batch_make_one_warehouse(client, products):
    """The first spelling in the batch makes the warehouse; the other is the same typo."""
    body = post(
        client,
        [
            {"sku": "KBL-001", "warehouse": "YENI", "on_hand": 1},
            {"sku": "KBL-002", "warehouse": "yeni", "on_hand": 2},
        ],
    )
    assert (body["created"], body["failed"]) == (1, 1)
    [error] = body["errors"]
    assert error["index"] == 1 and "YENI" in error["errors"]["warehouse"][0]
    assert list(Warehouse.objects.values_list("code", flat=True)) == ["YENI"]


def test_a_changed_on_hand_becomes_an_erp_sync_movement_with_before_after_and_batch(
    client, products
):
    post(client, [{"sku": "KBL-001", "warehouse": "MERKEZ", "on_hand": 40}])
    StockLevel.objects.filter(product__sku="KBL-001").update(reserved=5)

    body = post(client, [{"sku": "KBL-001", "warehouse": "MERKEZ", "on_hand": 25}])

    assert body["updated"] == 1
    assert (level("KBL-001").on_hand, level("KBL-001").reserved) == (25, 5)
    movement = StockMovement.objects.order_by("-id").first()
    batch = BatchLog.objects.filter(resource="stock").latest("id")
    assert movement.kind == StockMovement.Kind.ERP_SYNC and movement.quantity == -15
    assert (movement.on_hand_before, movement.on_hand_after) == (40, 25)
    assert (movement.reserved_before, movement.reserved_after) == (5, 5)
    assert movement.reference == f"batch:{batch.pk}"
    assert movement.product.sku == "KBL-001" and movement.warehouse.code == "MERKEZ"


def test_an_equal_on_hand_is_unchanged_and_makes_no_movement(client, products):
    post(client, [{"sku": "KBL-001", "warehouse": "MERKEZ", "on_hand": 40}])
    movements = StockMovement.objects.count()
    updated_at = level("KBL-001").updated_at

    body = post(client, [{"sku": "KBL-001", "warehouse": "MERKEZ", "on_hand": "40"}])

    assert (body["unchanged"], body["updated"]) == (1, 0)
    assert StockMovement.objects.count() == movements
    assert level("KBL-001").updated_at == updated_at


def test_on_hand_below_reserved_fails_that_record_only(client, products):
    post(
        client,
        [
            {"sku": "KBL-001", "warehouse": "MERKEZ", "on_hand": 10},
            {"sku": "KBL-002", "warehouse": "MERKEZ", "on_hand": 10},
        ],
    )
    StockLevel.objects.filter(product__sku="KBL-001").update(reserved=8)

    body = post(
        client,
        [
            {"sku": "KBL-001", "warehouse": "MERKEZ", "on_hand": 7},
            {"sku": "KBL-002", "warehouse": "MERKEZ", "on_hand": 3},
        ],
    )

    assert (body["updated"], body["failed"]) == (1, 1)
    assert body["errors"] == [
        {
            "index": 0,
            "key": "KBL-001",
            "errors": {"on_hand": ["8 units are reserved; on hand cannot go below that."]},
        }
    ]
    assert (level("KBL-001").on_hand, level("KBL-001").reserved) == (10, 8)
    assert level("KBL-002").on_hand == 3
    assert not StockMovement.objects.filter(product__sku="KBL-001", quantity__lt=0).exists()


def test_on_hand_equal_to_reserved_is_accepted(client, products):
    post(client, [{"sku": "KBL-001", "warehouse": "MERKEZ", "on_hand": 10}])
    StockLevel.objects.update(reserved=8)
    body = post(client, [{"sku": "KBL-001", "warehouse": "MERKEZ", "on_hand": 8}])
    assert body["updated"] == 1 and level("KBL-001").available == 0


def test_an_unknown_sku_fails_that_record_and_creates_no_warehouse(client, products):
    body = post(
        client,
        [
            {"sku": "YOK-999", "warehouse": "YENI", "on_hand": 5},
            {"sku": "KBL-001", "warehouse": "MERKEZ", "on_hand": 5},
        ],
    )

    assert (body["created"], body["failed"]) == (1, 1)
    assert body["errors"] == [
        {"index": 0, "key": "YOK-999", "errors": {"sku": ["No product has this SKU."]}}
    ]
    assert list(Warehouse.objects.values_list("code", flat=True)) == ["MERKEZ"]


def test_stock_of_a_soft_deleted_product_is_still_kept(client, products):
    products[0].soft_delete()
    body = post(client, [{"sku": "KBL-001", "warehouse": "MERKEZ", "on_hand": 5}])
    assert body["created"] == 1


@pytest.mark.parametrize(
    ("record", "field", "message"),
    [
        ({"on_hand": -1}, "on_hand", "Ensure this value is greater than or equal to 0."),
        ({"on_hand": 2**31}, "on_hand", "Ensure this value is less than or equal to 2147483647."),
        ({"on_hand": 1.5}, "on_hand", "A valid integer is required."),
        ({"on_hand": None}, "on_hand", "This field may not be null."),
        ({"warehouse": ""}, "warehouse", "This field may not be blank."),
        ({"warehouse": "W" * 33}, "warehouse", "Ensure this field has no more than 32 characters."),
        ({"reserved": 3}, "reserved", "Unknown or read-only field."),
    ],
)
def test_bad_fields_fail_that_record_with_a_field_message(client, products, record, field, message):
    bad = {"sku": "KBL-001", "warehouse": "MERKEZ", "on_hand": 5, **record}
    body = post(client, [bad, {"sku": "KBL-002", "warehouse": "MERKEZ", "on_hand": 5}])

    assert (body["created"], body["failed"]) == (1, 1)
    assert body["errors"][0]["errors"][field] == [message]
    assert not StockLevel.objects.filter(product__sku="KBL-001").exists()


def test_a_repeated_sku_and_warehouse_fails_the_later_record(client, products):
    body = post(
        client,
        [
            {"sku": "KBL-001", "warehouse": "MERKEZ", "on_hand": 5},
            {"sku": "KBL-001", "warehouse": "DEPO-2", "on_hand": 6},
            {"sku": "KBL-001", "warehouse": "MERKEZ", "on_hand": 7},
        ],
    )

    assert (body["created"], body["failed"]) == (2, 1)
    assert body["errors"][0]["index"] == 2
    assert body["errors"][0]["errors"] == {
        "sku": ["Repeats record 0 (same sku/warehouse); send each sku/warehouse once per batch."]
    }
    assert level("KBL-001").on_hand == 5 and level("KBL-001", "DEPO-2").on_hand == 6


def test_idempotency_key_replays_the_first_answer_and_moves_nothing_twice(client, products):
    batch = [{"sku": "KBL-001", "warehouse": "MERKEZ", "on_hand": 5}]
    first = client.post(URL, batch, format="json", HTTP_IDEMPOTENCY_KEY="stock-1")
    StockLevel.objects.update(on_hand=9)

    second = client.post(URL, batch, format="json", HTTP_IDEMPOTENCY_KEY="stock-1")

    assert second.json() == first.json() and second["Idempotent-Replayed"] == "true"
    assert level("KBL-001").on_hand == 9
    assert StockMovement.objects.count() == 1


def test_a_key_with_only_catalog_write_gets_403_on_stock(integration_client, products):
    client = integration_client(scopes=["catalog:write"])
    response = client.post(
        URL, [{"sku": "KBL-001", "warehouse": "MERKEZ", "on_hand": 5}], format="json"
    )
    assert response.status_code == 403
    assert not StockLevel.objects.exists() and not Warehouse.objects.exists()


def test_more_records_than_the_maximum_answer_413(client, products, settings):
    settings.INTEGRATION_MAX_BATCH = 1
    batch = [{"sku": sku, "warehouse": "MERKEZ", "on_hand": 1} for sku in ("KBL-001", "KBL-002")]
    assert client.post(URL, batch, format="json").status_code == 413
    assert not StockLevel.objects.exists()


def _many_products(count):
    category = category_get_or_create_path("Toplu > Ürünler")
    Product.objects.bulk_create(
        Product(sku=f"P-{n:05d}", name=f"Ürün {n}", category=category) for n in range(count)
    )


def _stock(count, on_hand, warehouses=("W1", "W2")):
    return [
        {"sku": f"P-{n // len(warehouses):05d}", "warehouse": w, "on_hand": on_hand + n % 7}
        for n, w in zip(range(count), warehouses * count, strict=False)
    ]


def _queries(client, batch):
    with CaptureQueriesContext(connection) as ctx:
        body = post(client, batch)
    return len(ctx.captured_queries), body


def test_the_number_of_queries_does_not_grow_with_the_batch_size(client):
    _many_products(1000)
    post(client, _stock(2, 1))  # the warehouses exist afterwards

    created_100, body = _queries(client, _stock(100, 10)[2:])
    assert body["created"] == 98
    created_1000, body = _queries(client, _stock(1000, 10)[100:])
    assert body["created"] == 900
    updated_1000, body = _queries(client, _stock(1000, 20))
    assert body["updated"] == 1000
    unchanged_1000, body = _queries(client, _stock(1000, 20))
    assert body["unchanged"] == 1000

    assert created_100 == created_1000
    assert updated_1000 <= created_1000 + 1
    assert unchanged_1000 <= updated_1000
    assert created_1000 <= 15


def test_a_batch_of_5000_records_is_answered_record_by_record(client):
    _many_products(2500)
    batch = _stock(5000, 100)
    batch[10]["sku"] = "YOK"
    batch[4000]["on_hand"] = -5

    body = post(client, batch)

    assert (body["received"], body["created"], body["failed"]) == (5000, 4998, 2)
    assert [(e["index"], e["key"]) for e in body["errors"]] == [(10, "YOK"), (4000, "P-02000")]
    assert StockLevel.objects.count() == 4998
    assert StockMovement.objects.filter(kind="erp_sync").count() == 4998

    StockLevel.objects.filter(product__sku="P-00001", warehouse__code="W1").update(reserved=100)
    batch = _stock(5000, 50)
    body = post(client, batch)
    assert (body["created"], body["updated"], body["failed"]) == (2, 4997, 1)
    assert body["errors"][0]["index"] == 2  # P-00001 in W1: 50 < 100 reserved
    moved = StockMovement.objects.filter(reference=f"batch:{BatchLog.objects.latest('id').pk}")
    assert moved.count() == 4999


@pytest.mark.django_db(transaction=True)
def test_a_reservation_committed_while_the_feed_waits_is_respected(integration_client):
    """A reservation holds the row; the feed waits for it, then sees the new ``reserved`` and
    refuses an on_hand below it instead of violating the database CHECK."""
    client = integration_client()
    make_products("KBL-001")
    post(client, [{"sku": "KBL-001", "warehouse": "MERKEZ", "on_hand": 10}])
    row = level("KBL-001")
    locked, release = threading.Event(), threading.Event()

    def reserve():
        try:
            with transaction.atomic():
                StockLevel.objects.select_for_update().filter(pk=row.pk).update(reserved=8)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    reserver = threading.Thread(target=reserve)
    reserver.start()
    assert locked.wait(10)
    threading.Timer(0.5, release.set).start()  # the feed below blocks until then

    body = post(client, [{"sku": "KBL-001", "warehouse": "MERKEZ", "on_hand": 5}])
    reserver.join(10)

    assert body["failed"] == 1 and set(body["errors"][0]["errors"]) == {"on_hand"}
    row.refresh_from_db()
    assert (row.on_hand, row.reserved) == (10, 8)


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_on_the_same_rows_leave_a_consistent_movement_chain(
    integration_client,
):
    client = integration_client()
    make_products("KBL-001", "KBL-002")
    answers = []

    def push(on_hand):
        try:
            batch = [
                {"sku": sku, "warehouse": w, "on_hand": on_hand}
                for sku in ("KBL-002", "KBL-001")
                for w in ("W2", "W1")
            ]
            own = APIClient()  # one client per thread
            own.credentials(HTTP_X_API_KEY=client.raw_key)
            answers.append(own.post(URL, batch, format="json").json())
        finally:
            connection.close()

    threads = [threading.Thread(target=push, args=(n,)) for n in (10, 20, 30, 40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert len(answers) == 4 and all(a["failed"] == 0 for a in answers)
    assert Warehouse.objects.count() == 2
    for stock in StockLevel.objects.all():
        movements = StockMovement.objects.filter(
            product=stock.product_id, warehouse=stock.warehouse_id
        ).order_by("id")
        on_hand = 0
        for movement in movements:  # each movement starts where the previous one ended
            assert movement.on_hand_before == on_hand
            on_hand = movement.on_hand_after
        assert on_hand == stock.on_hand


def test_a_row_the_database_refuses_fails_alone_and_the_others_are_applied(client):
    from tests.integrations.test_feeds_products import refuse_in_the_database

    make_products("A", "B", "C")
    refuse_in_the_database("inventory_stocklevel", "NEW.on_hand = 666")

    body = post(
        client,
        [
            {"sku": "A", "warehouse": "MERKEZ", "on_hand": 1},
            {"sku": "B", "warehouse": "MERKEZ", "on_hand": 666},
            {"sku": "C", "warehouse": "MERKEZ", "on_hand": 3},
        ],
    )

    assert (body["created"], body["failed"]) == (2, 1)
    assert body["errors"][0]["index"] == 1
    assert body["errors"][0]["errors"]["non_field_errors"][0].startswith("Rejected by the database")
    assert StockMovement.objects.count() == 2


# --- serial-tracked products ------------------------------------------------------------------


def tracked_products(*skus):
    products = make_products(*skus)
    Product.objects.filter(pk__in=[p.pk for p in products]).update(serial_tracked=True)
    return products


def serials(sku="CAM-1", **filters):
    return dict(
        SerialNumber.objects.filter(product__sku=sku, **filters)
        .order_by("serial")
        .values_list("serial", "status")
    )


def stocked(client, sku="CAM-1", warehouse="MERKEZ", names=("SN-1", "SN-2", "SN-3")):
    body = post(
        client,
        [{"sku": sku, "warehouse": warehouse, "on_hand": len(names), "serial_numbers": names}],
    )
    assert body["failed"] == 0, body
    return body


def test_an_increase_records_the_named_serials_in_stock_in_that_warehouse(client):
    tracked_products("CAM-1")

    body = post(
        client,
        [{"sku": "CAM-1", "warehouse": "MERKEZ", "on_hand": 2, "serial_numbers": ["A1", "A2"]}],
    )

    assert (body["created"], body["failed"]) == (1, 0)
    assert level("CAM-1").on_hand == 2
    batch = BatchLog.objects.filter(resource="stock").latest("id")
    rows = SerialNumber.objects.filter(product__sku="CAM-1").order_by("serial")
    assert [(r.serial, r.status, r.warehouse.code, r.reference) for r in rows] == [
        ("A1", "in_stock", "MERKEZ", f"batch:{batch.pk}"),
        ("A2", "in_stock", "MERKEZ", f"batch:{batch.pk}"),
    ]
    movement = StockMovement.objects.get()
    assert (movement.kind, movement.quantity, movement.reference) == (
        "erp_sync",
        2,
        f"batch:{batch.pk}",
    )

    body = post(
        client,
        [{"sku": "CAM-1", "warehouse": "MERKEZ", "on_hand": 3, "serial_numbers": ["A3"]}],
    )
    assert body["updated"] == 1 and level("CAM-1").on_hand == 3
    assert serials() == {"A1": "in_stock", "A2": "in_stock", "A3": "in_stock"}


def test_the_same_serial_batch_sent_again_is_unchanged_and_adds_nothing(client):
    tracked_products("CAM-1")
    batch = [{"sku": "CAM-1", "warehouse": "MERKEZ", "on_hand": 2, "serial_numbers": ["A1", "A2"]}]
    post(client, batch)
    before = list(SerialNumber.objects.order_by("id").values())

    body = post(client, batch)

    assert (body["unchanged"], body["failed"]) == (1, 0)
    assert list(SerialNumber.objects.order_by("id").values()) == before
    assert StockMovement.objects.count() == 1


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (None, "On hand grows by 2: name 2 new serial numbers, not 0."),
        (["A1"], "On hand grows by 2: name 2 new serial numbers, not 1."),
        (["A1", "A2", "A3"], "On hand grows by 2: name 2 new serial numbers, not 3."),
    ],
)
def test_an_increase_with_another_number_of_serials_fails_that_record_and_changes_nothing(
    client, names, message
):
    tracked_products("CAM-1")
    make_products("KBL-001")
    record = {"sku": "CAM-1", "warehouse": "MERKEZ", "on_hand": 2}
    if names is not None:
        record["serial_numbers"] = names

    body = post(client, [record, {"sku": "KBL-001", "warehouse": "MERKEZ", "on_hand": 4}])

    assert (body["created"], body["failed"]) == (1, 1)
    assert body["errors"] == [{"index": 0, "key": "CAM-1", "errors": {"serial_numbers": [message]}}]
    assert not StockLevel.objects.filter(product__sku="CAM-1").exists()  # not even at 0
    assert not SerialNumber.objects.exists()
    assert level("KBL-001").on_hand == 4


def test_an_increase_naming_a_serial_already_in_stock_anywhere_fails(client):
    tracked_products("CAM-1")
    stocked(client, warehouse="DEPO-2", names=["A1", "A2"])
    SerialNumber.objects.filter(serial="A2").update(status="returned")  # back from a dealer
    movements = StockMovement.objects.count()

    body = post(
        client,
        [
            {
                "sku": "CAM-1",
                "warehouse": "MERKEZ",
                "on_hand": 3,
                "serial_numbers": ["A1", "B", "A2"],
            }
        ],
    )

    assert body["failed"] == 1
    assert body["errors"][0]["errors"] == {"serial_numbers": ["Already in stock: A1, A2."]}
    assert serials() == {"A1": "in_stock", "A2": "returned"}
    assert StockMovement.objects.count() == movements
    assert not StockLevel.objects.filter(warehouse__code="MERKEZ").exists()


def test_a_serial_sold_or_written_off_before_comes_back_in_stock(client):
    tracked_products("CAM-1")
    stocked(client, names=["A1", "A2"])
    SerialNumber.objects.filter(serial="A1").update(status="sold")
    SerialNumber.objects.filter(serial="A2").update(status="written_off")
    StockLevel.objects.update(on_hand=0)

    body = post(
        client,
        [{"sku": "CAM-1", "warehouse": "DEPO-2", "on_hand": 2, "serial_numbers": ["A1", "A2"]}],
    )

    assert body["created"] == 1
    assert serials(warehouse__code="DEPO-2") == {"A1": "in_stock", "A2": "in_stock"}
    assert SerialNumber.objects.count() == 2


def test_a_decrease_writes_off_the_named_serials_of_that_warehouse(client):
    tracked_products("CAM-1")
    stocked(client, names=["A1", "A2", "A3"])
    SerialNumber.objects.filter(serial="A3").update(status="returned")

    body = post(
        client,
        [{"sku": "CAM-1", "warehouse": "MERKEZ", "on_hand": 1, "serial_numbers": ["A3", "A1"]}],
    )

    assert (body["updated"], body["failed"]) == (1, 0)
    assert level("CAM-1").on_hand == 1
    assert serials() == {"A1": "written_off", "A2": "in_stock", "A3": "written_off"}
    assert StockMovement.objects.order_by("-id").first().quantity == -2


@pytest.mark.parametrize(
    ("names", "bad"),
    [
        (["A1", "B1"], "B1"),  # in stock, but in the other warehouse
        (["A1", "A2"], "A2"),  # sold
        (["A1", "NOPE"], "NOPE"),  # unknown
        ([], None),  # none named
    ],
)
def test_a_decrease_naming_serials_not_in_stock_in_that_warehouse_fails(client, names, bad):
    tracked_products("CAM-1")
    stocked(client, names=["A1", "A2", "A3"])
    stocked(client, warehouse="DEPO-2", names=["B1"])
    SerialNumber.objects.filter(serial="A2").update(status="sold")
    before = serials()

    body = post(
        client,
        [{"sku": "CAM-1", "warehouse": "MERKEZ", "on_hand": 1, "serial_numbers": names}],
    )

    assert body["failed"] == 1
    message = (
        f"Not in stock in this warehouse: {bad}."
        if bad
        else "On hand drops by 2: name the 2 serial numbers that leave this warehouse, not 0."
    )
    assert body["errors"][0]["errors"] == {"serial_numbers": [message]}
    assert level("CAM-1").on_hand == 3 and serials() == before


def test_serial_numbers_for_a_product_that_is_not_serial_tracked_fail_that_record(client, products):
    body = post(
        client,
        [
            {"sku": "KBL-001", "warehouse": "MERKEZ", "on_hand": 1, "serial_numbers": ["X"]},
            {"sku": "KBL-002", "warehouse": "MERKEZ", "on_hand": 1, "serial_numbers": []},
        ],
    )

    assert (body["created"], body["failed"]) == (1, 1)
    assert body["errors"][0]["errors"] == {
        "serial_numbers": ["This product is not serial-tracked; send no serial numbers."]
    }
    assert not SerialNumber.objects.exists()


def test_a_serial_named_twice_in_a_record_or_a_batch_fails_the_later_record(client):
    tracked_products("CAM-1")

    body = post(
        client,
        [
            {"sku": "CAM-1", "warehouse": "W1", "on_hand": 2, "serial_numbers": ["A", "A"]},
            {"sku": "CAM-1", "warehouse": "W2", "on_hand": 1, "serial_numbers": ["B"]},
            {"sku": "CAM-1", "warehouse": "W3", "on_hand": 1, "serial_numbers": ["B"]},
        ],
    )

    assert (body["created"], body["failed"]) == (1, 2)
    assert {e["index"]: e["errors"]["serial_numbers"] for e in body["errors"]} == {
        0: ["Named twice: A."],
        2: ["B is already named by record 1; name a serial once per batch."],
    }
    assert serials() == {"B": "in_stock"}


def _serial_stock(products, warehouses, on_hand, start=0):
    return [
        {
            "sku": f"P-{n:05d}",
            "warehouse": w,
            "on_hand": on_hand,
            "serial_numbers": [f"{n}-{w}-{k}" for k in range(start, on_hand)],
        }
        for n in range(products)
        for w in warehouses
    ]


def test_serial_batches_take_a_constant_number_of_queries(client):
    _many_products(100)
    Product.objects.update(serial_tracked=True)
    post(client, [{"sku": "P-00099", "warehouse": w, "on_hand": 0} for w in ("W1", "W2")])

    created_10, body = _queries(client, _serial_stock(5, ("W1", "W2"), 3))
    assert body["created"] == 10
    created_190, body = _queries(client, _serial_stock(100, ("W1", "W2"), 3)[10:-2])
    assert body["created"] == 188
    grown = _serial_stock(100, ("W1", "W2"), 5, start=3)  # two more each
    grown_200, body = _queries(client, grown)
    assert (body["updated"], body["failed"]) == (198, 2)  # P-00099 was at 0: 5 serials due
    dropped = [{**record, "on_hand": 3} for record in grown[:-2]]  # the same two leave
    dropped_198, body = _queries(client, dropped)
    assert body["updated"] == 198

    assert created_10 == created_190
    assert grown_200 <= created_190 and dropped_198 <= created_190
    assert SerialNumber.objects.filter(status="in_stock").count() == 198 * 3
    assert SerialNumber.objects.filter(status="written_off").count() == 198 * 2


def test_the_schema_documents_serial_numbers_of_a_stock_record(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    record = schema["components"]["schemas"]["ErpStockRecordRequest"]
    field = record["properties"]["serial_numbers"]
    assert field["type"] == "array" and field["items"]["maxLength"] == 100
    assert field["nullable"] is True and "serial_numbers" not in record.get("required", [])
    assert "Serial-tracked products only" in field["description"]
