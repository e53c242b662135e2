"""Integration API: the ERP picks orders up (``GET orders?status=&updated_since=``, oldest
change first, constant queries per page) and reports fulfilment (``POST
orders/{number}/status``) through the status machine: every ERP move of the table works with
its stock side effect, history row and outbox event; forbidden moves are 409 and change
nothing; the same status again is 200 ``changed: false``."""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.models import OutboxEvent
from apps.inventory.models import SerialNumber, StockLevel, StockMovement
from apps.orders.models import Order, OrderStatus
from apps.orders.services import order_set_status
from apps.orders.services.transitions import SHIPMENT_STATUSES
from tests.inventory.factories import SerialNumberFactory
from tests.orders.conftest import place

pytestmark = [pytest.mark.django_db]

D = Decimal
ORDERS = "/api/integration/v1/orders"
S = OrderStatus


def status_url(number: str) -> str:
    return f"{ORDERS}/{number}/status"


@pytest.fixture
def erp(integration_client):
    return integration_client(scopes=["orders:read", "orders:write"])


def placed(shop, items=(("A-1", 2),), **extra) -> Order:
    response = place(shop.owner, list(items), **extra)
    assert response.status_code == 201, response.json()
    return Order.objects.get(number=response.json()["number"])


def post_status(client, order: Order, status: str, **body):
    return client.post(status_url(order.number), {"status": status, **body}, format="json")


def moved(order: Order, *statuses: str) -> Order:
    """Move ``order`` along ``statuses`` as the ERP would (through the service)."""
    for status in statuses:
        order, _changed = order_set_status(order=order, status=status, actor="erp")
    return order


def state(order: Order) -> tuple:
    """Everything a refused call must leave as it was."""
    order = Order.objects.get(pk=order.pk)
    return (
        order.status,
        order.updated_at,
        order.tracking_number,
        order.carrier,
        order.status_history.count(),
        OutboxEvent.objects.count(),
        list(StockLevel.objects.order_by("pk").values_list("on_hand", "reserved")),
        StockMovement.objects.count(),
    )


def level(shop, sku: str) -> StockLevel:
    return StockLevel.objects.get(product=shop.products[sku], warehouse=shop.warehouse)


# --- access -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scopes", "get_code", "post_code"),
    [
        (["orders:read", "orders:write"], 200, 200),
        (["orders:read"], 200, 403),
        (["orders:write"], 403, 200),
        (["catalog:write", "stock:write"], 403, 403),
    ],
)
def test_scopes_are_enforced_and_a_refused_call_changes_nothing(
    shop, integration_client, scopes, get_code, post_code
):
    shop.product("A-1")
    order = placed(shop)
    client = integration_client(scopes=scopes)
    before = state(order)

    assert client.get(ORDERS).status_code == get_code
    response = post_status(client, order, "processing")

    assert response.status_code == post_code
    if post_code == 403:
        assert response.json()["code"] == "insufficient_scope"
        assert state(order) == before
    else:
        assert Order.objects.get(pk=order.pk).status == S.PROCESSING


def test_no_key_or_a_dealer_token_is_401(shop, api_client):
    shop.product("A-1")
    order = placed(shop)
    before = state(order)
    assert api_client.get(ORDERS).status_code == 401
    assert shop.owner.get(ORDERS).status_code == 401  # a JWT does not open the integration API
    assert post_status(shop.owner, order, "processing").status_code == 401
    assert state(order) == before


# --- GET orders ---------------------------------------------------------------------------------


def test_order_shape_for_the_erp(shop, erp):
    shop.product("A-1", price="10.3333", vat_rate=20)
    shop.product("A-2", price="5", vat_rate=10)
    order = placed(shop, [("A-1", 3), ("A-2", 1)], po_number="PO-9", note="Gate 3")

    response = erp.get(ORDERS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1 and body["next"] is None and body["previous"] is None
    item = body["results"][0]
    assert set(item) == {
        "number",
        "customer_code",
        "status",
        "payment_method",
        "currency",
        "subtotal_net",
        "vat_total",
        "grand_total",
        "po_number",
        "note",
        "shipping_address",
        "billing_address",
        "tracking_number",
        "carrier",
        "created_at",
        "updated_at",
        "confirmed_at",
        "shipped_at",
        "delivered_at",
        "cancelled_at",
        "lines",
    }
    assert item["number"] == order.number
    assert item["customer_code"] == shop.customer.code
    assert (item["status"], item["payment_method"], item["currency"]) == (
        "confirmed",
        "on_account",
        "TRY",
    )
    assert (item["subtotal_net"], item["vat_total"], item["grand_total"]) == (
        "36.00",
        "6.70",
        "42.70",
    )
    assert (item["po_number"], item["note"]) == ("PO-9", "Gate 3")
    assert item["shipping_address"]["id"] == shop.shipping.pk
    assert item["billing_address"]["city"] == shop.billing.city
    assert item["confirmed_at"] is not None and item["shipped_at"] is None
    assert item["lines"] == [
        {
            "sku": "A-1",
            "name": shop.products["A-1"].name,
            "quantity": 3,
            "unit_net": "10.3333",
            "discount": "0.0000",
            "vat_rate": 20,
            "line_net": "31.00",
            "line_vat": "6.20",
            "line_gross": "37.20",
            "serial_numbers": [],
            "quote_number": "",
        },
        {
            "sku": "A-2",
            "name": shop.products["A-2"].name,
            "quantity": 1,
            "unit_net": "5.0000",
            "discount": "0.0000",
            "vat_rate": 10,
            "line_net": "5.00",
            "line_vat": "0.50",
            "line_gross": "5.50",
            "serial_numbers": [],
            "quote_number": "",
        },
    ]
    assert item["created_at"].endswith("Z")  # UTC


def test_orders_come_oldest_change_first_so_a_connector_pulls_increments(shop, erp):
    shop.product("A-1")
    first, second, third = (placed(shop) for _ in range(3))
    numbers = [o["number"] for o in erp.get(ORDERS).json()["results"]]
    assert numbers == [first.number, second.number, third.number]

    moved(first, "processing")  # changed last: now at the end

    numbers = [o["number"] for o in erp.get(ORDERS).json()["results"]]
    assert numbers == [second.number, third.number, first.number]


def test_filter_by_status(shop, erp):
    shop.product("A-1")
    confirmed = placed(shop)
    processing = moved(placed(shop), "processing")

    response = erp.get(ORDERS, {"status": "processing"})

    assert [o["number"] for o in response.json()["results"]] == [processing.number]
    response = erp.get(ORDERS, {"status": "confirmed"})
    assert [o["number"] for o in response.json()["results"]] == [confirmed.number]


def test_filter_updated_since_is_inclusive_and_a_naive_time_is_utc(shop, erp):
    shop.product("A-1")
    old, edge, new = (placed(shop) for _ in range(3))
    base = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    for order, minutes in ((old, -1), (edge, 0), (new, 5)):
        Order.objects.filter(pk=order.pk).update(updated_at=base + dt.timedelta(minutes=minutes))

    def numbers(since: str) -> list[str]:
        response = erp.get(ORDERS, {"updated_since": since})
        assert response.status_code == 200, response.json()
        return [o["number"] for o in response.json()["results"]]

    assert numbers("2026-03-01T12:00:00Z") == [edge.number, new.number]
    assert numbers("2026-03-01T12:00:00") == [edge.number, new.number]  # naive: UTC
    assert numbers("2026-03-01T15:00:00+03:00") == [edge.number, new.number]  # same instant
    assert numbers("2026-03-01T12:00:00.000001Z") == [new.number]
    assert numbers("2026-03-01T13:00:00Z") == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"updated_since": "2026-13-01T00:00:00Z"}, "updated_since"),
        ({"updated_since": "2026-03-01T12:00:00 03:00"}, "updated_since"),  # "+" not encoded
        # what Python's fromisoformat reads too: a week date, other scripts' digits
        ({"updated_since": "2026-W09-7"}, "updated_since"),
        ({"updated_since": "２026-03-01T12:00:00Z"}, "updated_since"),
        ({"page_size": "101"}, "page_size"),
        # sent twice: not the last one quietly (a connector asking for two statuses got one)
        ({"status": ["confirmed", "shipped"]}, "status"),
        ({"updated_since": ["garbage", "2026-01-01T00:00:00Z"]}, "updated_since"),
    ],
)
def test_bad_filters_are_400_naming_the_parameter(shop, erp, params, field):
    response = erp.get(ORDERS, params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_an_empty_status_is_no_filter(shop, erp):
    shop.product("A-1")
    placed(shop)
    response = erp.get(ORDERS, {"status": "", "updated_since": ""})
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_pagination(shop, erp):
    shop.product("A-1")
    orders = [placed(shop) for _ in range(5)]

    first = erp.get(ORDERS, {"page_size": 2}).json()
    last = erp.get(ORDERS, {"page_size": 2, "page": 3}).json()

    assert first["count"] == 5 and first["previous"] is None and "page=2" in first["next"]
    assert [o["number"] for o in first["results"]] == [o.number for o in orders[:2]]
    assert [o["number"] for o in last["results"]] == [orders[4].number]
    assert last["next"] is None
    assert erp.get(ORDERS, {"page": 4, "page_size": 2}).status_code == 404


def test_query_count_does_not_grow_with_the_page(shop, erp):
    shop.product("A-1")
    shop.product("A-2")
    for _ in range(6):
        placed(shop, [("A-1", 1), ("A-2", 1)])

    erp.get(ORDERS)  # the key's "last used" is written at most once a minute: not measured
    counts = {}
    for size in (2, 50):
        with CaptureQueriesContext(connection) as queries:
            response = erp.get(ORDERS, {"page_size": size})
        assert response.status_code == 200
        assert len(response.json()["results"]) == min(size, 6)
        counts[size] = len(queries)

    assert counts[2] == counts[50] == 4  # the key, count, orders with their dealers, lines


def test_a_cursor_pull_never_stalls_nor_skips_when_many_orders_share_one_updated_at(shop, erp):
    # given: five orders a batch job stamped with one time, and two changed later; a connector
    # pulls two at a time, from the last time it saw
    shop.product("A-1")
    orders = [placed(shop) for _ in range(7)]
    tied = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    for index, order in enumerate(orders):
        stamp = tied if index < 5 else tied + dt.timedelta(minutes=index)
        Order.objects.filter(pk=order.pk).update(updated_at=stamp)

    # when: it follows ``next`` from ``cursor=``
    seen, url, params = [], ORDERS, {"updated_since": "2026-03-01T12:00:00Z", "cursor": ""}
    for _ in range(10):  # bounded: 4 pages expected
        page = erp.get(url, {**params, "page_size": 2}).json()
        assert page["count"] == 7
        seen += [o["number"] for o in page["results"]]
        if page["next"] is None:
            break
        params = dict(parse_qsl(urlsplit(page["next"]).query))
        params.pop("page_size")

    # then: every order once, in (updated_at, id) order
    assert seen == [o.number for o in orders]

    # and an order that changes while the connector pages moves past the cursor: it comes again
    first = erp.get(ORDERS, {"cursor": "", "page_size": 3}).json()
    moved(orders[0], "processing")
    rest, cursor = [], dict(parse_qsl(urlsplit(first["next"]).query))["cursor"]
    for _ in range(10):
        page = erp.get(ORDERS, {"cursor": cursor, "page_size": 3}).json()
        rest += [o["number"] for o in page["results"]]
        if page["next"] is None:
            break
        cursor = dict(parse_qsl(urlsplit(page["next"]).query))["cursor"]
    assert rest == [o.number for o in orders[3:]] + [orders[0].number]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "garbage"}, "cursor"),
        ({"cursor": "WyJ4IiwxXQ"}, "cursor"),  # ["x", 1]: not a time
        ({"cursor": "WyIyMDI2LTAzLTAxVDEyOjAwOjAwIiwxXQ"}, "cursor"),  # a naive time
        ({"cursor": "WyIyMDI2LTAzLTAxVDEyOjAwOjAwWiIsIjEiXQ"}, "cursor"),  # the id as text
        ({"cursor": "", "page": "1"}, "cursor"),
        (
            {"cursor": "WyIwMDAxLTAxLTAxVDAwOjAwOjAwKzAxOjAwIiwxXQ"},
            "cursor",
        ),  # before year 1 in UTC
        # "[[[[..." deeper than JSON's decoder goes
        ({"cursor": base64.urlsafe_b64encode(b"[" * 1200).decode().rstrip("=")}, "cursor"),
        ({"cursor": "", "page_size": "0"}, "page_size"),
    ],
)
def test_a_bad_cursor_is_400_naming_it(shop, erp, params, field):
    response = erp.get(ORDERS, params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


@pytest.mark.parametrize(
    "cursor",
    [
        "WyIyMDI2LTAxLTAxVDAwOjAwOjAwKzE2OjAwIiwxXQ",  # +16:00: PostgreSQL refuses the offset
        "WyIyMDI2LTAxLTAxVDAwOjAwOjAwKzA1OjMwOjMwLjUiLDFd",  # an offset with seconds
    ],
)
def test_a_cursor_with_an_offset_postgresql_cannot_read_is_read_in_utc(shop, erp, cursor):
    shop.product("A-1")
    placed(shop)
    response = erp.get(ORDERS, {"cursor": cursor})
    assert response.status_code == 200, response.json()


def test_a_cursor_page_costs_what_a_numbered_page_costs(shop, erp):
    shop.product("A-1")
    for _ in range(4):
        placed(shop)
    erp.get(ORDERS)  # the key's "last used": not measured
    with CaptureQueriesContext(connection) as queries:
        page = erp.get(ORDERS, {"cursor": "", "page_size": 2}).json()
    assert len(page["results"]) == 2 and page["next"]
    assert len(queries) == 4  # the key, count, orders with their dealers, lines


# --- POST orders/{number}/status: the ERP's moves -------------------------------------------


def test_erp_moves_an_order_through_fulfilment_and_shipping_makes_the_sale(shop, erp):
    shop.product("A-1", stock=10)
    order = placed(shop, [("A-1", 4)])
    assert (level(shop, "A-1").on_hand, level(shop, "A-1").reserved) == (10, 4)

    response = post_status(erp, order, "processing", note="Picking started")
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["changed"]) == ("processing", True)

    response = post_status(erp, order, "shipped", tracking_number="TRK-1", carrier="Yurtiçi")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["tracking_number"], body["carrier"]) == (
        "shipped",
        "TRK-1",
        "Yurtiçi",
    )
    assert body["shipped_at"] is not None
    stock = level(shop, "A-1")
    assert (stock.on_hand, stock.reserved) == (6, 0)
    sale = StockMovement.objects.get(reference=f"order:{order.number}", kind="sale")
    assert sale.quantity == -4

    response = post_status(erp, order, "delivered")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "delivered"
    order.refresh_from_db()
    assert order.status == S.DELIVERED and order.delivered_at is not None
    assert response.json()["delivered_at"] is not None

    history = list(order.status_history.order_by("id").values_list("to_status", "actor", "note"))
    assert history == [
        ("confirmed", "dealer", history[0][2]),
        ("processing", "erp", "Picking started"),
        ("shipped", "erp", ""),
        ("delivered", "erp", ""),
    ]
    assert order.status_history.filter(actor="erp", changed_by__isnull=True).count() == 3
    events = OutboxEvent.objects.filter(type="order.status_changed").order_by("id")
    assert [(e.data["previous_status"], e.data["status"]) for e in events] == [
        ("confirmed", "processing"),
        ("processing", "shipped"),
        ("shipped", "delivered"),
    ]
    assert {e.subject for e in events} == {f"order:{order.number}"}
    assert events[1].data["tracking_number"] == "TRK-1"


def test_each_erp_status_change_records_the_connectors_key(shop, erp, integration_client):
    """DESIGN.md: every status change records who. For the ERP that is the API key it called
    with: with several connectors, the history tells which one moved the order."""
    shop.product("A-1", stock=10)
    order = placed(shop, [("A-1", 1)])
    other = integration_client(scopes=["orders:write"], name="Warehouse connector")

    assert post_status(erp, order, "processing").status_code == 200
    assert post_status(other, order, "shipped").status_code == 200

    steps = order.status_history.order_by("created_at", "id")
    assert [(s.to_status, s.actor, s.api_key) for s in steps][-2:] == [
        ("processing", "erp", erp.api_key),
        ("shipped", "erp", other.api_key),
    ]
    assert steps.first().api_key is None  # placed by the dealer


def test_erp_cancels_a_confirmed_or_processing_order_and_the_reservation_is_released(shop, erp):
    shop.product("A-1", stock=10)
    confirmed = placed(shop, [("A-1", 3)])
    processing = moved(placed(shop, [("A-1", 2)]), "processing")
    assert level(shop, "A-1").reserved == 5

    for order in (confirmed, processing):
        response = post_status(erp, order, "cancelled", note="Out of stock at the ERP")
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == "cancelled"
        assert response.json()["cancelled_at"] is not None

    stock = level(shop, "A-1")
    assert (stock.on_hand, stock.reserved) == (10, 0)
    assert StockMovement.objects.filter(kind="release").count() == 2
    assert OutboxEvent.objects.filter(type="order.cancelled").count() == 2
    change = confirmed.status_history.get(to_status="cancelled")
    assert (change.actor, change.note) == ("erp", "Out of stock at the ERP")


@pytest.mark.parametrize(
    ("path", "to"),
    [
        ((), "delivered"),  # confirmed -> delivered skips shipping
        ((), "shipped"),  # confirmed -> shipped skips processing
        (("processing", "shipped"), "cancelled"),  # nobody cancels after shipping
        (("processing", "shipped"), "processing"),
        (("processing", "shipped", "delivered"), "shipped"),
        (("cancelled",), "confirmed"),
        ((), "awaiting_payment"),
        ((), "rejected"),
    ],
)
def test_forbidden_moves_are_409_and_change_nothing(shop, erp, path, to):
    shop.product("A-1", stock=10)
    order = moved(placed(shop, [("A-1", 2)]), *path)
    before = state(order)

    shipment = {"tracking_number": "TRK-NEW", "carrier": "Other"}
    response = post_status(erp, order, to, **(shipment if to in SHIPMENT_STATUSES else {}))

    assert response.status_code == 409, response.json()
    body = response.json()
    assert body["code"] == "invalid_transition"
    assert body["status"] == order.status
    assert to not in body["allowed"]
    assert state(order) == before  # not even the tracking number


@pytest.mark.parametrize(
    ("path", "to"),
    [
        (("cancelled",), "cancelled"),  # its own status again
        ((), "confirmed"),
        (("processing",), "cancelled"),  # a move the machine allows, but not a shipment
    ],
)
def test_a_tracking_number_goes_with_a_shipment_only(shop, erp, path, to):
    """Sending a cancelled order's status again with a tracking number answered 200
    ``changed: false`` and stored it: shipment data on an order that never ships, with no
    history and no event."""
    shop.product("A-1", stock=10)
    order = moved(placed(shop, [("A-1", 2)]), *path)
    before, events = state(order), OutboxEvent.objects.count()

    response = post_status(erp, order, to, tracking_number="TRK-CXL", carrier="Aras")

    assert response.status_code == 400, response.json()
    assert set(response.json()["errors"]) == {"tracking_number", "carrier"}
    assert state(order) == before and OutboxEvent.objects.count() == events
    carrier_only = post_status(erp, order, to, carrier="Aras")
    assert set(carrier_only.json()["errors"]) == {"carrier"}


def test_a_tracking_number_sent_again_with_shipped_is_recorded(shop, erp):
    shop.product("A-1", stock=10)
    order = moved(placed(shop, [("A-1", 2)]), "processing", "shipped")
    response = post_status(erp, order, "shipped", tracking_number="TRK-2", carrier="Aras")
    assert response.status_code == 200 and response.json()["changed"] is False
    order.refresh_from_db()
    assert (order.tracking_number, order.carrier) == ("TRK-2", "Aras")


@pytest.mark.parametrize("tracking", ["TR\u200b1", "TR\u00a01", "TR-\u0661"])
def test_a_tracking_number_holds_nothing_invisible_or_look_alike(shop, erp, tracking):
    """The dealer copies it into the carrier's page: a zero-width space, a no-break space
    or an Arabic digit in it was stored and shown, and the carrier found nothing."""
    shop.product("A-1", stock=10)
    order = moved(placed(shop, [("A-1", 2)]), "processing")
    before = state(order)
    response = post_status(erp, order, "shipped", tracking_number=tracking, carrier="Aras")
    assert response.status_code == 400 and set(response.json()["errors"]) == {"tracking_number"}
    assert state(order) == before


def test_the_erp_cannot_decide_credit_approval(shop, erp):
    shop.product("A-1", price="1000")
    shop.customer.credit_limit = D("0.00")
    shop.customer.save()
    order = placed(shop, [("A-1", 1)])
    assert order.status == S.AWAITING_CREDIT_APPROVAL
    before = state(order)

    for to in ("confirmed", "rejected", "processing"):
        response = post_status(erp, order, to)
        assert response.status_code == 409
        assert response.json()["code"] == "invalid_transition"
        assert response.json()["allowed"] == []
    assert state(order) == before


def test_the_same_status_again_is_200_changed_false_and_records_nothing_new(shop, erp):
    shop.product("A-1", stock=10)
    order = placed(shop, [("A-1", 2)])
    assert post_status(erp, order, "processing").json()["changed"] is True
    history, events = order.status_history.count(), OutboxEvent.objects.count()

    response = post_status(erp, order, "processing")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["changed"]) == ("processing", False)
    assert order.status_history.count() == history
    assert OutboxEvent.objects.count() == events


def test_a_tracking_number_sent_again_with_the_same_status_is_recorded(shop, erp):
    shop.product("A-1", stock=10)
    order = moved(placed(shop, [("A-1", 2)]), "processing", "shipped")

    response = post_status(erp, order, "shipped", tracking_number="TRK-LATE", carrier="MNG")

    assert response.status_code == 200
    assert response.json()["changed"] is False
    assert (response.json()["tracking_number"], response.json()["carrier"]) == ("TRK-LATE", "MNG")
    assert StockMovement.objects.filter(kind="sale").count() == 1  # not sold twice


def test_unknown_order_is_404(shop, erp):
    response = erp.post(status_url("SO-1999-999999"), {"status": "processing"}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "status"),
        ([], "non_field_errors"),
        ({"status": "lost"}, "status"),
        ({"status": "processing", "tracking_number": "x" * 65}, "tracking_number"),
        ({"status": "processing", "carrier": "x" * 65}, "carrier"),
        ({"status": "processing", "tracking_number": "TR\t123"}, "tracking_number"),
        ({"status": "processing", "carrier": "Yurti\nçi"}, "carrier"),
        ({"status": "processing", "note": "x" * 1001}, "note"),
        ({"status": "processing", "grand_total": "0.00"}, "grand_total"),
        ({"status": "processing", "serial_numbers": {"A-1": ["SN1"]}}, "serial_numbers"),
        ({"status": "shipped", "serial_numbers": ["SN1"]}, "serial_numbers"),
        ({"status": "shipped", "serial_numbers": {"A-1": "SN1"}}, "serial_numbers.A-1"),
    ],
)
def test_bad_body_is_400_with_field_errors_and_changes_nothing(shop, erp, body, field):
    shop.product("A-1", stock=10)
    order = moved(placed(shop, [("A-1", 2)]), "processing")
    before = state(order)

    response = erp.post(status_url(order.number), body, format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    assert state(order) == before


def test_null_optional_fields_are_as_if_absent(shop, erp):
    shop.product("A-1", stock=10)
    order = placed(shop, [("A-1", 2)])
    response = post_status(
        erp, order, "processing", tracking_number=None, carrier=None, note=None, serial_numbers=None
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "processing"


def test_idempotency_key_replays_the_first_answer(shop, erp):
    shop.product("A-1", stock=10)
    order = placed(shop, [("A-1", 2)])

    def send(body):
        return erp.post(
            status_url(order.number), body, format="json", HTTP_IDEMPOTENCY_KEY="erp-42"
        )

    first = send({"status": "processing"})
    again = send({"status": "processing"})
    other = send({"status": "cancelled"})

    assert first.status_code == again.status_code == 200
    assert first.json()["changed"] is True and again.json()["changed"] is True  # the replay
    assert again["Idempotent-Replayed"] == "true"
    assert other.status_code == 409
    assert order.status_history.filter(to_status="processing").count() == 1
    assert Order.objects.get(pk=order.pk).status == S.PROCESSING


def test_a_refused_call_can_be_retried_with_its_idempotency_key(shop, erp):
    shop.product("A-1", stock=10)
    order = placed(shop, [("A-1", 2)])
    headers = {"HTTP_IDEMPOTENCY_KEY": "erp-43"}
    body = {"status": "shipped"}

    refused = erp.post(status_url(order.number), body, format="json", **headers)
    moved(order, "processing")
    retried = erp.post(status_url(order.number), body, format="json", **headers)

    assert refused.status_code == 409
    assert retried.status_code == 200 and retried.json()["status"] == "shipped"


# --- serial-tracked products ---------------------------------------------------------------


@pytest.fixture
def tracked(shop):
    """A processing order of 2 units of a serial-tracked product with 3 serials in stock."""
    product = shop.product("SN-CAM", stock=3, serial_tracked=True)
    serials = [
        SerialNumberFactory(product=product, warehouse=shop.warehouse, serial=name)
        for name in ("CAM-001", "CAM-002", "CAM-003")
    ]
    order = moved(placed(shop, [("SN-CAM", 2)]), "processing")
    return order, serials


def test_serials_given_are_recorded_on_the_line_and_sold(shop, erp, tracked):
    order, _serials = tracked

    response = post_status(
        erp,
        order,
        "shipped",
        tracking_number="T",
        serial_numbers={"SN-CAM": ["CAM-003", "CAM-001"]},
    )

    assert response.status_code == 200, response.json()
    assert response.json()["lines"][0]["serial_numbers"] == ["CAM-003", "CAM-001"]
    sold = SerialNumber.objects.filter(status="sold").values_list("serial", "reference")
    assert set(sold) == {
        ("CAM-001", f"order:{order.number}"),
        ("CAM-003", f"order:{order.number}"),
    }
    assert SerialNumber.objects.get(serial="CAM-002").status == "in_stock"


def test_shipped_again_with_the_same_serials_is_unchanged_with_others_a_409(shop, erp, tracked):
    """The units that left are recorded: naming them again is the idempotent repeat; naming
    others is refused, not answered 200 with the correction silently dropped."""
    order, _serials = tracked
    given = {"SN-CAM": ["CAM-003", "CAM-001"]}
    assert post_status(erp, order, "shipped", serial_numbers=given).status_code == 200

    again = post_status(erp, order, "shipped", serial_numbers={"SN-CAM": ["CAM-001", "CAM-003"]})
    assert again.status_code == 200 and again.json()["changed"] is False

    other = post_status(erp, order, "shipped", serial_numbers={"SN-CAM": ["CAM-001", "CAM-002"]})
    assert other.status_code == 409 and other.json()["code"] == "serials_recorded"
    assert "SN-CAM" in other.json()["detail"]
    assert SerialNumber.objects.get(serial="CAM-002").status == "in_stock"


def test_without_serials_the_oldest_in_stock_are_taken(shop, erp, tracked):
    order, _serials = tracked

    response = post_status(erp, order, "shipped")

    assert response.status_code == 200, response.json()
    assert response.json()["lines"][0]["serial_numbers"] == ["CAM-001", "CAM-002"]
    assert SerialNumber.objects.get(serial="CAM-003").status == "in_stock"


def test_serials_leave_from_the_warehouse_whose_units_ship(shop, erp):
    """The units come from Istanbul (first in order); Ankara's serials are older. Ankara's
    were marked sold: each warehouse's serials then disagreed with its stock for good, and
    neither the ERP's feed nor staff could set them right."""
    from tests.catalog.factories import StockLevelFactory, WarehouseFactory

    ankara = WarehouseFactory(code="ANK", sort_order=shop.warehouse.sort_order + 10)
    product = shop.product("SN-TV", stock=2, serial_tracked=True)
    StockLevelFactory(product=product, warehouse=ankara, on_hand=2)
    for warehouse, names in ((ankara, ("ANK-1", "ANK-2")), (shop.warehouse, ("IST-1", "IST-2"))):
        for name in names:
            SerialNumberFactory(product=product, warehouse=warehouse, serial=name)
    first = moved(placed(shop, [("SN-TV", 1)]), "processing")
    second = moved(placed(shop, [("SN-TV", 1)]), "processing")

    named = post_status(erp, first, "shipped", serial_numbers={"SN-TV": ["ANK-1"]})
    assert named.status_code == 400, named.json()
    assert "IST" in named.json()["errors"]["serial_numbers.SN-TV"][0]
    chosen = post_status(erp, first, "shipped")
    assert chosen.status_code == 200, chosen.json()
    assert chosen.json()["lines"][0]["serial_numbers"] == ["IST-1"]
    again = post_status(erp, second, "shipped", serial_numbers={"SN-TV": ["IST-2"]})
    assert again.status_code == 200, again.json()
    in_stock = SerialNumber.objects.filter(status="in_stock").values_list("serial", flat=True)
    assert sorted(in_stock) == ["ANK-1", "ANK-2"]


@pytest.mark.parametrize(
    ("serial_numbers", "field"),
    [
        ({"SN-CAM": ["CAM-001"]}, "serial_numbers.SN-CAM"),  # one short
        ({"SN-CAM": ["CAM-001", "NOPE-9"]}, "serial_numbers.SN-CAM"),  # unknown
        ({"SN-CAM": ["CAM-001", "CAM-001"]}, "serial_numbers.SN-CAM"),  # twice
        ({"SN-CAM": ["CAM-001", "CAM-002"], "OTHER": ["X"]}, "serial_numbers"),  # not ordered
        ({"SN-CAM": ["CAM-001", 2]}, "serial_numbers.SN-CAM.1"),  # a number, not a serial
    ],
)
def test_wrong_serials_are_400_and_nothing_ships(shop, erp, tracked, serial_numbers, field):
    order, _serials = tracked
    before = state(order)

    response = post_status(erp, order, "shipped", serial_numbers=serial_numbers)

    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    assert state(order) == before
    assert not SerialNumber.objects.filter(status="sold").exists()


def test_a_sold_serial_cannot_ship_again(shop, erp, tracked):
    order, _serials = tracked
    SerialNumber.objects.filter(serial="CAM-002").update(status="sold", reference="order:OTHER")

    response = post_status(erp, order, "shipped", serial_numbers={"SN-CAM": ["CAM-001", "CAM-002"]})

    assert response.status_code == 400
    assert "serial_numbers.SN-CAM" in response.json()["errors"]
    assert Order.objects.get(pk=order.pk).status == S.PROCESSING
