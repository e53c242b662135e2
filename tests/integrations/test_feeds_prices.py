"""The ERP's price feeds: POST /api/integration/v1/prices (list prices by price list, SKU and
quantity break) and POST /api/integration/v1/special-prices (dealer special prices by customer
code, SKU and quantity break), set-based, with history, audit and cache invalidation."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers
from rest_framework.test import APIClient

from apps.catalog.models import Product
from apps.integrations.api.base import DateTime, DecimalNumber, FieldError
from apps.integrations.models import BatchLog
from apps.pricing.engine import price_resolve_many
from apps.pricing.models import Price, PriceChange, PriceList, SpecialPrice
from tests.catalog.factories import CategoryFactory, ProductFactory
from tests.factories import CustomerFactory
from tests.integrations.test_feeds_products import refuse_in_the_database

pytestmark = [pytest.mark.django_db]

PRICES = "/api/integration/v1/prices"
SPECIAL_PRICES = "/api/integration/v1/special-prices"
D = Decimal
UTC = dt.UTC


def price(sku="KBL-001", price_list="LIST", min_quantity=1, amount="12.5000", **extra):
    return {
        "sku": sku,
        "price_list": price_list,
        "min_quantity": min_quantity,
        "amount": amount,
        **extra,
    }


def special(customer_code="BAYI-1", sku="KBL-001", min_quantity=1, amount="9.9000", **extra):
    return {
        "customer_code": customer_code,
        "sku": sku,
        "min_quantity": min_quantity,
        "amount": amount,
        **extra,
    }


def post(client, url, batch, **headers):
    response = client.post(url, batch, format="json", **headers)
    assert response.status_code == 200, response.json()
    return response.json()


def counts(body):
    return tuple(body[k] for k in ("received", "created", "updated", "unchanged", "failed"))


def stored(sku="KBL-001", code="LIST", min_quantity=1):
    return Price.objects.get(product__sku=sku, price_list__code=code, min_quantity=min_quantity)


def last_batch():
    return BatchLog.objects.latest("id")


@pytest.fixture
def client(integration_client):
    return integration_client()


@pytest.fixture
def products():
    category = CategoryFactory()
    return [ProductFactory(sku=sku, category=category) for sku in ("KBL-001", "KBL-002")]


@pytest.fixture
def dealer():
    return CustomerFactory(code="BAYI-1", tier="A")


# --- prices: outcomes -------------------------------------------------------------------------


def test_new_prices_are_created_with_their_breaks_and_windows(client, products):
    body = post(
        client,
        PRICES,
        [
            price(),
            price(min_quantity=10, amount="11.25"),
            price(price_list="A", amount=10),
            price(
                "KBL-002",
                "B",
                amount=7.5,
                valid_from="2026-01-01T00:00:00+03:00",
                valid_to="2026-07-01T00:00:00Z",
            ),
        ],
    )

    assert body == {
        "received": 4,
        "created": 4,
        "updated": 0,
        "unchanged": 0,
        "failed": 0,
        "errors": [],
    }
    assert stored().amount == D("12.5000") and stored(min_quantity=10).amount == D("11.2500")
    assert stored(code="A").amount == D("10.0000")
    windowed = stored("KBL-002", "B")
    assert windowed.amount == D("7.5000")
    assert windowed.valid_from == dt.datetime(2025, 12, 31, 21, 0, tzinfo=UTC)
    assert windowed.valid_to == dt.datetime(2026, 7, 1, tzinfo=UTC)
    assert stored().valid_from is None and stored().valid_to is None


def test_a_changed_amount_or_window_is_updated_and_an_equal_record_is_unchanged(client, products):
    post(client, PRICES, [price(), price(price_list="A"), price("KBL-002")])

    body = post(
        client,
        PRICES,
        [
            price(amount="13"),  # amount
            price(price_list="A", valid_to="2027-01-01T00:00:00Z"),  # window only
            price("KBL-002", amount=12.5),  # the same amount, written otherwise
        ],
    )

    assert counts(body) == (3, 0, 2, 1, 0)
    assert stored().amount == D("13.0000")
    assert stored(code="A").valid_to == dt.datetime(2027, 1, 1, tzinfo=UTC)


def test_an_absent_window_end_clears_the_stored_one(client, products):
    post(client, PRICES, [price(valid_to="2027-01-01T00:00:00Z")])

    body = post(client, PRICES, [price()])

    assert body["updated"] == 1 and stored().valid_to is None


def test_the_same_batch_again_is_unchanged_and_writes_nothing(client, products):
    batch = [price(), price(price_list="C", valid_from="2026-01-01T00:00:00Z"), price("KBL-002")]
    post(client, PRICES, batch)
    updated_at = dict(Price.objects.values_list("id", "updated_at"))
    history, audit = PriceChange.objects.count(), LogEntry.objects.count()

    body = post(client, PRICES, batch)

    assert counts(body) == (3, 0, 0, 3, 0)
    assert dict(Price.objects.values_list("id", "updated_at")) == updated_at
    assert PriceChange.objects.count() == history
    assert LogEntry.objects.count() == audit  # no audit noise


# --- prices: history and audit ----------------------------------------------------------------


def test_every_created_or_updated_price_has_an_erp_history_row_with_the_batch(client, products):
    post(client, PRICES, [price(), price("KBL-002")])
    first = last_batch()

    post(client, PRICES, [price(amount="14"), price("KBL-002", valid_to="2027-01-01T00:00:00Z")])
    second = last_batch()

    changes = PriceChange.objects.order_by("id")
    assert [
        (c.product.sku, c.price_list.code, c.customer, c.min_quantity, c.old_amount, c.new_amount)
        for c in changes
    ] == [
        ("KBL-001", "LIST", None, 1, None, D("12.5000")),
        ("KBL-002", "LIST", None, 1, None, D("12.5000")),
        ("KBL-001", "LIST", None, 1, D("12.5000"), D("14.0000")),
        ("KBL-002", "LIST", None, 1, D("12.5000"), D("12.5000")),  # the window changed
    ]
    assert {c.source for c in changes} == {PriceChange.Source.ERP}
    assert [c.reference for c in changes] == [f"batch:{first.pk}"] * 2 + [f"batch:{second.pk}"] * 2
    assert all(c.changed_by is None and c.changed_at is not None for c in changes)


def test_created_and_updated_prices_are_in_the_audit_log_with_the_batch(client, products):
    post(client, PRICES, [price(valid_from="2026-01-01T00:00:00Z")])
    row = stored()

    post(client, PRICES, [price(amount="13.75", valid_from="2026-02-01T12:30:00+03:00")])

    entries = LogEntry.objects.get_for_object(row).order_by("id")
    assert [e.action for e in entries] == [LogEntry.Action.CREATE, LogEntry.Action.UPDATE]
    created, updated = entries
    product_id, list_id = str(row.product_id), str(row.price_list_id)
    assert created.changes == {
        "id": ["None", str(row.pk)],
        "amount": ["None", "12.5000"],
        "product": ["None", product_id],
        "price_list": ["None", list_id],
        "min_quantity": ["None", "1"],
        "valid_from": ["None", "2026-01-01 00:00:00"],
        "valid_to": ["None", "None"],
        "created_at": ["None", str(row.created_at.astimezone(UTC).replace(tzinfo=None))],
    }
    assert updated.changes == {
        "amount": ["12.5000", "13.7500"],
        "valid_from": ["2026-01-01 00:00:00", "2026-02-01 09:30:00"],
    }
    row = Price.objects.select_related("price_list", "product").get(pk=row.pk)
    # what the model says of it, its list and product named
    assert updated.object_repr == str(row) == "LIST · KBL-001, from 1 unit: 13.75 ₺"
    assert updated.additional_data == {"source": "integration", "batch": last_batch().pk}
    assert updated.remote_addr == "127.0.0.1" and updated.actor is None


# --- prices: errors ---------------------------------------------------------------------------


def test_unknown_sku_and_price_list_fail_their_records_and_the_others_are_applied(client, products):
    PriceList.objects.filter(code="C").update(is_active=False)

    body = post(
        client,
        PRICES,
        [
            price("YOK-999"),
            price(price_list="Z"),
            price(price_list="C"),
            price("KBL-002"),
            price("YOK-998", price_list="list"),
        ],
    )

    assert counts(body) == (5, 1, 0, 0, 4)
    assert body["errors"] == [
        {"index": 0, "key": "YOK-999", "errors": {"sku": ["No product has this SKU."]}},
        {
            "index": 1,
            "key": "KBL-001",
            "errors": {"price_list": ["No price list “Z” (there are: A, B, LIST)."]},
        },
        {
            "index": 2,
            "key": "KBL-001",
            "errors": {"price_list": ["The price list is switched off."]},
        },
        {
            "index": 4,
            "key": "YOK-998",
            "errors": {
                "sku": ["No product has this SKU."],
                "price_list": ["No price list “list” (there are: A, B, LIST)."],
            },
        },
    ]
    assert list(Price.objects.values_list("product__sku", flat=True)) == ["KBL-002"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"amount": "-0.01"}, "amount", "Ensure this value is greater than or equal to 0."),
        ({"amount": -1}, "amount", "Ensure this value is greater than or equal to 0."),
        ({"amount": "1.23456"}, "amount", "Ensure that there are no more than 4 decimal places."),
        ({"amount": 0.00001}, "amount", "Ensure that there are no more than 4 decimal places."),
        (
            {"amount": "12345678901.5"},
            "amount",
            "Ensure that there are no more than 10 digits before the decimal point.",
        ),
        (
            {"amount": "123456789012345"},
            "amount",
            "Ensure that there are no more than 14 digits in total.",
        ),
        ({"amount": "NaN"}, "amount", "A valid number is required."),
        ({"amount": "Infinity"}, "amount", "A valid number is required."),
        ({"amount": "12,50"}, "amount", "A valid number is required."),
        ({"amount": True}, "amount", "A valid number is required."),
        ({"amount": None}, "amount", "This field may not be null."),
        ({"min_quantity": 0}, "min_quantity", "Ensure this value is greater than or equal to 1."),
        ({"min_quantity": "ten"}, "min_quantity", "A valid integer is required."),
        (
            {"valid_from": "01.01.2026"},
            "valid_from",
            "Datetime has wrong format. Use one of these formats instead: "
            "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
        ),
        (
            {"valid_to": "2026-02-30T00:00:00Z"},
            "valid_to",
            "Datetime has wrong format. Use one of these formats instead: "
            "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
        ),
        (
            {"valid_from": "2026-01-01T00:00:00"},
            "valid_from",
            "Include the time zone: Z for UTC or an offset, e.g. 2026-01-31T00:00:00+03:00.",
        ),
        (
            {"valid_from": "2026-01-01"},
            "valid_from",
            "Include the time zone: Z for UTC or an offset, e.g. 2026-01-31T00:00:00+03:00.",
        ),
        ({"valid_to": 1767225600}, "valid_to", None),  # a number is not a time
        (
            {"valid_from": "2026-06-01T00:00:00Z", "valid_to": "2026-06-01T03:00:00+03:00"},
            "valid_to",
            "The end of validity must be after its start.",
        ),
        (
            {"valid_from": "2026-06-01T00:00:00Z", "valid_to": "2026-05-01T00:00:00Z"},
            "valid_to",
            "The end of validity must be after its start.",
        ),
        # shown in Istanbul (the admin) a minute before the end of the calendar overflows
        ({"valid_to": "9999-12-31T23:00:00Z"}, "valid_to", "Datetime value out of range."),
        ({"valid_from": "0001-01-01T00:30:00Z"}, "valid_from", "Datetime value out of range."),
        # within the calendar but not a price's window: as the back office keeps them
        ({"valid_to": "9998-01-01T00:00:00Z"}, "valid_to", "Enter a time from 2000 to 2999."),
        ({"valid_from": "0002-01-01T00:00:00Z"}, "valid_from", "Enter a time from 2000 to 2999."),
        # the year is the distributor's (Istanbul), as the back office and the CSV import judge
        # it: 23:00 UTC on 31.12.2999 is already 3000 there; 22:30 UTC on 31.12.1999 is 2000
        ({"valid_to": "3000-01-01T00:00:00+03:00"}, "valid_to", "Enter a time from 2000 to 2999."),
        ({"valid_to": "2999-12-31T23:00:00Z"}, "valid_to", "Enter a time from 2000 to 2999."),
        ({"price_list": ""}, "price_list", "This field may not be blank."),
        ({"currency": "TRY"}, "currency", "Unknown or read-only field."),
    ],
)
def test_bad_fields_fail_that_record_with_a_field_message(client, products, change, field, message):
    body = post(client, PRICES, [price(**change), price("KBL-002")])

    assert counts(body)[1:] == (1, 0, 0, 1)
    error = body["errors"][0]
    assert (error["index"], error["key"]) == (0, "KBL-001")
    assert field in error["errors"]
    if message is not None:
        assert error["errors"][field] == [message]
    assert not Price.objects.filter(product__sku="KBL-001").exists()


def test_a_record_without_its_required_fields_names_each(client, products):
    body = post(client, PRICES, [{"sku": "KBL-001"}])

    assert body["errors"][0]["errors"] == {
        "price_list": ["This field is required."],
        "min_quantity": ["This field is required."],
        "amount": ["This field is required."],
    }


@pytest.mark.parametrize("record", [["KBL-001"], "KBL-001", 12, None])
def test_a_record_that_is_not_an_object_fails_alone(client, products, record):
    body = post(client, PRICES, [record, price()])

    assert counts(body) == (2, 1, 0, 0, 1)
    assert body["errors"] == [
        {
            "index": 0,
            "key": None,
            "errors": {"non_field_errors": ["A record must be a JSON object."]},
        }
    ]


def test_a_repeated_key_in_one_batch_fails_naming_the_first(client, products):
    body = post(
        client,
        PRICES,
        [price(), price(min_quantity=10), price(price_list="A"), price(amount="99")],
    )

    assert counts(body) == (4, 3, 0, 0, 1)
    assert body["errors"] == [
        {
            "index": 3,
            "key": "KBL-001",
            "errors": {
                "sku": [
                    "Repeats record 0 (same sku/price_list/min_quantity); "
                    "send each sku/price_list/min_quantity once per batch."
                ]
            },
        }
    ]
    assert stored().amount == D("12.5000")


def test_a_price_of_a_soft_deleted_product_is_still_kept(client, products):
    products[0].soft_delete()

    body = post(client, PRICES, [price()])

    assert body["created"] == 1 and stored().amount == D("12.5000")


def test_a_row_the_database_refuses_fails_alone_and_the_others_are_applied(client, products):
    refuse_in_the_database("pricing_price", "NEW.amount = 666")

    body = post(client, PRICES, [price(), price(price_list="A", amount=666), price(price_list="B")])

    assert counts(body) == (3, 2, 0, 0, 1)
    assert body["errors"][0]["index"] == 1
    assert body["errors"][0]["errors"]["non_field_errors"][0].startswith("Rejected by the database")
    assert PriceChange.objects.count() == 2


# --- special prices ---------------------------------------------------------------------------


def test_special_prices_are_created_updated_and_unchanged_with_history_and_audit(
    client, products, dealer
):
    body = post(
        client,
        SPECIAL_PRICES,
        [special(), special(min_quantity=50, amount="8.5"), special(sku="KBL-002")],
    )
    assert counts(body) == (3, 3, 0, 0, 0)

    body = post(
        client,
        SPECIAL_PRICES,
        [special(amount="9.5"), special(min_quantity=50, amount="8.5"), special(sku="KBL-002")],
    )

    assert counts(body) == (3, 0, 1, 2, 0)
    row = SpecialPrice.objects.get(customer=dealer, product=products[0], min_quantity=1)
    assert row.amount == D("9.5000")
    history = PriceChange.objects.filter(customer=dealer, product=products[0], min_quantity=1)
    assert [(c.old_amount, c.new_amount, c.price_list) for c in history.order_by("id")] == [
        (None, D("9.9000"), None),
        (D("9.9000"), D("9.5000"), None),
    ]
    assert history.latest("id").reference == f"batch:{last_batch().pk}"
    assert PriceChange.objects.count() == 4
    entries = LogEntry.objects.get_for_object(row).order_by("id")
    assert [e.action for e in entries] == [LogEntry.Action.CREATE, LogEntry.Action.UPDATE]
    assert entries[0].changes["customer"] == ["None", str(dealer.pk)]
    assert entries[1].changes == {"amount": ["9.9000", "9.5000"]}
    loaded = SpecialPrice.objects.select_related("customer", "product").get(pk=row.pk)
    assert entries[1].object_repr == str(loaded) == f"{dealer.code} · KBL-001, from 1 unit: 9.50 ₺"
    assert last_batch().resource == "special-prices"


def test_an_unknown_customer_or_sku_fails_its_special_price(client, products, dealer):
    dealer_gone = CustomerFactory(code="BAYI-2")
    dealer_gone.soft_delete()

    body = post(
        client,
        SPECIAL_PRICES,
        [
            special("YOK"),
            special(sku="YOK-999"),
            special("BAYI-2"),  # soft-deleted: kept in step, like its stock
            special(amount="-1"),
        ],
    )

    assert counts(body) == (4, 1, 0, 0, 3)
    assert [(e["index"], e["key"], e["errors"]) for e in body["errors"]] == [
        (0, "YOK", {"customer_code": ["No customer with the code: YOK."]}),
        (1, "BAYI-1", {"sku": ["No product has this SKU."]}),
        (3, "BAYI-1", {"amount": ["Ensure this value is greater than or equal to 0."]}),
    ]
    assert SpecialPrice.objects.get().customer == dealer_gone


def test_a_repeated_special_price_key_fails_naming_the_first(client, products, dealer):
    body = post(client, SPECIAL_PRICES, [special(), special(amount="1")])

    assert body["errors"][0]["index"] == 1
    assert body["errors"][0]["errors"] == {
        "customer_code": [
            "Repeats record 0 (same customer_code/sku/min_quantity); "
            "send each customer_code/sku/min_quantity once per batch."
        ]
    }


# --- the engine sees what the feed wrote ------------------------------------------------------


def test_the_engine_prices_with_the_new_list_price_right_after_the_batch(client, products, dealer):
    product = Product.objects.get(sku="KBL-001")
    post(client, PRICES, [price(amount="100"), price(price_list="A", amount="90")])
    before = price_resolve_many(customer=dealer, items=[(product, 1), (product, 10)])
    again = price_resolve_many(customer=dealer, items=[(product, 1)])  # the cache is warm
    assert [r.unit_net for r in before] == [D("90.0000"), D("90.0000")]
    assert again[0].unit_net == D("90.0000")

    post(
        client,
        PRICES,
        [
            price(amount="100"),  # unchanged
            price(price_list="A", amount="80"),
            price(price_list="A", min_quantity=10, amount="70"),
        ],
    )

    after = price_resolve_many(customer=dealer, items=[(product, 1), (product, 10)])
    assert [(r.unit_net, r.source) for r in after] == [
        (D("80.0000"), "tier:A"),
        (D("70.0000"), "tier:A"),
    ]
    assert after[0].list_price == D("100.0000")


def test_the_engine_prices_with_the_new_special_price_right_after_the_batch(
    client, products, dealer
):
    product = Product.objects.get(sku="KBL-001")
    post(client, PRICES, [price(amount="100")])
    assert price_resolve_many(customer=dealer, items=[(product, 1)])[0].source == "list"

    post(client, SPECIAL_PRICES, [special(amount="60")])

    resolved = price_resolve_many(customer=dealer, items=[(product, 1)])[0]
    assert (resolved.unit_net, resolved.source) == (D("60.0000"), "special")


def test_a_window_from_the_feed_is_honoured_by_the_engine(client, products, dealer):
    product = Product.objects.get(sku="KBL-001")
    future = (dt.datetime.now(UTC) + dt.timedelta(days=1)).isoformat()
    post(client, PRICES, [price(amount="100"), price(price_list="A", valid_from=future)])

    resolved = price_resolve_many(customer=dealer, items=[(product, 1)])[0]

    assert (resolved.unit_net, resolved.source) == (D("100.0000"), "list")


def test_the_first_minutes_of_2000_in_istanbul_are_in_the_window_as_in_the_back_office(
    client, products
):
    # 00:30 on 1 January 2000 in Istanbul (then UTC+2) is 22:30 UTC on 31 December 1999: the
    # back office takes it, so the feed does too
    body = post(client, PRICES, [price(valid_from="1999-12-31T22:30:00Z")])
    assert body["created"] == 1, body


# --- the frame: scopes, size, idempotency, log, queries ---------------------------------------


@pytest.mark.parametrize("url", [PRICES, SPECIAL_PRICES])
def test_a_key_without_prices_write_gets_403_and_changes_nothing(
    integration_client, products, dealer, url
):
    client = integration_client(scopes=["catalog:write", "stock:write"])
    record = price() if url == PRICES else special()

    response = client.post(url, [record], format="json")

    assert response.status_code == 403
    assert not Price.objects.exists() and not SpecialPrice.objects.exists()
    assert not BatchLog.objects.exists()


def test_a_key_with_only_prices_write_may_push_both_feeds(integration_client, products, dealer):
    client = integration_client(scopes=["prices:write"])
    assert post(client, PRICES, [price()])["created"] == 1
    assert post(client, SPECIAL_PRICES, [special()])["created"] == 1


@pytest.mark.parametrize("url", [PRICES, SPECIAL_PRICES])
def test_more_records_than_the_maximum_answer_413_and_change_nothing(
    client, products, dealer, settings, url
):
    settings.INTEGRATION_MAX_BATCH = 1
    batch = [price(), price("KBL-002")] if url == PRICES else [special(), special(sku="KBL-002")]

    response = client.post(url, batch, format="json")

    assert response.status_code == 413
    assert not Price.objects.exists() and not SpecialPrice.objects.exists()


def test_idempotency_key_replays_the_first_answer_and_writes_nothing_twice(client, products):
    batch = [price(), price("KBL-002")]
    first = client.post(PRICES, batch, format="json", HTTP_IDEMPOTENCY_KEY="prices-1")
    Price.objects.update(amount=D("1"))

    second = client.post(PRICES, batch, format="json", HTTP_IDEMPOTENCY_KEY="prices-1")

    assert second.json() == first.json() and second["Idempotent-Replayed"] == "true"
    assert first.json()["created"] == 2
    assert set(Price.objects.values_list("amount", flat=True)) == {D("1.0000")}
    assert PriceChange.objects.count() == 2 and BatchLog.objects.count() == 1


def test_every_batch_is_logged_with_counts_and_errors(client, products):
    post(client, PRICES, [price(), price("YOK")])

    log = last_batch()
    assert (log.resource, log.received, log.created, log.failed) == ("prices", 2, 1, 1)
    assert log.errors[0]["index"] == 1 and log.errors[0]["key"] == "YOK"


def _many_products(count):
    category = CategoryFactory()
    Product.objects.bulk_create(
        Product(sku=f"P-{n:05d}", name=f"Ürün {n}", category=category) for n in range(count)
    )


def _prices(count, amount, start=0):
    lists = ("LIST", "A", "B", "C")
    return [
        price(f"P-{n // 4:05d}", lists[n % 4], amount=str(amount + n % 7))
        for n in range(start, start + count)
    ]


def _specials(count, amount, start=0):
    return [
        special(f"D{n % 3}", f"P-{n // 3:05d}", amount=str(amount))
        for n in range(start, start + count)
    ]


def _queries(client, url, batch):
    with CaptureQueriesContext(connection) as ctx:
        body = post(client, url, batch)
    assert body["failed"] == 0, body["errors"][:3]
    return len(ctx.captured_queries), body


def test_the_number_of_queries_does_not_grow_with_the_batch_size(client):
    _many_products(100)
    post(client, PRICES, _prices(4, 1))  # warms the per-process lookups (content type)

    created_10, body = _queries(client, PRICES, _prices(10, 10, start=4))
    assert body["created"] == 10
    created_200, body = _queries(client, PRICES, _prices(200, 10, start=14))
    assert body["created"] == 200
    updated_10, body = _queries(client, PRICES, _prices(10, 20, start=4))
    assert body["updated"] == 10
    updated_200, body = _queries(client, PRICES, _prices(200, 20, start=14))
    assert body["updated"] == 200
    unchanged_10, body = _queries(client, PRICES, _prices(10, 20, start=4))
    assert body["unchanged"] == 10
    unchanged_200, body = _queries(client, PRICES, _prices(200, 20, start=14))
    assert body["unchanged"] == 200
    mixed_200, body = _queries(client, PRICES, _prices(100, 30, start=114) + _prices(100, 5, 214))
    assert (body["created"], body["updated"]) == (100, 100)

    assert created_10 == created_200
    assert updated_10 == updated_200
    assert unchanged_10 == unchanged_200 < updated_200
    assert mixed_200 <= updated_200
    assert created_200 <= 15


def test_the_number_of_special_price_queries_does_not_grow_with_the_batch_size(client):
    _many_products(100)
    for n in range(3):
        CustomerFactory(code=f"D{n}")
    post(client, SPECIAL_PRICES, _specials(3, 1))

    created_10, body = _queries(client, SPECIAL_PRICES, _specials(10, 10, start=3))
    assert body["created"] == 10
    created_200, body = _queries(client, SPECIAL_PRICES, _specials(200, 10, start=13))
    assert body["created"] == 200
    updated_200, body = _queries(client, SPECIAL_PRICES, _specials(200, 20, start=13))
    assert body["updated"] == 200
    updated_10, body = _queries(client, SPECIAL_PRICES, _specials(10, 20, start=3))
    assert body["updated"] == 10

    assert created_10 == created_200 and updated_10 == updated_200


def test_a_batch_of_5000_prices_is_answered_record_by_record(client):
    _many_products(1250)
    batch = _prices(5000, 100)
    batch[10]["sku"] = "YOK"
    batch[4000]["amount"] = "-5"

    body = post(client, PRICES, batch)

    assert counts(body) == (5000, 4998, 0, 0, 2)
    assert [(e["index"], e["key"]) for e in body["errors"]] == [(10, "YOK"), (4000, "P-01000")]
    assert Price.objects.count() == 4998
    assert PriceChange.objects.filter(reference=f"batch:{last_batch().pk}").count() == 4998
    assert LogEntry.objects.filter(additional_data__batch=last_batch().pk).count() == 4998

    body = post(client, PRICES, _prices(2500, 100) + _prices(2500, 200, start=2500))
    assert counts(body) == (5000, 2, 2499, 2499, 0)


# --- concurrency ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_on_the_same_keys_leave_one_row_and_a_consistent_history(
    integration_client,
):
    client = integration_client()
    _many_products(10)
    answers = []
    start = threading.Barrier(4)

    def push(amount):
        try:
            own = APIClient()  # one client per thread
            own.credentials(HTTP_X_API_KEY=client.raw_key)
            batch = _prices(40, amount)
            start.wait(10)
            answers.append(own.post(PRICES, batch, format="json").json())
        finally:
            connection.close()

    threads = [threading.Thread(target=push, args=(n,)) for n in (10, 20, 30, 40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(answers) == 4 and all(a["failed"] == 0 for a in answers), answers
    assert sum(a["created"] for a in answers) == 40
    assert Price.objects.count() == 40
    for row in Price.objects.all():
        history = PriceChange.objects.filter(
            product=row.product_id, price_list=row.price_list_id, min_quantity=row.min_quantity
        ).order_by("id")
        amount = None
        for change in history:  # each change starts where the previous one ended
            assert change.old_amount == amount
            amount = change.new_amount
        assert amount == row.amount


@pytest.mark.django_db(transaction=True)
def test_a_price_created_by_another_writer_meanwhile_is_updated_with_its_history(
    integration_client,
):
    """The feed read no row for the key; another transaction inserts it before the feed's
    insert: the feed waits for it, then locks the new row and updates it, history included."""
    client = integration_client()
    category = CategoryFactory()
    product = ProductFactory(sku="KBL-001", category=category)
    inserted, release = threading.Event(), threading.Event()

    def other_writer():
        try:
            with transaction.atomic():
                Price.objects.create(
                    price_list=PriceList.objects.get(code="LIST"),
                    product=product,
                    min_quantity=1,
                    amount=D("50"),
                )
                inserted.set()
                release.wait(10)
        finally:
            connection.close()

    writer = threading.Thread(target=other_writer)
    writer.start()
    assert inserted.wait(10)
    threading.Timer(0.5, release.set).start()  # the feed below blocks until then

    body = post(client, PRICES, [price(amount="60")])
    writer.join(10)

    assert counts(body) == (1, 0, 1, 0, 0)
    assert stored().amount == D("60.0000")
    change = PriceChange.objects.get()
    assert (change.old_amount, change.new_amount, change.source) == (D("50"), D("60"), "erp")


# --- the record fields agree with DRF's -------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "12.5",
        " 12.5 ",
        12,
        12.25,
        0.1,
        "0",
        "-0",
        "0.00000",
        "1e3",
        "1E+11",
        "1e-5",
        "9999999999.9999",
        "10000000000",
        "-3",
        "abc",
        "",
        "NaN",
        "-Infinity",
        "1_000",
        True,
        [],
        {},
        "9" * 1001,
    ],
)
def test_the_amount_field_answers_as_drf_decimal_field_does(value):
    ours = DecimalNumber(max_digits=14, decimal_places=4, min_value=D("0"))
    drf = serializers.DecimalField(max_digits=14, decimal_places=4, min_value=D("0"))
    try:
        expected = drf.run_validation(value)
    except serializers.ValidationError as exc:
        with pytest.raises(FieldError) as raised:
            ours.clean(value)
        assert raised.value.messages == str(exc.detail[0])
    else:
        assert ours.clean(value) == expected
        assert str(ours.clean(value)) == str(expected).lstrip("-")


@pytest.mark.parametrize(
    "value",
    [
        "2026-01-31T10:00:00Z",
        "2026-01-31T10:00:00.123456+03:00",
        "2026-01-31 10:00+05:30",
        "2026-13-01T00:00:00Z",
        "tomorrow",
        "9999-12-31T23:59:59-05:00",
        "0001-01-01T00:00:00+01:00",
        "2026-W05-6T10:00:00Z",  # a week date: refused by both (Python's parser reads it)
        "２026-01-31T10:00:00Z",  # other scripts' digits: likewise
    ],
)
def test_the_time_fields_answer_as_drf_datetime_field_does_for_aware_times(value):
    drf = serializers.DateTimeField(default_timezone=UTC)
    try:
        expected = drf.run_validation(value)
    except serializers.ValidationError as exc:
        with pytest.raises(FieldError) as raised:
            DateTime().clean(value)
        assert raised.value.messages == str(exc.detail[0])
    else:
        assert "W" not in value and value.isascii(), value
        assert DateTime().clean(value) == expected
        assert DateTime().clean(value).utcoffset() == dt.timedelta(0)


# --- outbound event ----------------------------------------------------------------------------


def test_a_batch_writes_one_price_changed_event_with_what_changed(client, products, dealer):
    from apps.core.models import OutboxEvent

    post(client, PRICES, [price(), price(sku="KBL-002", amount="3")])
    post(client, PRICES, [price(), price(sku="KBL-002", amount="4")])  # one change
    post(client, SPECIAL_PRICES, [special()])
    events = list(OutboxEvent.objects.filter(type="price.changed").order_by("id"))
    assert len(events) == 3
    first, second, third = (e.data for e in events)
    assert [p["sku"] for p in first["prices"]] == ["KBL-001", "KBL-002"]
    assert second["prices"] == [
        {
            "sku": "KBL-002",
            "price_list": "LIST",
            "min_quantity": 1,
            "amount": "4.0000",
            "valid_from": None,
            "valid_to": None,
            "deleted": False,
        }
    ]
    assert second["source"] == "erp" and second["reference"].startswith("batch:")
    assert third["special_prices"][0]["customer_code"] == "BAYI-1"
    post(client, PRICES, [price()])  # unchanged: no event
    assert OutboxEvent.objects.filter(type="price.changed").count() == 3


# --- JSON numbers are read as sent ----------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("12.30000000000000000001", "digits in total"),  # was rounded to 12.3 and stored
        ("12.30001", "decimal places"),
        ("0." + "0" * 3000 + "1", "too large"),  # was 0.0: a free product
        ("12345678901234567890.5", "digits"),
    ],
)
def test_a_json_number_is_judged_by_the_digits_sent_not_a_rounded_float(
    client, products, number, message
):
    post(client, PRICES, [price(amount="91.69")])
    record = '{"sku": "KBL-001", "price_list": "LIST", "min_quantity": 1, "amount": '
    body = f"[{record}{number}}}]"

    response = client.generic("POST", PRICES, body, content_type="application/json")

    assert response.status_code == 200, response.content
    [failed] = response.json()["errors"]
    assert message in " ".join(failed["errors"]["amount"])
    assert stored().amount == D("91.69")


@pytest.mark.parametrize(
    ("number", "quantity", "amount"),
    [
        ("0.1", "1", "0.1000"),
        # an ERP writing every amount at a fixed scale, and exponents: nothing is lost
        ("150.000000", "1.0", "150.0000"),
        ("1.5e2", "1e1", "150.0000"),
        ("0e20", "1E+0", "0.0000"),
    ],
)
def test_a_json_number_that_loses_nothing_is_taken_exactly(
    client, products, number, quantity, amount
):
    record = '{"sku": "KBL-001", "price_list": "LIST", "min_quantity": '
    body = f'[{record}{quantity}, "amount": {number}}}]'
    response = client.generic("POST", PRICES, body, content_type="application/json")
    assert response.json()["created"] == 1, response.json()
    assert stored(min_quantity=int(float(quantity))).amount == D(amount)
