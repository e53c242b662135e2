"""The outbox: events are written in the transaction of the change (and vanish with it), one
call from a service; the domains' events (customer.registered / updated, product.updated,
stock.changed, price.changed) with their payloads, coalesced per transaction."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import CustomerStatus, DealerRole
from apps.accounts.services.customers import (
    customer_approve,
    customer_set_credit_limit,
    customer_suspend,
)
from apps.catalog.services.admin_products import product_save, product_set_active
from apps.catalog.services.categories import category_get_or_create_path
from apps.core.events import EVENT_TYPES, event_emit
from apps.core.models import OutboxEvent
from apps.integrations.services.delivery import outbox_dispatch_events
from apps.inventory.services import stock_adjust, stock_receive, stock_reserve
from apps.pricing.events import price_changed_emit
from tests.catalog.factories import ProductFactory, StockLevelFactory, WarehouseFactory
from tests.factories import CustomerFactory, DealerUserFactory

pytestmark = [pytest.mark.django_db]


def published(event_type=None) -> list[OutboxEvent]:
    """The events as subscribers get them: fanned out, coalesced ones merged."""
    outbox_dispatch_events()
    events = OutboxEvent.objects.filter(coalesced_into__isnull=True).order_by("id")
    if event_type:
        events = events.filter(type=event_type)
    return list(events)


def test_an_event_is_written_in_the_transaction_of_the_change():
    with transaction.atomic():
        event = event_emit("customer.updated", {"code": "X", "amount": Decimal("1.50")})
        assert OutboxEvent.objects.filter(pk=event.pk).exists()
    stored = OutboxEvent.objects.get()
    assert (stored.type, stored.subject, stored.data) == (
        "customer.updated",
        "customer.updated",
        {"code": "X", "amount": "1.50"},
    )
    assert stored.dispatched_at is None


def test_a_rolled_back_change_leaves_no_event():
    customer = CustomerFactory(status=CustomerStatus.ACTIVE)
    with pytest.raises(RuntimeError), transaction.atomic():
        customer_suspend(customer=customer, reason="unpaid", by=None)
        assert OutboxEvent.objects.count() == 1
        raise RuntimeError("something later in the request fails")
    assert OutboxEvent.objects.count() == 0
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.ACTIVE


def test_a_failed_integration_record_publishes_nothing(integration_client):
    client = integration_client()
    response = client.post(
        "/api/integration/v1/customers",
        [{"code": "ERP-1", "name": "Bad", "tax_number": "123"}],
        format="json",
    )
    assert response.json()["failed"] == 1
    assert OutboxEvent.objects.count() == 0


def test_an_unknown_event_type_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown event type"):
        event_emit("order.exploded", {})


def test_every_event_type_is_documented_with_an_example():
    for name, event in EVENT_TYPES.items():
        assert event.description and event.example and event.subject, name
    assert {
        "customer.registered",
        "customer.updated",
        "product.updated",
        "stock.changed",
        "price.changed",
        "webhook.test",
    } <= set(EVENT_TYPES)


def test_approving_a_company_emits_customer_registered():
    customer = CustomerFactory(status=CustomerStatus.PENDING, code="D000042")
    DealerUserFactory(customer=customer, role=DealerRole.OWNER)

    customer_approve(customer=customer, by=None)

    (event,) = published()
    assert (event.type, event.subject, event.customer_id) == (
        "customer.registered",
        "customer:D000042",
        customer.pk,
    )
    assert event.data["code"] == "D000042" and event.data["status"] == "active"
    assert event.data["approved_at"].endswith("Z")
    assert event.data["credit_limit"] == str(customer.credit_limit)


@pytest.mark.django_db(transaction=True)  # each request commits on its own
def test_the_erp_customer_upsert_emits_one_customer_updated_per_change(
    integration_client, settings
):
    settings.WEBHOOK_DISPATCH_ON_COMMIT = False  # no endpoints anyway; keep the rows to read
    client = integration_client()
    record = {
        "code": "ERP-7",
        "name": "Anadolu Elektrik",
        "tax_number": "4540536920",
        "credit_limit": "1000.00",
    }
    assert client.post("/api/integration/v1/customers", [record], format="json").status_code == 200
    # the same record again changes nothing: no event
    client.post("/api/integration/v1/customers", [record], format="json")
    # a new name and credit limit in one record: one event with both
    changed = {**record, "name": "Anadolu Elektrik A.Ş.", "credit_limit": "2500.00"}
    client.post("/api/integration/v1/customers", [changed], format="json")

    events = published("customer.updated")
    assert [e.data["name"] for e in events] == ["Anadolu Elektrik", "Anadolu Elektrik A.Ş."]
    assert [e.data["credit_limit"] for e in events] == ["1000.00", "2500.00"]
    assert {e.data["source"] for e in events} == {"erp"}
    assert {e.subject for e in events} == {"customer:ERP-7"}


def test_a_new_erp_customer_without_a_limit_has_it_as_money_in_its_event(integration_client):
    """ "0.00" as every amount, not "0" (the event was built from the in-memory default)."""
    record = {"code": "ERP-8", "name": "Limitsiz", "tax_number": "1000000355"}
    response = integration_client().post("/api/integration/v1/customers", [record], format="json")
    assert response.json()["created"] == 1

    [event] = published("customer.updated")
    assert event.data["credit_limit"] == "0.00"


def test_a_staff_credit_limit_change_emits_customer_updated():
    customer = CustomerFactory(code="C777")
    customer_set_credit_limit(customer=customer, new_limit=Decimal("5.00"), by=None, reason="x")
    (event,) = published("customer.updated")
    assert (event.data["credit_limit"], event.data["source"]) == ("5.00", "admin")


def test_the_products_feed_emits_one_product_updated_per_batch(integration_client):
    client = integration_client()
    records = [
        {
            "sku": f"FEED-{n}",
            "name": f"Lamba {n}",
            "category": "Aydınlatma > LED",
            "unit": "piece",
            "vat_rate": 20,
        }
        for n in range(3)
    ]
    response = client.post("/api/integration/v1/products", records, format="json")
    assert response.json()["created"] == 3

    (event,) = published("product.updated")
    assert event.subject == "product"
    assert event.data["source"] == "erp"
    assert event.data["reference"].startswith("batch:")
    assert sorted(p["sku"] for p in event.data["products"]) == ["FEED-0", "FEED-1", "FEED-2"]
    assert {p["change"] for p in event.data["products"]} == {"created"}
    assert event.data["products"][0].keys() == {"sku", "name", "is_active", "change"}


def test_back_office_product_changes_are_coalesced_per_transaction():
    category = category_get_or_create_path("Aydınlatma > LED")
    first = ProductFactory(sku="ADM-1", category=category)
    second = ProductFactory(sku="ADM-2", category=category)

    with transaction.atomic():
        first.name = "Renamed"
        product_save(product=first)
        product_set_active(products=[first, second], is_active=False)

    (event,) = published("product.updated")
    items = {p["sku"]: p for p in event.data["products"]}
    assert items["ADM-1"] == {
        "sku": "ADM-1",
        "name": "Renamed",
        "is_active": False,
        "change": "updated",
    }
    assert items["ADM-2"]["is_active"] is False
    assert OutboxEvent.objects.filter(coalesced_into=event).count() == 1


def test_fanning_out_reads_the_data_only_of_the_events_it_merges():
    # an ERP batch's event carries thousands of items: the fan-out needs none of them, and
    # reads the data only to merge the coalesced events of one transaction
    with transaction.atomic():
        event_emit("customer.updated", {"code": "ALONE", "items": list(range(1000))})
    with transaction.atomic():
        event_emit("customer.updated", {"code": "A"}, subject="customer:A", coalesce=True)
        event_emit("customer.updated", {"code": "B"}, subject="customer:A", coalesce=True)
    table = OutboxEvent._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        outbox_dispatch_events()
    reads = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and table in q["sql"]]
    with_data = [sql for sql in reads if f'"{table}"."data"' in sql]
    assert reads and len(with_data) == 1, reads  # the merge's read of its two events
    alone = OutboxEvent.objects.get(data__code="ALONE")
    merged = OutboxEvent.objects.get(subject="customer:A", coalesced_into__isnull=True)
    assert alone.dispatched_at and len(alone.data["items"]) == 1000
    assert merged.dispatched_at and merged.data == {"code": "B"}


def test_the_stock_feed_emits_one_stock_changed_per_batch(integration_client):
    client = integration_client()
    category = category_get_or_create_path("Elektrik > Kablolar")
    for sku in ("KBL-1", "KBL-2", "KBL-3"):
        ProductFactory(sku=sku, category=category)
    batch = [
        {"sku": "KBL-1", "warehouse": "IST", "on_hand": 10},
        {"sku": "KBL-1", "warehouse": "ANK", "on_hand": 5},
        {"sku": "KBL-2", "warehouse": "IST", "on_hand": 7},
    ]
    client.post("/api/integration/v1/stock", batch, format="json")
    client.post("/api/integration/v1/stock", batch, format="json")  # unchanged: no event

    (event,) = published("stock.changed")
    products = {p["sku"]: p for p in event.data["products"]}
    assert set(products) == {"KBL-1", "KBL-2"}
    assert products["KBL-1"]["available"] == 15
    assert sorted(products["KBL-1"]["levels"], key=lambda x: x["warehouse"]) == [
        {"warehouse": "ANK", "on_hand": 5, "reserved": 0},
        {"warehouse": "IST", "on_hand": 10, "reserved": 0},
    ]
    assert event.data["reference"].startswith("batch:")


def test_stock_services_in_one_transaction_give_one_stock_changed_with_the_final_numbers():
    warehouse = WarehouseFactory(code="IST")
    lamp = StockLevelFactory(warehouse=warehouse, on_hand=10, product__sku="LMP-1").product
    cable = StockLevelFactory(warehouse=warehouse, on_hand=3, product__sku="CBL-1").product

    with transaction.atomic():
        stock_adjust(product=lamp, warehouse=warehouse, new_on_hand=12, reason="count")
        stock_reserve(lines=[(lamp.pk, 2), (cable.pk, 1)], reference="order:ORD-1")
        stock_receive(product=cable, warehouse=warehouse, quantity=4)

    (event,) = published("stock.changed")
    products = {p["sku"]: p for p in event.data["products"]}
    assert products["LMP-1"]["available"] == 10
    assert products["LMP-1"]["levels"] == [{"warehouse": "IST", "on_hand": 12, "reserved": 2}]
    assert products["CBL-1"]["available"] == 6


def test_price_changed_helper_merges_the_transactions_prices():
    with transaction.atomic():
        price_changed_emit(
            prices=[{"sku": "A", "price_list": "LIST", "min_quantity": 1, "amount": Decimal("1")}],
            source="erp",
            reference="batch:1",
        )
        price_changed_emit(
            prices=[{"sku": "A", "price_list": "LIST", "min_quantity": 1, "amount": Decimal("2")}],
            special_prices=[
                {"customer_code": "C1", "sku": "A", "min_quantity": 1, "amount": Decimal("1.5")}
            ],
            source="erp",
            reference="batch:1",
        )

    (event,) = published("price.changed")
    assert event.data["prices"] == [
        {"sku": "A", "price_list": "LIST", "min_quantity": 1, "amount": "2"}
    ]
    assert event.data["special_prices"][0]["customer_code"] == "C1"


@pytest.mark.django_db(transaction=True)
def test_a_customers_batch_commits_in_chunks_not_once_per_record(integration_client, monkeypatch):
    """The record-by-record customers feed committed (and queued an outbox fan-out) after
    every record: 5,000 dealers outlived the request. Now one commit per chunk of records,
    each record still in its own savepoint (one refused record leaves the others)."""
    from apps.core import events as core_events  # here: the dispatchers this test counts
    from apps.integrations.api import base
    from tests.factories import _valid_vkn

    monkeypatch.setattr(base, "RECORDS_PER_COMMIT", 25)
    calls: list[int] = []
    monkeypatch.setattr(core_events, "_dispatchers", [lambda ids: calls.append(len(ids))])
    records = [
        {"code": f"CH-{n:03d}", "name": f"Bayi {n}", "tax_number": _valid_vkn(5000 + n)}
        for n in range(60)
    ]
    records[30]["tax_number"] = records[0]["tax_number"]  # refused: taken by CH-000

    body = integration_client().post("/api/integration/v1/customers", records, format="json")

    assert (body.json()["created"], body.json()["failed"]) == (59, 1)
    assert calls == [25, 24, 10]  # three commits, every event of each in one dispatch


@pytest.mark.django_db(transaction=True)
def test_two_customer_batches_in_opposite_orders_wait_for_each_other_not_deadlock(
    integration_client,
):
    """Each batch holds its records' rows until its chunk commits: sent in opposite orders,
    two batches deadlocked record after record ("deadlock detected", then a worker timeout)
    until records were taken in the order of their codes."""
    import threading

    from django.db import connection as default_connection

    from tests.factories import _valid_vkn

    records = [
        {"code": f"DL-{n:03d}", "name": f"Bayi {n}", "tax_number": _valid_vkn(7000 + n)}
        for n in range(40)
    ]
    first = integration_client().post("/api/integration/v1/customers", records, format="json")
    assert first.json()["created"] == 40
    batches = [
        [{**r, "name": f"{r['name']} A"} for r in records],
        [{**r, "name": f"{r['name']} B"} for r in reversed(records)],
    ]
    clients = [integration_client(), integration_client()]
    barrier = threading.Barrier(2)
    answers: list = [None, None]

    def send(n):
        try:
            barrier.wait(timeout=10)
            answers[n] = (
                clients[n].post("/api/integration/v1/customers", batches[n], format="json").json()
            )
        finally:
            default_connection.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [(a["updated"], a["failed"]) for a in answers] == [(40, 0), (40, 0)], answers


def test_an_endpoint_subscribed_mid_transaction_gets_the_coalesced_event_it_saw_a_part_of():
    """A subscription starts with its endpoint; a coalesced event carries changes made after
    it too (the demo's --reset: the stock changes of the seed were merged into an event the
    reset started before the endpoint was made, and the endpoint never got them)."""
    from apps.integrations.models import WebhookDelivery, WebhookEndpoint

    with transaction.atomic():
        event_emit("customer.updated", {"code": "A"}, subject="customer:A", coalesce=True)
        endpoint = WebhookEndpoint.objects.create(
            url="https://hooks.example.com/a", secret="whsec_x", event_types=["*"]
        )
        event_emit("customer.updated", {"code": "A2"}, subject="customer:A", coalesce=True)
        event_emit("customer.updated", {"code": "B"}, subject="customer:B", coalesce=True)
    outbox_dispatch_events()
    delivered = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert sorted(delivered.values_list("subject", flat=True)) == ["customer:A", "customer:B"]
    # an event wholly from before the endpoint is still not its history
    with transaction.atomic():
        event_emit("customer.updated", {"code": "C"}, subject="customer:C", coalesce=True)
        late = WebhookEndpoint.objects.create(
            url="https://hooks.example.com/b", secret="whsec_y", event_types=["*"]
        )
    outbox_dispatch_events()
    assert not WebhookDelivery.objects.filter(endpoint=late).exists()
