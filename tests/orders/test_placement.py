"""Placement (DESIGN.md "Orders", "Placement"): prices recomputed by the engine, addresses of
the company only, stock reserved all or nothing (409 per line), the approval chain, roles,
idempotency and order numbers."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from apps.core.models import OutboxEvent
from apps.inventory.models import StockLevel, StockMovement
from apps.orders.models import Order
from apps.pricing.models import SpecialPrice
from tests.factories import AddressFactory
from tests.orders.conftest import place

pytestmark = [pytest.mark.django_db]

D = Decimal


def test_placement_prices_lines_with_the_engine_and_sums_rounded_lines(shop):
    shop.product("A-1", price="10.3333", vat_rate=20)
    shop.product("A-2", price="0.0050", vat_rate=1)
    SpecialPrice.objects.create(
        customer=shop.customer, product=shop.products["A-2"], amount=D("0.0049")
    )
    response = place(shop.owner, [("A-1", 3), ("A-2", 7)])
    assert response.status_code == 201, response.json()
    body = response.json()
    lines = {line["sku"]: line for line in body["lines"]}
    # line net = round2(unit * q); line VAT = round2(net * rate / 100)
    assert lines["A-1"]["unit_net"] == "10.3333" and lines["A-1"]["line_net"] == "31.00"
    assert lines["A-1"]["line_vat"] == "6.20" and lines["A-1"]["line_gross"] == "37.20"
    assert lines["A-2"]["source"] == "special" and lines["A-2"]["line_net"] == "0.03"
    assert lines["A-2"]["line_vat"] == "0.00"
    assert body["subtotal_net"] == "31.03" and body["vat_total"] == "6.20"
    assert body["grand_total"] == "37.23" and body["currency"] == "TRY"
    assert body["status"] == "confirmed"
    assert re.fullmatch(r"SO-\d{4}-\d{6}", body["number"])
    assert [h["to"] for h in body["status_history"]] == ["confirmed"]


def test_a_company_suspended_while_its_order_was_on_the_way_places_nothing(shop):
    """The sign-in gates (API, portal) refuse a suspended company; a suspension landing while
    a request is already past them is read under the company's lock: nothing is placed."""
    from apps.core.exceptions import NotAllowed
    from apps.orders.services.placement import order_place

    shop.product("A-1")
    shop.customer.status = "suspended"
    shop.customer.save(update_fields=["status"])
    with pytest.raises(NotAllowed) as refused:
        order_place(
            user=shop.owner.user,
            payment_method="on_account",
            items=[{"sku": "A-1", "quantity": 1}],
        )
    assert refused.value.code == "customer_inactive"
    assert not Order.objects.exists()
    assert StockLevel.objects.get(product__sku="A-1").reserved == 0


def test_prices_sent_by_the_client_are_refused(shop):
    shop.product("A-1")
    response = shop.owner.post(
        "/api/v1/orders",
        {"payment_method": "on_account", "items": [{"sku": "A-1", "quantity": 1, "unit_net": "1"}]},
        format="json",
    )
    assert response.status_code == 400
    assert "items.0.unit_net" in response.json()["errors"]
    assert not Order.objects.exists()


def test_stock_is_reserved_for_every_line(shop):
    shop.product("A-1", stock=10)
    shop.product("A-2", stock=5)
    number = place(shop.owner, [("A-1", 4), ("A-2", 5)]).json()["number"]
    levels = dict(StockLevel.objects.values_list("product__sku", "reserved"))
    assert levels == {"A-1": 4, "A-2": 5}
    assert (
        StockMovement.objects.filter(reference=f"order:{number}", kind="reservation").count() == 2
    )


def test_a_short_line_fails_the_whole_order_with_409_per_line_and_changes_nothing(shop):
    shop.product("A-1", stock=10)
    shop.product("A-2", stock=2)
    shop.product("A-3", stock=0)
    response = place(shop.owner, [("A-1", 4), ("A-2", 5), ("A-3", 1)])
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "insufficient_stock"
    short = {(line["sku"], line["requested"], line["available"]) for line in body["lines"]}
    assert short == {("A-2", 5, 2), ("A-3", 1, 0)}
    assert not Order.objects.exists()
    assert set(StockLevel.objects.values_list("reserved", flat=True)) == {0}
    assert not StockMovement.objects.exists()
    assert not OutboxEvent.objects.filter(type="order.created").exists()


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([("NOPE", 1)], "items.0.sku"),
        ([("A-1", 0)], "items.0.quantity"),
        ([("A-1", 1), ("A-1", 2)], "items.1.sku"),
        ([("A-MOQ", 2)], "items.0.quantity"),
        ([("A-MULT", 7)], "items.0.quantity"),
        ([("A-NOPRICE", 1)], "items.0.sku"),
    ],
)
def test_bad_lines_are_400_per_line_and_change_nothing(shop, items, field):
    shop.product("A-1")
    shop.product("A-MOQ", min_order_quantity=5)
    shop.product("A-MULT", order_multiple=6)
    shop.product("A-NOPRICE", price=None)
    response = place(shop.owner, items)
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert not Order.objects.exists()
    assert set(StockLevel.objects.values_list("reserved", flat=True)) == {0}


def test_addresses_must_belong_to_the_company(shop):
    shop.product("A-1")
    foreign = AddressFactory(type="shipping")  # another company's
    response = place(shop.owner, [("A-1", 1)], shipping_address_id=foreign.pk)
    assert response.status_code == 400
    assert "shipping_address_id" in response.json()["errors"]
    response = place(shop.owner, [("A-1", 1)], billing_address_id=shop.shipping.pk)  # wrong type
    assert response.status_code == 400
    assert "billing_address_id" in response.json()["errors"]
    assert not Order.objects.exists()


def test_addresses_are_copied_onto_the_order(shop):
    shop.product("A-1")
    body = place(shop.owner, [("A-1", 1)], po_number="PO-9", note="Gate 3").json()
    assert body["shipping_address"]["id"] == shop.shipping.pk
    assert body["billing_address"]["line1"] == shop.billing.line1
    assert body["po_number"] == "PO-9" and body["note"] == "Gate 3"


@pytest.mark.parametrize("role", ["viewer", "finance"])
def test_viewer_and_finance_users_cannot_order(shop, role):
    shop.product("A-1")
    response = place(shop.client(role), [("A-1", 1)])
    assert response.status_code == 403
    assert not Order.objects.exists()


def test_purchasing_user_over_the_order_limit_waits_for_the_owner(shop):
    shop.product("A-1", price="100")
    buyer = shop.client("purchasing", order_limit=D("500.00"))
    assert place(buyer, [("A-1", 4)]).json()["status"] == "confirmed"  # 480 gross
    body = place(buyer, [("A-1", 5)]).json()  # 600 gross
    assert body["status"] == "awaiting_approval"


def test_on_account_over_the_credit_limit_waits_for_finance(shop):
    shop.product("A-1", price="1000")
    shop.customer.credit_limit = D("5000.00")
    shop.customer.save()
    assert place(shop.owner, [("A-1", 4)]).json()["status"] == "confirmed"  # 4800
    # exposure = 4800 open + 1200 > 5000
    assert place(shop.owner, [("A-1", 1)]).json()["status"] == "awaiting_credit_approval"


def test_an_order_limit_equal_to_the_gross_total_needs_no_approval(shop):
    """DESIGN.md step 1: approval when the order limit is *below* the gross total; a limit
    equal to it is enough, a kuruş less is not."""
    shop.product("A-1", price="100")  # 120.00 gross a unit
    exact = shop.client("purchasing", order_limit=D("480.00"))
    assert place(exact, [("A-1", 4)]).json()["status"] == "confirmed"
    short = shop.client("purchasing", order_limit=D("479.99"))
    assert place(short, [("A-1", 4)]).json()["status"] == "awaiting_approval"


def test_exposure_equal_to_the_credit_limit_is_confirmed(shop):
    """DESIGN.md step 2: credit approval when exposure is *above* the limit; an order that
    brings it exactly to the limit is confirmed, the next kuruş waits for finance."""
    shop.product("A-1", price="1000")  # 1,200.00 gross a unit
    shop.product("A-2", price="0.01", vat_rate=0)
    shop.customer.credit_limit = D("4800.00")
    shop.customer.save()
    assert place(shop.owner, [("A-1", 3)]).json()["status"] == "confirmed"  # 3,600
    assert place(shop.owner, [("A-1", 1)]).json()["status"] == "confirmed"  # 4,800 = limit
    assert place(shop.owner, [("A-2", 1)]).json()["status"] == "awaiting_credit_approval"


def test_ledger_balance_counts_in_the_credit_exposure(shop):
    from apps.finance.services.ledger import ledger_post

    shop.product("A-1", price="100")
    ledger_post(customer=shop.customer, kind="invoice", amount="9900.00")
    assert place(shop.owner, [("A-1", 1)]).json()["status"] == "awaiting_credit_approval"
    ledger_post(customer=shop.customer, kind="payment", amount="-9900.00")
    assert place(shop.owner, [("A-1", 1)]).json()["status"] == "confirmed"


def test_card_waits_for_payment_and_bank_transfer_is_confirmed(shop):
    shop.product("A-1", price="1000")
    shop.customer.credit_limit = D("0.00")
    shop.customer.save()
    assert place(shop.owner, [("A-1", 1)], "card").json()["status"] == "awaiting_payment"
    assert place(shop.owner, [("A-1", 1)], "bank_transfer").json()["status"] == "confirmed"


def test_a_card_order_of_nothing_to_pay_is_confirmed_not_left_waiting(shop):
    """A 0.00 card order (a free quote, a 100 % campaign) cannot be paid by card (the
    gateway takes no zero amount): it would wait for a payment until it is cancelled."""
    shop.product("FREE-1", price="0")
    response = place(shop.owner, [("FREE-1", 2)], "card")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["grand_total"], body["status"]) == ("0.00", "confirmed")


def test_order_from_the_cart_empties_it(shop):
    shop.product("A-1")
    shop.owner.post("/api/v1/cart/items", {"sku": "A-1", "quantity": 2}, format="json")
    response = place(shop.owner)
    assert response.status_code == 201, response.json()
    assert response.json()["lines"][0]["quantity"] == 2
    assert shop.owner.get("/api/v1/cart").json()["lines"] == []


def test_an_empty_cart_cannot_be_ordered(shop):
    response = place(shop.owner)
    assert response.status_code == 400
    assert "items" in response.json()["errors"]


def test_same_idempotency_key_returns_the_first_order(shop):
    shop.product("A-1")
    first = shop.owner.post(
        "/api/v1/orders",
        {"payment_method": "on_account", "items": [{"sku": "A-1", "quantity": 1}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    again = shop.owner.post(
        "/api/v1/orders",
        {"payment_method": "on_account", "items": [{"sku": "A-1", "quantity": 1}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert first.status_code == again.status_code == 201
    assert first.json()["number"] == again.json()["number"]
    assert Order.objects.count() == 1
    other = shop.owner.post(
        "/api/v1/orders",
        {"payment_method": "on_account", "items": [{"sku": "A-1", "quantity": 2}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert other.status_code == 409
    assert Order.objects.count() == 1


@pytest.mark.parametrize("key", ["", " ", "k" * 201, "schlüssel", "ключ", "a\tb"])
def test_an_idempotency_key_is_1_to_200_printable_ascii_characters(shop, key):
    shop.product("A-1")
    response = shop.owner.post(
        "/api/v1/orders",
        {"payment_method": "on_account", "items": [{"sku": "A-1", "quantity": 1}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key.encode().decode("latin-1"),  # as a server reads the header
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["Idempotency-Key"]
    assert not Order.objects.exists()


def test_order_numbers_are_sequential_and_unique(shop):
    shop.product("A-1")
    numbers = [place(shop.owner, [("A-1", 1)]).json()["number"] for _ in range(3)]
    serials = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert serials == sorted(serials) and len(set(numbers)) == 3


def test_placement_writes_order_created_to_the_outbox(shop):
    shop.product("A-1")
    number = place(shop.owner, [("A-1", 2)]).json()["number"]
    event = OutboxEvent.objects.get(type="order.created")
    assert event.data["number"] == number and event.data["customer_code"] == shop.customer.code
    assert event.data["lines"][0]["quantity"] == 2
    assert event.subject == f"order:{number}"


def test_a_sku_typed_in_another_case_is_the_one_product_with_it(shop):
    """The catalog's search finds "lc1d09m7"; ordering it answered "Unknown product"."""
    shop.product("LC1D09M7", price="100")
    response = place(shop.owner, [("lc1d09m7", 2)])
    assert response.status_code == 201, response.json()
    (line,) = response.json()["lines"]
    assert line["sku"] == "LC1D09M7" and line["quantity"] == 2

    # typed in two cases, it is one product named twice (two lines would reserve it twice)
    twice = place(shop.owner, [("lc1d09m7", 1), ("LC1D09M7", 1)])
    assert twice.status_code == 400 and "items.1.sku" in twice.json()["errors"]

    cart = shop.owner.post("/api/v1/cart/items", {"sku": "Lc1d09m7", "quantity": 1})
    assert cart.status_code == 201 and cart.json()["lines"][0]["sku"] == "LC1D09M7"

    # two products whose SKUs differ only in case: the case typed decides, none is guessed
    shop.product("ab-1", price="5")
    shop.product("AB-1", price="6")
    exact = place(shop.owner, [("ab-1", 1)])
    assert exact.status_code == 201 and exact.json()["lines"][0]["sku"] == "ab-1"
    ambiguous = place(shop.owner, [("Ab-1", 1)])
    assert ambiguous.status_code == 400, ambiguous.json()
    assert Order.objects.count() == 2
