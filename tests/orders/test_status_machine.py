"""The status machine (DESIGN.md "Orders"): every transition in one table, the dealer's
decisions over HTTP, the side effects on stock, the history and the outbox."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from apps.core.exceptions import Conflict
from apps.core.models import OutboxEvent
from apps.inventory.models import StockLevel, StockMovement
from apps.orders import services
from apps.orders.models import Order
from apps.orders.models import OrderStatus as S
from apps.orders.states import DEALER, ERP, STAFF, SYSTEM, TRANSITIONS, allowed
from tests.orders.conftest import place

pytestmark = [pytest.mark.django_db]

D = Decimal


def test_the_table_follows_the_design_rules():
    """Dealers cancel while awaiting_* or confirmed; staff also while processing; nobody after
    shipping; fulfilment is staff or ERP; credit decisions are staff."""
    for status in (
        S.AWAITING_APPROVAL,
        S.AWAITING_CREDIT_APPROVAL,
        S.AWAITING_PAYMENT,
        S.CONFIRMED,
    ):
        assert allowed(status, S.CANCELLED, DEALER)
        assert allowed(status, S.CANCELLED, STAFF)
    assert not allowed(S.PROCESSING, S.CANCELLED, DEALER)
    assert allowed(S.PROCESSING, S.CANCELLED, STAFF)
    for status in (S.SHIPPED, S.DELIVERED, S.CANCELLED, S.REJECTED):
        assert not any(
            allowed(status, S.CANCELLED, actor) for actor in (DEALER, STAFF, ERP, SYSTEM)
        )
    assert allowed(S.CONFIRMED, S.PROCESSING, ERP) and not allowed(
        S.CONFIRMED, S.PROCESSING, DEALER
    )
    assert not allowed(S.CONFIRMED, S.SHIPPED, STAFF)  # confirmed -> processing -> shipped
    assert allowed(S.AWAITING_CREDIT_APPROVAL, S.CONFIRMED, STAFF)
    assert not allowed(S.AWAITING_CREDIT_APPROVAL, S.CONFIRMED, DEALER)
    assert not allowed(S.AWAITING_CREDIT_APPROVAL, S.CONFIRMED, ERP)
    finals = {frm for frm, _to in TRANSITIONS} & {S.DELIVERED, S.CANCELLED, S.REJECTED}
    assert finals == set()  # nothing leaves a final status


@pytest.fixture
def stocked(shop):
    shop.product("A-1", price="100", stock=20)
    return shop


def reserved():
    return StockLevel.objects.get(product__sku="A-1").reserved


def test_dealer_cancels_a_confirmed_order_and_the_reservation_is_released(stocked):
    number = place(stocked.owner, [("A-1", 5)]).json()["number"]
    assert reserved() == 5
    response = stocked.owner.post(f"/api/v1/orders/{number}/cancel", {"reason": "Mistake"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "cancelled" and body["cancelled_at"]
    assert reserved() == 0
    assert StockMovement.objects.filter(reference=f"order:{number}", kind="release").exists()
    last = body["status_history"][-1]
    assert (last["from"], last["to"], last["note"], last["actor"]) == (
        "confirmed",
        "cancelled",
        "Mistake",
        "dealer",
    )
    # who and when (DESIGN.md: every status change records who, when, from, to, note)
    assert last["by"] == stocked.owner.user.get_full_name()  # the person, by name
    assert last["at"] == body["cancelled_at"]
    assert OutboxEvent.objects.filter(type="order.cancelled", subject=f"order:{number}").exists()


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}])
def test_a_dealer_cancelling_says_why_or_nothing_changes(stocked, body):
    """API.md: ``POST orders/{number}/cancel {reason}`` (no ``?``): the reason is required."""
    number = place(stocked.owner, [("A-1", 5)]).json()["number"]
    response = stocked.owner.post(f"/api/v1/orders/{number}/cancel", body, format="json")
    assert response.status_code == 400, response.content
    assert "reason" in response.json()["errors"]
    assert Order.objects.get(number=number).status == "confirmed"
    assert reserved() == 5


def test_a_dealer_cannot_cancel_an_order_the_erp_invoiced_but_staff_can(stocked):
    """The invoice is on the dealer's account: cancelling the order takes a credit note, which
    the distributor's staff arrange; the dealer gets 409 ``order_invoiced``, nothing changes."""
    from django.utils import timezone

    number = place(stocked.owner, [("A-1", 5)]).json()["number"]
    Order.objects.filter(number=number).update(invoiced_at=timezone.now())  # the ERP's invoice
    response = stocked.owner.post(f"/api/v1/orders/{number}/cancel", {"reason": "Not needed"})
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "order_invoiced"
    assert Order.objects.get(number=number).status == "confirmed" and reserved() == 5
    order = services.order_cancel(
        order=Order.objects.get(number=number), by=None, reason="Credit note 123", actor=STAFF
    )
    assert order.status == "cancelled" and reserved() == 0


def test_dealer_cannot_cancel_once_processing_and_nothing_changes(stocked):
    number = place(stocked.owner, [("A-1", 5)]).json()["number"]
    order = Order.objects.get(number=number)
    services.order_set_status(order=order, status="processing", actor=STAFF)
    response = stocked.owner.post(f"/api/v1/orders/{number}/cancel", {"reason": "Too late"})
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert Order.objects.get(number=number).status == "processing"
    assert reserved() == 5


def test_staff_may_cancel_while_processing_but_nobody_after_shipping(stocked):
    # processing: the dealer may no longer cancel, staff may (the reservation is released)
    first = Order.objects.get(number=place(stocked.owner, [("A-1", 2)]).json()["number"])
    services.order_set_status(order=first, status="processing", actor=STAFF)
    refused = stocked.owner.post(f"/api/v1/orders/{first.number}/cancel", {"reason": "Late"})
    assert refused.status_code == 409 and refused.json()["code"] == "invalid_transition"
    assert reserved() == 2
    services.order_cancel(order=first, by=None, actor=STAFF, reason="Out of stock at supplier")
    first.refresh_from_db()
    assert first.status == "cancelled" and reserved() == 0

    number = place(stocked.owner, [("A-1", 5)]).json()["number"]
    order = Order.objects.get(number=number)
    services.order_set_status(order=order, status="processing", actor=STAFF)
    services.order_set_status(order=order, status="shipped", actor=STAFF, tracking_number="T1")
    with pytest.raises(Conflict):
        services.order_cancel(order=order, by=None, actor=STAFF)
    level = StockLevel.objects.get(product__sku="A-1")
    assert (level.on_hand, level.reserved) == (15, 0)  # shipping made it a sale
    assert StockMovement.objects.filter(reference=f"order:{number}", kind="sale").exists()
    services.order_set_status(order=order, status="delivered", actor=ERP)
    order.refresh_from_db()
    assert order.status == "delivered" and order.delivered_at is not None
    assert order.tracking_number == "T1" and order.shipped_at is not None


def test_owner_approves_an_order_over_the_users_limit_and_the_chain_continues(stocked):
    buyer = stocked.client("purchasing", order_limit=D("100.00"))
    number = place(buyer, [("A-1", 2)]).json()["number"]  # 240 gross
    assert Order.objects.get(number=number).status == "awaiting_approval"
    assert buyer.post(f"/api/v1/orders/{number}/approve").status_code == 403  # not an owner
    response = stocked.owner.post(f"/api/v1/orders/{number}/approve")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "confirmed"
    order = Order.objects.get(number=number)
    assert order.approved_by == stocked.owner.user and order.approved_at


def test_approval_runs_the_credit_check(stocked):
    stocked.customer.credit_limit = D("100.00")
    stocked.customer.save()
    buyer = stocked.client("purchasing", order_limit=D("100.00"))
    number = place(buyer, [("A-1", 2)]).json()["number"]
    body = stocked.owner.post(f"/api/v1/orders/{number}/approve").json()
    assert body["status"] == "awaiting_credit_approval"


def test_owner_rejects_with_a_reason_and_the_reservation_is_released(stocked):
    buyer = stocked.client("purchasing", order_limit=D("1.00"))
    number = place(buyer, [("A-1", 3)]).json()["number"]
    response = stocked.owner.post(f"/api/v1/orders/{number}/reject", {})
    assert response.status_code == 400 and "reason" in response.json()["errors"]
    response = stocked.owner.post(f"/api/v1/orders/{number}/reject", {"reason": "Too much"})
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert reserved() == 0


def test_approve_of_an_order_not_awaiting_approval_is_409(stocked):
    number = place(stocked.owner, [("A-1", 1)]).json()["number"]
    response = stocked.owner.post(f"/api/v1/orders/{number}/approve")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "invalid_transition" and body["status"] == "confirmed"
    # says what is wrong (it used to say a confirmed order "cannot become confirmed")
    assert body["detail"] == f"Order {number} is not waiting for approval: it is confirmed."
    assert Order.objects.get(number=number).status == "confirmed"


def test_finance_staff_decide_credit_approval(stocked):
    stocked.customer.credit_limit = D("0.00")
    stocked.customer.save()
    first = Order.objects.get(number=place(stocked.owner, [("A-1", 1)]).json()["number"])
    second = Order.objects.get(number=place(stocked.owner, [("A-1", 2)]).json()["number"])
    assert first.status == second.status == "awaiting_credit_approval"
    services.order_credit_approve(order=first, by=None)
    services.order_credit_reject(order=second, by=None, reason="Overdue invoices")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("confirmed", "rejected")
    assert reserved() == 1  # the rejected order gave its 2 back


def test_card_payment_confirmation_moves_awaiting_payment_to_confirmed(stocked):
    order = Order.objects.get(number=place(stocked.owner, [("A-1", 1)], "card").json()["number"])
    services.order_payment_confirmed(order=order)
    order.refresh_from_db()
    assert order.status == "confirmed" and order.confirmed_at


def test_every_change_is_in_the_history_and_the_outbox(stocked):
    number = place(stocked.owner, [("A-1", 1)]).json()["number"]
    order = Order.objects.get(number=number)
    for status in ("processing", "shipped", "delivered"):
        services.order_set_status(order=order, status=status, actor=ERP, note=f"to {status}")
    body = stocked.owner.get(f"/api/v1/orders/{number}").json()
    assert [(h["from"], h["to"]) for h in body["status_history"]] == [
        (None, "confirmed"),
        ("confirmed", "processing"),
        ("processing", "shipped"),
        ("shipped", "delivered"),
    ]
    events = OutboxEvent.objects.filter(type="order.status_changed", subject=f"order:{number}")
    assert [e.data["status"] for e in events.order_by("id")] == [
        "processing",
        "shipped",
        "delivered",
    ]


def test_the_same_status_again_changes_nothing(stocked):
    order = Order.objects.get(number=place(stocked.owner, [("A-1", 1)]).json()["number"])
    services.order_set_status(order=order, status="processing", actor=ERP)
    _order, changed = services.order_set_status(order=order, status="processing", actor=ERP)
    assert changed is False
    assert order.status_history.count() == 2


def test_reorder_copies_the_lines_into_the_cart_and_reports_what_cannot_be_sold(stocked):
    stocked.product("A-2", price="5")
    number = place(stocked.owner, [("A-1", 2), ("A-2", 3)]).json()["number"]
    product = stocked.products["A-2"]
    product.is_active = False
    product.save()
    response = stocked.owner.post(f"/api/v1/orders/{number}/reorder")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["added"] == [{"sku": "A-1", "quantity": 2}]
    assert [s["sku"] for s in body["skipped"]] == ["A-2"]
    assert [(line["sku"], line["quantity"]) for line in body["cart"]["lines"]] == [("A-1", 2)]


def test_orders_list_filters_and_validates(stocked):
    place(stocked.owner, [("A-1", 1)])
    buyer = stocked.client("purchasing", order_limit=D("1.00"))
    place(buyer, [("A-1", 1)])
    listed = stocked.owner.get("/api/v1/orders").json()
    assert listed["count"] == 2
    waiting = stocked.owner.get("/api/v1/orders?status=awaiting_approval").json()
    assert waiting["count"] == 1
    assert stocked.owner.get("/api/v1/orders?status=nope").status_code == 400
    for day in ("2026-13-01", "2026-1-1", "２026-01-01", "2026-01-01T00:00"):
        response = stocked.owner.get(f"/api/v1/orders?created_from={day}")
        assert response.status_code == 400 and "created_from" in response.json()["errors"], day
    assert stocked.owner.get("/api/v1/orders?created_to=2000-01-01").json()["count"] == 0
    viewer = stocked.client("viewer")
    assert viewer.get("/api/v1/orders").json()["count"] == 2  # read only, the whole company


def test_order_list_days_are_the_distributors_days_not_utcs(stocked):
    # given: an order placed at 01:30 in Istanbul on 6 December (22:30 UTC on the 5th); the
    # API answers in UTC, but a day in a filter is a business day (apps.core.clock)
    number = place(stocked.owner, [("A-1", 1)]).json()["number"]
    Order.objects.filter(number=number).update(
        created_at=datetime.datetime(2026, 12, 5, 22, 30, tzinfo=datetime.UTC)
    )

    def listed(query):
        response = stocked.owner.get(f"/api/v1/orders?{query}")
        assert response.status_code == 200, response.json()
        return [order["number"] for order in response.json()["results"]]

    # then: it is on the 6th, from the first minute to the last, and not on the 5th
    assert listed("created_from=2026-12-06&created_to=2026-12-06") == [number]
    assert listed("created_from=2026-12-05&created_to=2026-12-05") == []
    assert listed("created_to=2026-12-05") == []
    assert listed("created_from=2026-12-07") == []
    # and the calendar's ends are bounds like any other, not a 500
    assert listed("created_from=0001-01-01&created_to=9999-12-31") == [number]
    assert listed("created_from=9999-12-31") == []
    assert listed("created_to=0001-01-01") == []


def test_a_credit_decision_needs_an_order_waiting_for_one(stocked):
    order = Order.objects.get(number=place(stocked.owner, [("A-1", 1)], "card").json()["number"])
    with pytest.raises(Conflict):
        services.order_credit_approve(order=order, by=None)
    with pytest.raises(Conflict):
        services.order_credit_reject(order=order, by=None, reason="No")
    order.refresh_from_db()
    assert order.status == "awaiting_payment"


def test_order_list_filters_refuse_bad_values_with_the_field_and_its_message(stocked):
    # given: the FilterSet (apps/orders/api/filters.py) answers as the old serializer did
    bad_status = stocked.owner.get("/api/v1/orders?status=nope")
    assert bad_status.status_code == 400
    assert bad_status.json()["errors"]["status"] == ['"nope" is not a valid choice.']
    bad_date = stocked.owner.get("/api/v1/orders?created_from=2026-02-30")
    assert bad_date.json()["errors"]["created_from"] == [
        "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
    ]
    backwards = stocked.owner.get("/api/v1/orders?created_from=2026-02-02&created_to=2026-02-01")
    assert backwards.status_code == 400
    assert backwards.json()["errors"]["created_to"] == ["Must not be before the start date."]
    # an empty filter is no filter
    assert stocked.owner.get("/api/v1/orders?status=&created_to=").status_code == 200


# an action that takes no input refuses a body before it acts, as every endpoint refuses what
# it does not accept: nothing changes
NOT_NOTHING = [
    (b'{"a":', "parse_error"),  # not JSON
    (b'{"note": "x"}', "unknown_field"),  # a field it does not take
    (b"[1]", "invalid"),  # not an object
    (b'{"\\ud800": "\\u0000"}', "unknown_field"),  # a field name UTF-8 cannot encode
]


def _action(client, url, body: bytes):
    return client.generic("POST", url, body, content_type="application/json")


@pytest.mark.parametrize(("body", "code"), NOT_NOTHING)
def test_approve_refuses_a_body_and_changes_nothing(stocked, body, code):
    buyer = stocked.client("purchasing", order_limit=D("100.00"))
    number = place(buyer, [("A-1", 2)]).json()["number"]
    response = _action(stocked.owner, f"/api/v1/orders/{number}/approve", body)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    assert Order.objects.get(number=number).status == "awaiting_approval"
    # no body, or an empty object, is the action
    assert _action(stocked.owner, f"/api/v1/orders/{number}/approve", b"{}").status_code == 200


@pytest.mark.parametrize(("body", "code"), NOT_NOTHING)
def test_reorder_refuses_a_body_and_adds_nothing(stocked, body, code):
    number = place(stocked.owner, [("A-1", 2)]).json()["number"]
    response = _action(stocked.owner, f"/api/v1/orders/{number}/reorder", body)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    assert stocked.owner.get("/api/v1/cart").json()["lines"] == []
    assert stocked.owner.post(f"/api/v1/orders/{number}/reorder").status_code == 200
