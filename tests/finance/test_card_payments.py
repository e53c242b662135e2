"""Card payments end to end against the Paynet simulator on a loopback port (a real process):
start, the bank's pages, the return, the gateway's answers and faults, reconciliation, refunds
(DESIGN.md "Orders" step 3 and "Current account"; issue: card payments)."""

from __future__ import annotations

import datetime
import html
import logging
import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import urllib3
from django.core import mail
from django.utils import timezone

from apps.core.models import OutboxEvent
from apps.finance.models import CardPayment, CardRefund, LedgerEntry, Payment
from apps.finance.services.card_payments import card_payments_reconcile
from apps.inventory.models import StockLevel
from apps.notifications.models import Notification
from apps.orders.models import Order
from tests.conftest import staff_login
from tests.factories import CustomerFactory, StaffUserFactory
from tests.finance import helpers as h
from tests.orders.conftest import Shop, place

pytestmark = [pytest.mark.django_db]

D = Decimal
PAYMENTS = "/api/v1/payments"
CALLBACK = "/api/v1/payments/callback/paynet"
GOOD_CARD = "4355084355084358"
CVC = "071"  # a leading zero: no id or count in a dump reads "071"
DECLINED_CARD = "4000000000000002"  # the bank answers 05, "Do not honour"
POOR_CARD = "4000000000009995"  # the bank answers 51, "Insufficient funds"
EXPIRED_CARD = "4000000000000069"  # the bank answers 54, "Expired card"


@pytest.fixture
def sim(paynet_simulator, settings):
    paynet_simulator.reset()
    settings.PAYNET_BASE_URL = paynet_simulator.url
    settings.PAYNET_SECRET_KEY = paynet_simulator.secret_key
    settings.PAYNET_TIMEOUT = 2.0
    settings.PAYMENT_RETURN_BASE_URL = "http://testserver"
    return paynet_simulator


@pytest.fixture
def shop(dealer_client):
    shop = Shop(dealer_client)
    shop.product("A-1", price="100", stock=10)  # 120.00 gross a piece
    return shop


def card_order(shop, quantity=2) -> Order:
    response = place(shop.owner, items=[("A-1", quantity)], payment_method="card")
    assert response.status_code == 201, response.content
    order = Order.objects.get(number=response.json()["number"])
    assert order.status == "awaiting_payment"
    return order


def start(client, **body):
    return client.post(PAYMENTS, body, format="json")


def started(client, **body) -> CardPayment:
    response = start(client, **body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "pending" and data["redirect_url"]
    return CardPayment.objects.get(pk=data["id"])


def bank_return(api_client, sim, payment, *, card=GOOD_CARD, password="a", accept="json"):  # noqa: S107
    """The dealer types the card and the 3-D password; the bank posts the browser back."""
    answer = sim.authenticate(payment.session_id, card_number=card, password=password, cvc=CVC)
    path = urlsplit(answer["return_url"]).path
    assert path == CALLBACK
    headers = {"HTTP_ACCEPT": "text/html"} if accept == "html" else {}
    return api_client.post(path, answer["fields"], **headers)  # form-encoded, as a browser


def ledger(customer):
    return list(LedgerEntry.objects.filter(customer=customer).order_by("id"))


def events(type_):
    return list(OutboxEvent.objects.filter(type=type_))


# --- the happy path ---------------------------------------------------------------------------


def test_a_card_order_is_paid_through_the_banks_pages_and_confirmed(shop, sim, api_client):
    """Card -> awaiting_payment until the gateway confirms -> confirmed (DESIGN.md, Orders 3)."""
    order = card_order(shop)
    payment = started(shop.owner, amount="240.00", order_number=order.number)
    assert payment.reference.startswith("CP")

    # the browser: the bank's card page, its 3-D Secure page, the auto-post back to us
    http = urllib3.PoolManager()
    page = http.request("GET", payment.redirect_url)
    assert page.status == 200 and b"card_number" in page.data
    three_d = http.request(
        "POST",
        payment.redirect_url,
        fields={
            "card_number": GOOD_CARD,
            "card_holder": "Ayse Yilmaz",
            "expiry_month": "12",
            "expiry_year": "2030",
            "cvc": CVC,
        },
        encode_multipart=False,
    )
    assert three_d.status == 200 and b"password" in three_d.data
    action = re.search(rb'<form[^>]*action="([^"]+)"', three_d.data).group(1).decode()
    back = http.request(
        "POST",
        urllib3.util.parse_url(payment.redirect_url)._replace(path=html.unescape(action)).url,
        fields={"password": "a"},
        encode_multipart=False,
    )
    form = back.data.decode()
    return_url = html.unescape(re.search(r'<form[^>]*action="([^"]+)"', form).group(1))
    fields = {
        name: html.unescape(value)
        for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form)
    }
    assert return_url == "http://testserver" + CALLBACK
    assert set(fields) == {"session_id", "token_id"}

    response = api_client.post(CALLBACK, fields, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert "text/html" in response["Content-Type"]
    # the portal's language (Turkish) unless the dealer chose another; back to the order's page
    assert "Ödeme alındı".encode() in response.content and order.number.encode() in response.content
    assert (
        f'href="http://127.0.0.1:8000/portal/orders/{order.number}/"'.encode() in response.content
    )

    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert payment.card_masked == "435508******4358"
    assert payment.xact_id
    order.refresh_from_db()
    assert order.status == "confirmed"
    assert order.status_history.last().note == f"Paid by card ({payment.reference})."
    receipt = Payment.objects.get(reference=payment.reference)
    assert (receipt.method, receipt.amount, receipt.ledger_entry.amount) == (
        "card",
        D("240.00"),
        D("-240.00"),
    )
    assert payment.payment == receipt
    [succeeded] = events("payment.succeeded")
    assert succeeded.data["order_number"] == order.number
    assert succeeded.data["amount"] == "240.00"
    assert len(events("payment.recorded")) == 1

    detail = shop.owner.get(f"{PAYMENTS}/{payment.pk}").json()
    assert detail["status"] == "succeeded" and detail["redirect_url"] is None


def test_a_succeeded_payment_lowers_the_balance_and_raises_available_credit_at_once(
    shop, sim, api_client, integration_client
):
    """Exposure (DESIGN.md, credit control): balance + open orders; a payment is minus."""
    shop.customer.code = "BAYI-1"
    shop.customer.save(update_fields=["code"])
    h.post(integration_client(), h.INVOICES, [h.invoice(due_date="2030-01-01")])  # 120.00
    before = shop.owner.get("/api/v1/account/summary").json()
    payment = started(shop.owner, amount="500.00")  # on account
    assert bank_return(api_client, sim, payment).json()["status"] == "succeeded"
    after = shop.owner.get("/api/v1/account/summary").json()
    assert D(after["balance"]) == D(before["balance"]) - D("500.00")
    assert D(after["available_credit"]) == D(before["available_credit"]) + D("500.00")
    # the invoice is paid (the oldest debt first), the rest is on account
    invoice = shop.owner.get("/api/v1/invoices/ABC2026000000001").json()
    assert invoice["status"] == "paid"


def test_paying_named_invoices_settles_them(shop, sim, api_client, integration_client):
    shop.customer.code = "BAYI-1"
    shop.customer.save(update_fields=["code"])
    h.post(
        integration_client(),
        h.INVOICES,
        [
            h.invoice(number="ABC2026000000001", due_date="2030-01-01"),
            h.invoice(number="ABC2026000000002", due_date="2029-01-01"),
        ],
    )
    payment = started(shop.client("finance"), amount="120.00", invoice_numbers=["ABC2026000000001"])
    assert bank_return(api_client, sim, payment).json()["status"] == "succeeded"
    statuses = {
        i["number"]: i["status"] for i in shop.owner.get("/api/v1/invoices").json()["results"]
    }
    assert statuses == {"ABC2026000000001": "paid", "ABC2026000000002": "open"}


def _invoice_statuses(shop) -> dict[str, str]:
    return {i["number"]: i["status"] for i in shop.owner.get("/api/v1/invoices").json()["results"]}


def _older_invoice_and_a_card_paid_order(shop, sim, api_client, integration_client) -> Order:
    shop.customer.code = "BAYI-1"
    shop.customer.save(update_fields=["code"])
    h.post(
        integration_client(),
        h.INVOICES,
        [h.invoice(number="ABC2026000000001", due_date="2029-01-01")],
    )
    order = card_order(shop)
    payment = started(shop.owner, amount="240.00", order_number=order.number)
    assert bank_return(api_client, sim, payment).json()["status"] == "succeeded"
    return order


def test_a_card_payment_for_an_order_waits_for_and_pays_that_orders_invoice(
    shop, sim, api_client, integration_client
):
    """The money was paid for the order: an older invoice stays open (the dealer pays it as
    it chooses), and the order's invoice is paid when the ERP issues it, not left open and
    then overdue."""
    order = _older_invoice_and_a_card_paid_order(shop, sim, api_client, integration_client)
    assert _invoice_statuses(shop) == {"ABC2026000000001": "open"}
    own = h.invoice(
        number="ABC2026000000002",
        issue_date="2026-11-20",
        due_date="2030-01-01",
        order_number=order.number,
        lines=[h.line(quantity="2", unit_net="100.0000", sku="A-1")],
    )
    assert h.amount_of(own) == D("240.00")
    h.post(integration_client(), h.INVOICES, [own])
    assert _invoice_statuses(shop) == {"ABC2026000000001": "open", "ABC2026000000002": "paid"}
    assert shop.owner.get("/api/v1/account/summary").json()["balance"] == "120.00"


def test_a_card_paid_order_invoiced_in_two_parts_has_both_invoices_paid(
    shop, sim, api_client, integration_client
):
    """The ERP invoices the order in two parts: what the first does not use waits for the
    second, instead of paying the older invoice and leaving the order's second one open."""
    order = _older_invoice_and_a_card_paid_order(shop, sim, api_client, integration_client)
    parts = [
        h.invoice(
            number=f"ABC202600000000{n}",
            issue_date="2026-11-20",
            due_date="2030-01-01",
            order_number=order.number,
            lines=[h.line(quantity="1", unit_net="100.0000", sku="A-1")],
        )
        for n in (2, 3)
    ]
    h.post(integration_client(), h.INVOICES, [parts[0]])
    assert _invoice_statuses(shop) == {"ABC2026000000001": "open", "ABC2026000000002": "paid"}
    h.post(integration_client(), h.INVOICES, [parts[1]])
    assert _invoice_statuses(shop) == {
        "ABC2026000000001": "open",
        "ABC2026000000002": "paid",
        "ABC2026000000003": "paid",
    }
    assert shop.owner.get("/api/v1/account/summary").json()["balance"] == "120.00"


def test_a_card_paid_order_delivered_short_of_its_invoices_frees_the_rest(
    shop, sim, api_client, integration_client
):
    """Invoiced for one of its two units (a short delivery), the order waits for a second
    invoice while on its way; delivered, there will be none: the rest of the money pays the
    older invoice instead of waiting for ever while that invoice goes overdue."""
    order = _older_invoice_and_a_card_paid_order(shop, sim, api_client, integration_client)
    erp = integration_client()
    h.post(
        erp,
        h.INVOICES,
        [
            h.invoice(
                number="ABC2026000000002",
                issue_date="2026-11-20",
                due_date="2030-01-01",
                order_number=order.number,
                lines=[h.line(quantity="1", unit_net="100.0000", sku="A-1")],
            )
        ],
    )
    assert _invoice_statuses(shop)["ABC2026000000001"] == "open"  # on its way: it waits
    for status in ("processing", "shipped", "delivered"):
        moved = erp.post(
            f"/api/integration/v1/orders/{order.number}/status", {"status": status}, format="json"
        )
        assert moved.status_code == 200, moved.content
    assert _invoice_statuses(shop) == {"ABC2026000000001": "paid", "ABC2026000000002": "paid"}


def test_a_card_paid_order_cancelled_lets_its_money_pay_the_oldest_debt(
    shop, sim, api_client, integration_client, django_capture_on_commit_callbacks
):
    order = _older_invoice_and_a_card_paid_order(shop, sim, api_client, integration_client)
    with django_capture_on_commit_callbacks(execute=True):
        cancel = shop.owner.post(f"/api/v1/orders/{order.number}/cancel", {"reason": "Wrong"})
    assert cancel.status_code == 200
    assert _invoice_statuses(shop) == {"ABC2026000000001": "paid"}


# --- one charge however often a payment is started -------------------------------------------


def test_starting_the_same_payment_again_answers_its_open_bank_page(shop, sim, api_client):
    """A double click, a reload or a second tab: the pending payment and its bank page, not a
    second session the dealer could pay as well (two charges for one order)."""
    order = card_order(shop)
    first = started(shop.owner, amount="240.00", order_number=order.number)
    again = started(shop.owner, amount="240.00", order_number=order.number)
    assert (again.pk, again.redirect_url) == (first.pk, first.redirect_url)
    assert len(sim.sessions()) == 1 and CardPayment.objects.count() == 1

    # declined: a new start opens a new session for another card
    assert bank_return(api_client, sim, first, card=DECLINED_CARD).json()["status"] == "failed"
    retry = started(shop.owner, amount="240.00", order_number=order.number)
    assert retry.pk != first.pk and len(sim.sessions()) == 2


def test_an_amount_on_account_or_invoices_started_again_answer_the_open_payment(shop, sim):
    on_account = started(shop.owner, amount="50.00")
    assert started(shop.owner, amount="50.00").pk == on_account.pk
    assert started(shop.owner, amount="60.00").pk != on_account.pk  # another amount
    # a colleague paying the same amount on account pays their own
    assert started(shop.client("finance"), amount="50.00").pk != on_account.pk
    assert CardPayment.objects.count() == 3 and len(sim.sessions()) == 3


def test_invoices_someone_is_paying_at_the_bank_answer_409(shop, sim, integration_client):
    """The open amount checked at a start does not count a payment still at the bank: a
    second page for the same invoice would charge the dealer twice for it."""
    shop.customer.code = "BAYI-1"
    shop.customer.save(update_fields=["code"])
    first_number, second_number = "ABC2026000000001", "ABC2026000000002"
    h.post(
        integration_client(),
        h.INVOICES,
        [
            h.invoice(number=first_number, due_date="2030-01-01"),
            h.invoice(number=second_number, due_date="2030-01-01"),
        ],
    )
    finance = shop.client("finance", first_name="Deniz", last_name="Kaya")
    theirs = started(finance, amount="120.00", invoice_numbers=[first_number])
    for who, numbers, amount in (
        (shop.owner, [first_number], "120.00"),  # a colleague, the same invoice
        (shop.owner, [second_number, first_number], "240.00"),  # one of them
        (finance, [first_number], "100.00"),  # the same person, another amount
    ):
        response = start(who, amount=amount, invoice_numbers=numbers)
        assert response.status_code == 409, response.content
        body = response.json()
        assert body["code"] == "payment_in_progress"
        assert "Deniz Kaya" in body["detail"] and first_number in body["detail"]
    # a second tab of the same payment gets its page; another invoice is paid apart
    assert started(finance, amount="120.00", invoice_numbers=[first_number]).pk == theirs.pk
    assert started(shop.owner, amount="120.00", invoice_numbers=[second_number]).pk != theirs.pk
    assert CardPayment.objects.count() == 2 and len(sim.sessions()) == 2


def test_an_order_paid_while_a_start_waited_is_not_opened_again(shop, sim):
    """A colleague's payment succeeded between this start's checks and its turn (the order
    is confirmed a moment later, in the same transaction as the receipt): 409 order_paid,
    read under the start lock, no second session."""
    order = card_order(shop)
    first = started(shop.owner, amount="240.00", order_number=order.number)
    CardPayment.objects.filter(pk=first.pk).update(status="succeeded")
    response = start(shop.owner, amount="240.00", order_number=order.number)
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "order_paid"
    assert len(sim.sessions()) == 1


def test_a_payment_older_than_its_bank_session_is_not_answered_again(shop, sim):
    """After ``CARD_PAYMENT_RECONCILE_MINUTES`` reconciliation decides a pending payment (the
    dealer left the bank's page): a new start opens a new session."""
    order = card_order(shop)
    first = started(shop.owner, amount="240.00", order_number=order.number)
    CardPayment.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=16)
    )
    assert started(shop.owner, amount="240.00", order_number=order.number).pk != first.pk


def test_an_order_a_colleague_is_paying_at_the_bank_answers_409(shop, sim, settings):
    order = card_order(shop)
    purchasing = shop.client("purchasing", first_name="Deniz", last_name="Kaya")
    theirs = started(purchasing, amount="240.00", order_number=order.number)
    response = start(shop.owner, amount="240.00", order_number=order.number)
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "payment_in_progress"
    assert "Deniz Kaya" in body["detail"] and order.number in body["detail"]
    assert CardPayment.objects.count() == 1 and len(sim.sessions()) == 1
    # once reconciliation could have decided theirs, the owner may pay
    CardPayment.objects.filter(pk=theirs.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=16)
    )
    assert start(shop.owner, amount="240.00", order_number=order.number).status_code == 201


@pytest.mark.django_db(transaction=True)
def test_payments_started_at_once_open_one_bank_session(dealer_client, sim):
    """Four starts for one order at once, real requests on their own connections, while the
    gateway takes a second to open a session: one payment, one session, four answers with
    its page."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection
    from rest_framework.test import APIClient

    shop = Shop(dealer_client)
    shop.product("A-1", price="100", stock=10)
    order = card_order(shop)
    sim.fault("tds_initial", "slow", count=4, delay=1.0)
    barrier = threading.Barrier(4)

    def post(_index):
        client = APIClient()
        client.credentials(**shop.owner._credentials)
        try:
            barrier.wait(timeout=10)
            return start(client, amount="240.00", order_number=order.number)
        finally:
            connection.close()

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(post, range(4)))
    assert [a.status_code for a in answers] == [201] * 4, [a.content for a in answers]
    assert len({(a.json()["id"], a.json()["redirect_url"]) for a in answers}) == 1
    assert CardPayment.objects.count() == 1 and len(sim.sessions()) == 1


# --- declines and failures --------------------------------------------------------------------


def test_a_declined_card_fails_with_the_banks_answer_in_the_dealers_words(shop, sim, api_client):
    order = card_order(shop)
    payment = started(shop.owner, amount="240.00", order_number=order.number)
    api_client.cookies["django_language"] = "en"  # the dealer chose English in the portal
    response = bank_return(api_client, sim, payment, card=DECLINED_CARD, accept="html")
    assert response.status_code == 200 and b"did not go through" in response.content
    # the bank's code 05 ("Do not honour"), in the dealer's words, not the bank's
    call_the_bank = "The bank declined the payment. Please call your bank or pay with another card."
    assert call_the_bank.encode() in response.content
    assert b"Do not honour" not in response.content
    payment.refresh_from_db()
    assert (payment.status, payment.message) == ("failed", call_the_bank)
    order.refresh_from_db()
    assert order.status == "awaiting_payment"
    assert ledger(shop.customer) == [] and events("payment.succeeded") == []
    # written once, in English (the bank's return); read in the reader's language
    detail = shop.owner.get(f"/api/v1/payments/{payment.pk}", HTTP_ACCEPT_LANGUAGE="tr")
    assert detail.json()["message"] == (
        "Banka ödemeyi reddetti. Lütfen bankanızı arayın ya da başka bir kartla ödeyin."
    )
    # a Turkish portal's dealer (no language cookie, an English browser): the whole page in
    # Turkish; a card short of funds (the bank's code 51, "Insufficient funds") says so
    del api_client.cookies["django_language"]
    declined = started(shop.owner, amount="240.00", order_number=order.number)
    page = bank_return(api_client, sim, declined, card=POOR_CARD, accept="html")
    text = page.content.decode()
    assert "Banka ödemeyi reddetti: kartın bakiyesi ya da limiti yetersiz." in text
    assert "Insufficient funds" not in text
    # the dealer may try again, with another card
    again = started(shop.owner, amount="240.00", order_number=order.number)
    assert bank_return(api_client, sim, again).json()["status"] == "succeeded"
    order.refresh_from_db()
    assert order.status == "confirmed"


def test_a_failed_3d_secure_fails_the_payment(shop, sim, api_client):
    order = card_order(shop)
    payment = started(shop.owner, amount="240.00", order_number=order.number)
    assert bank_return(api_client, sim, payment, password="wrong").json()["status"] == "failed"
    payment.refresh_from_db()
    assert payment.message
    order.refresh_from_db()
    assert order.status == "awaiting_payment"
    assert ledger(shop.customer) == [] and sim.transactions() == []


def test_a_charge_whose_answer_is_lost_is_asked_again_and_booked_once(shop, sim, api_client):
    """The gateway commits the charge, then the answer times out: the same call again answers
    the earlier success (code 100); exactly one payment and one ledger entry."""
    order = card_order(shop)
    payment = started(shop.owner, amount="240.00", order_number=order.number)
    sim.fault("tds_charge", "timeout_after_commit", delay=4)
    assert bank_return(api_client, sim, payment).json()["status"] == "succeeded"
    assert len(sim.transactions()) == 1
    assert [e.kind for e in ledger(shop.customer)] == ["payment"]
    assert Payment.objects.count() == 1 and len(events("payment.succeeded")) == 1
    order.refresh_from_db()
    assert order.status == "confirmed"


def test_the_same_callback_twice_changes_nothing_the_second_time(shop, sim, api_client):
    order = card_order(shop)
    payment = started(shop.owner, amount="240.00", order_number=order.number)
    answer = sim.authenticate(payment.session_id, card_number=GOOD_CARD, password="a")
    first = api_client.post(CALLBACK, answer["fields"])
    outbox = OutboxEvent.objects.count()
    second = api_client.post(CALLBACK, answer["fields"])
    assert first.json() == second.json() and second.json()["status"] == "succeeded"
    assert len(ledger(shop.customer)) == 1 and OutboxEvent.objects.count() == outbox
    assert order.status_history.count() == 2  # placed, paid


@pytest.mark.parametrize(
    "fields",
    [
        {"session_id": "f" * 32, "token_id": "0" * 32},  # a session nobody opened
        {"session_id": "", "token_id": "x"},
        {},
    ],
)
def test_a_forged_callback_changes_nothing(shop, sim, api_client, fields):
    order = card_order(shop)
    payment = started(shop.owner, amount="240.00", order_number=order.number)
    response = api_client.post(CALLBACK, fields)
    assert response.status_code in (400, 404)
    payment.refresh_from_db()
    assert payment.status == "pending"
    assert ledger(shop.customer) == [] and sim.transactions() == []


def test_a_callback_with_a_real_session_and_a_wrong_token_changes_nothing(shop, sim, api_client):
    order = card_order(shop)
    payment = started(shop.owner, amount="240.00", order_number=order.number)
    sim.authenticate(payment.session_id, card_number=GOOD_CARD, password="a")
    response = api_client.post(CALLBACK, {"session_id": payment.session_id, "token_id": "forged"})
    assert response.status_code == 404
    payment.refresh_from_db()
    assert payment.status == "pending" and sim.transactions() == []


def test_a_callback_before_3d_secure_is_done_leaves_the_payment_pending(shop, sim, api_client):
    """Someone posts the session's ids before the dealer has finished at the bank: the
    gateway refuses the charge, and the payment waits for the real return."""
    order = card_order(shop)
    payment = started(shop.owner, amount="240.00", order_number=order.number)
    early = api_client.post(
        CALLBACK, {"session_id": payment.session_id, "token_id": payment.token_id}
    )
    assert early.status_code == 200 and early.json()["status"] == "pending"
    assert bank_return(api_client, sim, payment).json()["status"] == "succeeded"


def test_an_answer_for_another_amount_is_refused_and_finance_is_alerted(
    shop, sim, api_client, caplog, django_capture_on_commit_callbacks
):
    StaffUserFactory(email="finance@distributor.test", groups=["Finance Manager"])
    order = card_order(shop)
    payment = started(shop.owner, amount="240.00", order_number=order.number)
    CardPayment.objects.filter(pk=payment.pk).update(amount=D("24.00"))  # the records disagree
    with (
        caplog.at_level(logging.ERROR, logger="apps.finance.services.card_payments"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert bank_return(api_client, sim, payment).json()["status"] == "failed"
    payment.refresh_from_db()
    assert payment.needs_review and payment.status == "failed"
    order.refresh_from_db()
    assert order.status == "awaiting_payment"
    assert ledger(shop.customer) == [] and events("payment.succeeded") == []
    assert payment.reference in caplog.text
    alert = Notification.objects.get(template="finance/payment_alert")
    assert alert.to == "finance@distributor.test"
    sent = next(m for m in mail.outbox if payment.reference in m.subject)
    assert "reports 240.00 ₺ for reference" in sent.body and "the payment is 24.00 ₺" in sent.body
    assert f"/admin/finance/cardpayment/{payment.pk}/change/" in sent.body  # where to look


def test_a_gateway_that_does_not_answer_the_return_leaves_the_payment_pending(
    shop, sim, api_client
):
    order = card_order(shop)
    payment = started(shop.owner, amount="240.00", order_number=order.number)
    sim.fault("tds_charge", "error_500", count=3)
    api_client.cookies["django_language"] = "en"
    response = bank_return(api_client, sim, payment, accept="html")
    assert response.status_code == 200 and b"confirming your payment" in response.content
    payment.refresh_from_db()
    assert payment.status == "pending" and ledger(shop.customer) == []


def test_starting_while_the_gateway_is_down_answers_503_and_records_a_failure(shop, sim, settings):
    from tests.conftest import closed_port

    settings.PAYNET_BASE_URL = f"http://127.0.0.1:{closed_port()}"
    order = card_order(shop)
    response = start(shop.owner, amount="240.00", order_number=order.number)
    assert response.status_code == 503 and response["Retry-After"]
    assert response.json()["code"] == "payment_gateway_unavailable"
    assert CardPayment.objects.get().status == "failed"


# --- reconciliation and the unpaid card order --------------------------------------------------


def test_reconciliation_books_a_charge_whose_every_answer_was_lost(shop, sim, api_client):
    order = card_order(shop)
    payment = started(shop.owner, amount="240.00", order_number=order.number)
    sim.fault("tds_charge", "timeout_after_commit", count=3, delay=3)
    assert bank_return(api_client, sim, payment).json()["status"] == "pending"
    assert card_payments_reconcile()["payments"] == 0  # not 15 minutes yet
    later = timezone.now() + datetime.timedelta(minutes=16)
    assert card_payments_reconcile(now=later)["payments"] == 1
    payment.refresh_from_db()
    assert payment.status == "succeeded" and len(ledger(shop.customer)) == 1
    order.refresh_from_db()
    assert order.status == "confirmed"


def test_the_erp_cannot_book_a_card_payment_the_bank_has_not_confirmed(
    shop, sim, api_client, integration_client
):
    """The reference is ours: booked under another dealer, the bank's confirmation could not
    be (a 500, and a reconciliation job failing every run). Refused; the payer is credited."""
    other = CustomerFactory(code="BAYI-9")
    payment = started(shop.owner, amount="33.00")
    answer = h.post(
        integration_client(),
        h.PAYMENTS,
        [h.payment(reference=payment.reference, customer_code=other.code, amount="33.00")],
    )
    assert answer["failed"] == 1 and list(answer["errors"][0]["errors"]) == ["reference"]
    assert bank_return(api_client, sim, payment).json()["status"] == "succeeded"
    assert sum(e.amount for e in ledger(shop.customer)) == Decimal("-33.00")
    assert ledger(other) == []


def test_a_charge_that_cannot_be_booked_is_kept_for_a_person_not_a_500(
    shop, sim, api_client, settings, django_capture_on_commit_callbacks
):
    """The dealer was deleted while the bank decided: the callback answers, the payment waits
    for review with finance alerted, and reconciliation goes on with the rest."""
    from django.core import mail

    settings.PAYMENT_ALERT_EMAILS = ["finance@distributor.example"]
    stuck = started(shop.owner, amount="33.00")
    order = card_order(shop)
    abandoned = started(shop.owner, amount="240.00", order_number=order.number)
    type(shop.customer).objects.filter(pk=shop.customer.pk).update(is_deleted=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = bank_return(api_client, sim, stuck)
    assert response.status_code == 200, response.content
    stuck.refresh_from_db()
    assert stuck.status == "pending" and stuck.needs_review and stuck.message
    assert any(stuck.reference in m.body for m in mail.outbox)
    later = timezone.now() + datetime.timedelta(minutes=16)
    card_payments_reconcile(now=later)  # leaves the reviewed one alone, decides the other
    abandoned.refresh_from_db()
    assert abandoned.status == "failed"
    stuck.refresh_from_db()
    assert stuck.status == "pending"


def test_a_decline_whose_answer_was_lost_reads_the_banks_code_from_the_check(shop, sim, api_client):
    """The decline (code 54, an expired card) was lost to a timeout: asked again, the session
    is used; the check's answer carries the bank's code, and the dealer reads what it means."""
    order = card_order(shop)
    payment = started(shop.owner, amount="240.00", order_number=order.number)
    sim.fault("tds_charge", "timeout_after_commit", count=1, delay=3)
    answer = bank_return(api_client, sim, payment, card=EXPIRED_CARD).json()
    assert answer["status"] == "failed"
    payment.refresh_from_db()
    assert payment.message == "The bank declined the payment: the card has expired."
    detail = shop.owner.get(f"/api/v1/payments/{payment.pk}", HTTP_ACCEPT_LANGUAGE="tr")
    assert detail.json()["message"] == "Banka ödemeyi reddetti: kartın süresi dolmuş."


def test_reconciliation_fails_a_payment_the_dealer_abandoned(shop, sim):
    order = card_order(shop)
    payment = started(shop.owner, amount="240.00", order_number=order.number)
    later = timezone.now() + datetime.timedelta(minutes=16)
    card_payments_reconcile(now=later)
    payment.refresh_from_db()
    assert payment.status == "failed" and payment.message == "No payment was made."


@pytest.mark.django_db(transaction=True)
def test_a_charge_that_lands_after_reconciliation_failed_its_payment_is_booked(dealer_client, sim):
    """The bank's return is being charged (slowly) when reconciliation asks the gateway about
    the 15-minute-old payment, finds nothing yet and fails it; then the charge goes through.
    The money was taken: the payment is booked and its order confirmed, not left failed with
    nobody told (the order would have been cancelled for want of payment)."""
    import threading
    import time

    from django.db import connection
    from django.test import Client

    shop = Shop(dealer_client)
    shop.product("A-1", price="100", stock=10)
    order = card_order(shop)
    payment = started(shop.owner, amount="240.00", order_number=order.number)
    fields = sim.authenticate(payment.session_id, card_number=GOOD_CARD, password="a")["fields"]
    sim.fault("tds_charge", "slow", count=1, delay=1.5)
    answers = []

    def bank_returns():
        try:
            answers.append(Client().post(CALLBACK, fields).json())
        finally:
            connection.close()

    thread = threading.Thread(target=bank_returns)
    thread.start()
    try:
        time.sleep(0.5)  # the return is at the bank, charging
        card_payments_reconcile(now=timezone.now() + datetime.timedelta(minutes=16))
        assert CardPayment.objects.get(pk=payment.pk).status == "failed"  # found nothing yet
    finally:
        thread.join(timeout=30)
    assert len(sim.transactions()) == 1  # the bank took the money
    payment.refresh_from_db()
    assert answers and answers[0]["status"] == "succeeded", answers
    assert payment.status == "succeeded" and payment.payment is not None
    assert [e.kind for e in ledger(shop.customer)] == ["payment"]
    order.refresh_from_db()
    assert order.status == "confirmed"


def test_an_unpaid_card_order_is_cancelled_after_the_timeout_and_its_stock_released(
    shop, sim, settings
):
    settings.CARD_PAYMENT_TIMEOUT_MINUTES = 30
    order = card_order(shop, quantity=3)
    level = StockLevel.objects.get(product=shop.products["A-1"])
    assert level.reserved == 3
    card_payments_reconcile(now=timezone.now() + datetime.timedelta(minutes=29))
    order.refresh_from_db()
    assert order.status == "awaiting_payment"
    card_payments_reconcile(now=timezone.now() + datetime.timedelta(minutes=31))
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert order.status_history.last().note == "Not paid within 30 minutes."
    level.refresh_from_db()
    assert level.reserved == 0


def test_an_order_with_a_payment_in_progress_is_not_cancelled(shop, sim, settings):
    settings.CARD_PAYMENT_TIMEOUT_MINUTES = 30
    order = card_order(shop)
    Order.objects.filter(pk=order.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=1)
    )
    order.status_history.update(created_at=timezone.now() - datetime.timedelta(hours=1))
    started(shop.owner, amount="240.00", order_number=order.number)  # the dealer is at the bank
    card_payments_reconcile()
    order.refresh_from_db()
    assert order.status == "awaiting_payment"


def test_a_payment_completing_after_its_order_was_cancelled_stays_on_account(shop, sim, api_client):
    order = card_order(shop)
    payment = started(shop.owner, amount="240.00", order_number=order.number)
    cancel = shop.owner.post(f"/api/v1/orders/{order.number}/cancel", {"reason": "Wrong items"})
    assert cancel.status_code == 200
    assert bank_return(api_client, sim, payment).json()["status"] == "succeeded"
    payment.refresh_from_db()
    assert payment.needs_review and "on your account" in payment.message
    assert [e.amount for e in ledger(shop.customer)] == [D("-240.00")]
    order.refresh_from_db()
    assert order.status == "cancelled"


def test_an_order_cancelled_after_its_card_paid_it_is_flagged_for_finance(
    shop, sim, api_client, settings, django_capture_on_commit_callbacks
):
    """The money stays on account (as when the cancel came while the bank decided): the
    payment says so to the dealer, and finance is told, who may refund it."""
    settings.PAYMENT_ALERT_EMAILS = ["finance@distributor.example"]
    order = card_order(shop)
    payment = started(shop.owner, amount="240.00", order_number=order.number)
    assert bank_return(api_client, sim, payment).json()["status"] == "succeeded"
    order.refresh_from_db()
    assert order.status == "confirmed"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        cancel = shop.owner.post(f"/api/v1/orders/{order.number}/cancel", {"reason": "Wrong"})
    assert cancel.status_code == 200
    payment.refresh_from_db()
    assert payment.status == "succeeded" and payment.needs_review
    assert order.number in payment.message and "on your account" in payment.message
    alert = next(m for m in mail.outbox if payment.reference in m.body)
    # finance reads what to do, in its words; the amount as money is written
    assert "for 240.00 TRY needs a person" in alert.body
    assert "the amount stays on the dealer's account" in alert.body
    assert "your account" not in alert.body
    assert [e.amount for e in ledger(shop.customer)] == [D("-240.00")]


# --- refunds ----------------------------------------------------------------------------------


@pytest.fixture
def paid(shop, sim, api_client) -> CardPayment:
    order = card_order(shop)
    payment = started(shop.owner, amount="240.00", order_number=order.number)
    assert bank_return(api_client, sim, payment).json()["status"] == "succeeded"
    payment.refresh_from_db()
    return payment


def refund_url(payment) -> str:
    return f"/admin/finance/cardpayment/{payment.pk}/refund/"


def test_finance_refunds_a_payment_in_full_on_the_same_day(paid, sim, staff_client):
    client = staff_client("Finance Manager")
    response = client.post(refund_url(paid), {"amount": "", "reason": "Order cancelled by phone"})
    assert response.status_code == 302
    paid.refresh_from_db()
    assert (paid.status, paid.refunded_amount) == ("refunded", D("240.00"))
    refund = CardRefund.objects.get()
    assert refund.status == "succeeded" and refund.ledger_entry.kind == "refund"
    assert refund.ledger_entry.amount == D("240.00")
    assert sum(e.amount for e in ledger(paid.customer)) == D("0.00")
    [event] = events("payment.refunded")
    assert event.data["fully_refunded"] is True
    [transaction] = sim.transactions()
    assert D(str(transaction["reversed_amount"])) == D("240.00")
    # the payment's history page names the refund (Django's change-message shape)
    history = client.get(f"/admin/finance/cardpayment/{paid.pk}/history/")
    assert history.status_code == 200 and str(refund) in history.content.decode()


def test_the_erp_echoing_a_refunded_card_receipt_is_answered_unchanged(
    paid, sim, staff_client, integration_client
):
    """docs/payments.md: the receipt pushed back with the same content is ``unchanged``. A
    refund does not make it a payment "the bank has not confirmed"."""
    receipt = Payment.objects.get(reference=paid.reference)
    echo = h.payment(
        reference=receipt.reference,
        customer_code=paid.customer.code,
        amount=str(receipt.amount),
        date=receipt.payment_date.isoformat(),
        method="card",
    )
    client = staff_client("Finance Manager")
    assert client.post(refund_url(paid), {"amount": "", "reason": "By phone"}).status_code == 302
    paid.refresh_from_db()
    assert paid.status == "refunded"
    answer = h.post(integration_client(), h.PAYMENTS, [echo])
    assert (answer["unchanged"], answer["failed"]) == (1, 0), answer


def test_a_refund_reason_is_at_most_2000_characters_like_the_ledgers(paid, sim, staff_client):
    from apps.core.exceptions import ValidationError
    from apps.finance.services.card_payments import card_refund

    client = staff_client("Finance Manager")
    response = client.post(refund_url(paid), {"amount": "", "reason": "x" * 2001})
    assert response.status_code == 200  # the form again, saying why
    with pytest.raises(ValidationError) as refused:
        card_refund(card_payment=paid, reason="x" * 2001, by=None)
    assert list(refused.value.errors) == ["reason"]
    assert not CardRefund.objects.exists()


def test_a_partial_refund_waits_for_the_next_day(paid, sim, staff_client):
    client = staff_client("Finance Manager")
    response = client.post(refund_url(paid), {"amount": "40.00", "reason": "One item short"})
    assert response.status_code == 200 and b"only reverse all of it" in response.content
    assert CardRefund.objects.count() == 0
    sim.age(paid.xact_id, 1)
    CardPayment.objects.filter(pk=paid.pk).update(
        completed_at=timezone.now() - datetime.timedelta(days=1)
    )
    response = client.post(refund_url(paid), {"amount": "40.00", "reason": "One item short"})
    assert response.status_code == 302
    paid.refresh_from_db()
    assert (paid.status, paid.refunded_amount) == ("succeeded", D("40.00"))
    response = client.post(refund_url(paid), {"amount": "500.00", "reason": "Too much"})
    assert response.status_code == 200 and b"At most 200.00" in response.content


def test_a_refund_the_gateway_did_not_answer_is_settled_by_reconciliation(paid, sim, staff_client):
    sim.fault("reversed_request", "timeout_after_commit", delay=3)
    client = staff_client("Finance Manager")
    client.post(refund_url(paid), {"reason": "Cancelled"})
    refund = CardRefund.objects.get()
    assert refund.status == "pending" and refund.ledger_entry is None
    card_payments_reconcile(now=timezone.now() + datetime.timedelta(minutes=2))
    refund.refresh_from_db()
    assert refund.status == "succeeded" and refund.ledger_entry.amount == D("240.00")


@pytest.mark.parametrize("role", ["Sales Manager", "Customer Service", "Content Manager"])
def test_only_finance_refunds(paid, staff_client, role):
    response = staff_client(role).post(refund_url(paid), {"reason": "x"})
    assert response.status_code == 403
    assert CardRefund.objects.count() == 0


# --- the dealer's side: roles, bad input, isolation --------------------------------------------


def test_bad_payment_requests_get_field_errors_and_change_nothing(shop, sim, dealer_client):
    order = card_order(shop)
    other = card_order(Shop(dealer_client))  # another company's order
    cases = [
        ({"amount": "100.00", "order_number": order.number}, "amount"),
        ({"amount": "-5", "order_number": order.number}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": "1.234"}, "amount"),
        ({"order_number": order.number}, "amount"),
        ({"amount": "240.00", "order_number": other.number}, "order_number"),
        (
            {"amount": "240.00", "order_number": order.number, "card_number": GOOD_CARD},
            "card_number",
        ),
        ({"amount": "240.00", "invoice_numbers": ["NOPE"]}, "invoice_numbers.0"),
        ({"amount": "240.00", "invoice_numbers": "ABC"}, "invoice_numbers"),
        (
            {"amount": "240.00", "order_number": order.number, "invoice_numbers": ["X"]},
            "invoice_numbers",
        ),
    ]
    for body, field in cases:
        response = start(shop.owner, **body)
        assert response.status_code == 400, (body, response.content)
        assert field in response.json()["errors"], (body, response.json())
        assert GOOD_CARD not in response.content.decode()
    # in the query string too (a URL is written to access logs)
    response = shop.owner.post(
        f"{PAYMENTS}?CVC=071&card_number={GOOD_CARD}&expiry_month=12",
        {"amount": "240.00", "order_number": order.number},
        format="json",
    )
    assert response.status_code == 400 and set(response.json()["errors"]) == {
        "CVC",
        "card_number",
        "expiry_month",
    }
    assert CardPayment.objects.count() == 0 and sim.sessions() == []


def test_amounts_in_refusals_are_written_as_the_reader_writes_money(shop, sim):
    shop.product("BIG-1", price="1000", stock=10)  # 1,200.00 gross a piece
    placed = place(shop.owner, items=[("BIG-1", 2)], payment_method="card")
    order = Order.objects.get(number=placed.json()["number"])  # 2,400.00
    response = shop.owner.post(
        PAYMENTS,
        {"amount": "100.00", "order_number": order.number},
        format="json",
        HTTP_ACCEPT_LANGUAGE="tr",
    )
    assert response.status_code == 400
    assert "2.400,00 ₺" in response.json()["errors"]["amount"][0]
    english = start(shop.owner, amount="100.00", order_number=order.number)
    assert "2,400.00 ₺" in english.json()["errors"]["amount"][0]


def test_an_order_not_waiting_for_a_card_payment_answers_409(shop, sim):
    response = place(shop.owner, items=[("A-1", 1)], payment_method="on_account")
    number = response.json()["number"]
    assert start(shop.owner, amount="120.00", order_number=number).status_code == 409


def test_purchasing_pays_card_orders_but_not_the_account(shop, sim):
    purchasing = shop.client("purchasing")
    order = card_order(shop)
    assert start(purchasing, amount="240.00", order_number=order.number).status_code == 201
    assert start(purchasing, amount="50.00").status_code == 403
    assert (
        start(shop.client("viewer"), amount="240.00", order_number=order.number).status_code == 403
    )
    # purchasing sees the payments it started; the owner sees the company's
    started(shop.owner, amount="10.00")
    assert purchasing.get(PAYMENTS).json()["count"] == 1
    assert shop.owner.get(PAYMENTS).json()["count"] == 2


def test_another_companys_payment_is_not_found(shop, sim, dealer_client):
    payment = started(shop.owner, amount="10.00")
    stranger = dealer_client("owner")
    assert stranger.get(f"{PAYMENTS}/{payment.pk}").status_code == 404
    assert stranger.get(PAYMENTS).json()["count"] == 0


def test_the_payment_list_runs_a_fixed_number_of_queries(shop, sim, django_assert_max_num_queries):
    for _ in range(3):
        order = card_order(shop, quantity=1)
        started(shop.owner, amount="120.00", order_number=order.number)
    shop.owner.get(PAYMENTS)  # warm caches (permissions)
    with django_assert_max_num_queries(8) as three:
        assert shop.owner.get(PAYMENTS).json()["count"] == 3
    queries = len(three)  # (the log is reset by the next request)
    for n in range(1, 6):
        started(shop.owner, amount=f"{n}.00")  # five amounts on account
    with django_assert_max_num_queries(queries):
        assert shop.owner.get(PAYMENTS).json()["count"] == 8


def test_the_payment_list_filters_by_status_and_refuses_an_unknown_one(shop, sim, api_client):
    order = card_order(shop, quantity=1)
    paid = started(shop.owner, amount="120.00", order_number=order.number)
    assert bank_return(api_client, sim, paid).json()["status"] == "succeeded"
    waiting = started(shop.owner, amount="10.00")
    listed = {
        status: [p["id"] for p in shop.owner.get(PAYMENTS, {"status": status}).json()["results"]]
        for status in ("pending", "succeeded", "failed")
    }
    assert listed == {"pending": [waiting.pk], "succeeded": [paid.pk], "failed": []}
    refused = shop.owner.get(PAYMENTS, {"status": "bogus"})
    assert refused.status_code == 400 and "status" in refused.json()["errors"]


# --- card data never reaches us ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_card_data_never_reaches_our_database_logs_or_answers(dealer_client, sim, caplog):
    """The whole flow through the bank's pages (success, decline, refund), then the database
    dump, every log record and every answer are searched for the card numbers and the CVC."""
    import subprocess

    from django.test import Client

    from tests.conftest import subprocess_database_url

    caplog.set_level(logging.DEBUG)
    shop = Shop(dealer_client)
    shop.product("A-1", price="100", stock=10)
    answers = []
    browser = Client()
    http = urllib3.PoolManager()
    for card in (GOOD_CARD, DECLINED_CARD):
        order = card_order(shop)
        payment = started(shop.owner, amount="240.00", order_number=order.number)
        http.request(
            "POST",
            payment.redirect_url,
            fields={
                "card_number": " ".join(card[i : i + 4] for i in range(0, 16, 4)),
                "card_holder": "Ayse Yilmaz",
                "expiry_month": "12",
                "expiry_year": "2030",
                "cvc": CVC,
            },
            encode_multipart=False,
        )
        form = http.request(
            "POST",
            payment.redirect_url.replace("/sim/card/", "/sim/3ds/"),
            fields={"password": "a"},
            encode_multipart=False,
        ).data.decode()
        fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form))
        response = browser.post(CALLBACK, fields, HTTP_ACCEPT="text/html")
        answers.append(response.content.decode())
        answers.append(shop.owner.get(f"{PAYMENTS}/{payment.pk}").content.decode())
    staff = StaffUserFactory(groups=["Finance Manager"])
    staff_login(browser, staff)
    paid = CardPayment.objects.get(status="succeeded")
    answers.append(browser.get(f"/admin/finance/cardpayment/{paid.pk}/change/").content.decode())
    assert {p.status for p in CardPayment.objects.all()} == {"succeeded", "failed"}

    dump = subprocess.run(
        ["pg_dump", "--data-only", "--no-owner", subprocess_database_url()],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert "435508******4358" in dump  # the masked number is kept: the dump is real
    logs = caplog.text + sim.log_text()
    for secret in (GOOD_CARD, DECLINED_CARD, "4355 0843 5508 4358", f'"{CVC}"', f"={CVC}"):
        assert secret not in dump, secret
        assert secret not in logs, secret
        assert all(secret not in answer for answer in answers), secret


@pytest.mark.django_db(transaction=True)
def test_returns_arriving_at_once_book_one_payment(dealer_client, sim):
    """The browser posts twice (a double click, a reload) in parallel: real requests on their
    own database connections; one receipt, one ledger entry, one confirmation."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection
    from django.test import Client

    shop = Shop(dealer_client)
    shop.product("A-1", price="100", stock=10)
    order = card_order(shop)
    payment = started(shop.owner, amount="240.00", order_number=order.number)
    fields = sim.authenticate(payment.session_id, card_number=GOOD_CARD, password="a")["fields"]
    barrier = threading.Barrier(4)

    def post(_index):
        try:
            barrier.wait(timeout=10)
            return Client().post(CALLBACK, fields).json()["status"]
        finally:
            connection.close()

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(post, range(4)))
    assert statuses == ["succeeded"] * 4
    assert len(sim.transactions()) == 1
    assert [e.kind for e in ledger(shop.customer)] == ["payment"]
    assert Payment.objects.count() == 1 and len(events("payment.succeeded")) == 1
    order.refresh_from_db()
    assert order.status == "confirmed" and order.status_history.count() == 2


@pytest.mark.parametrize(
    ("body", "content_type", "field"),
    [
        (b"[" * 5000 + b"]" * 5000, "application/json", None),  # the decoder would recurse
        (b'{"session_id": "a", "session_id": "b"}', "application/json", None),  # a key twice
        (b'{"session_id": "\\u0000", "token_id": "x"}', "application/json", "session_id"),
        (b'{"session_id": "a", "token_id": "\\ud800"}', "application/json", "token_id"),
        (b"session_id=%00&token_id=x", "application/x-www-form-urlencoded", "session_id"),
    ],
)
def test_a_hostile_callback_answers_400_and_changes_nothing(
    shop, sim, api_client, body, content_type, field
):
    """The bank's return is public: whatever the body, 400 (the JSON parser's refusals, or
    text PostgreSQL cannot store on its field), never a 500."""
    order = card_order(shop)
    payment = started(shop.owner, amount="240.00", order_number=order.number)
    response = api_client.generic(
        "POST", CALLBACK, body, content_type=content_type, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400, response.content
    if field is None:
        assert response.json()["code"] == "parse_error"
    else:
        assert field in response.json()["errors"]
    payment.refresh_from_db()
    assert payment.status == "pending" and sim.transactions() == []


def test_a_browser_sent_back_with_an_unknown_session_gets_the_page_not_json(api_client):
    """The bank's return is a page for the browser: a 404 (no payment has the session) or a
    405 (a GET) was rewritten into the API's JSON, without the way back to the portal."""
    response = api_client.post(CALLBACK, {"session_id": "nope"}, HTTP_ACCEPT="text/html")
    assert response.status_code == 404
    assert "text/html" in response["Content-Type"]
    assert b"/portal/" in response.content
    got = api_client.get(CALLBACK, HTTP_ACCEPT="text/html")
    assert got.status_code == 405 and "text/html" in got["Content-Type"]
    # any other client still gets the error format
    plain = api_client.post(CALLBACK, {"session_id": "nope"})
    assert plain.status_code == 404 and plain.json()["code"] == "not_found"
