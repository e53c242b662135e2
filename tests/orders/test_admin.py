"""The back office of orders and the ledger: orders are read-only and move only through the
actions (which call the services and report per order), each action needs its role's
permission, and ledger entries are added through the finance services, never changed or
deleted."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse

from apps.accounts.services.customers import customer_assign_sales_rep
from apps.finance.models import LedgerEntry
from apps.finance.services.ledger import ledger_post
from apps.inventory.models import StockLevel, StockMovement
from apps.orders.models import Order, OrderStatus
from apps.orders.services import order_set_status
from tests.factories import CustomerFactory
from tests.orders.conftest import place

pytestmark = [pytest.mark.django_db]

D = Decimal
S = OrderStatus
ORDERS = reverse("admin:orders_order_changelist")
LEDGER = reverse("admin:finance_ledgerentry_changelist")
ADJUST = reverse("admin:finance_ledgerentry_adjust")
ADD_ENTRY = reverse("admin:finance_ledgerentry_add")


def order_url(order: Order) -> str:
    return reverse("admin:orders_order_change", args=[order.pk])


def placed(shop, items=(("A-1", 2),), **extra) -> Order:
    response = place(shop.owner, list(items), **extra)
    assert response.status_code == 201, response.json()
    return Order.objects.get(number=response.json()["number"])


def over_credit(shop, quantity: int = 2) -> Order:
    shop.customer.credit_limit = D("0.00")
    shop.customer.save()
    order = placed(shop, [("A-1", quantity)])
    assert order.status == S.AWAITING_CREDIT_APPROVAL
    return order


def act(client, action: str, orders, **form):
    """Run a change list action on ``orders``; ``form`` fields go with the intermediate
    page's answer (``post=yes``)."""
    data = {"action": action, ACTION_CHECKBOX_NAME: [o.pk for o in orders]}
    if form:
        data.update(form, post="yes")
    else:
        data["index"] = "0"
    return client.post(ORDERS, data, follow=True)


def texts(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def status(order: Order) -> str:
    return Order.objects.get(pk=order.pk).status


def reserved(shop, sku: str = "A-1") -> int:
    return StockLevel.objects.get(product=shop.products[sku], warehouse=shop.warehouse).reserved


@pytest.fixture
def stocked(shop):
    shop.product("A-1", price="100", stock=20)
    return shop


# --- who sees what -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "orders_code", "ledger_code"),
    [
        ("Finance Manager", 200, 200),
        ("Customer Service", 200, 403),
        ("Sales Manager", 200, 200),
        ("Content Manager", 403, 403),
    ],
)
def test_role_groups_open_the_order_and_ledger_screens(
    staff_client, stocked, group, orders_code, ledger_code
):
    order = placed(stocked)
    client = staff_client(group)
    if group == "Sales Manager":  # sees the dealers assigned to them
        customer_assign_sales_rep(customer=stocked.customer, rep=client.user, by=None)
    assert client.get(ORDERS).status_code == orders_code
    assert client.get(order_url(order)).status_code == orders_code
    assert client.get(LEDGER).status_code == ledger_code


def test_a_sales_manager_sees_only_the_orders_of_their_dealers(staff_client, stocked):
    mine = placed(stocked)
    other_shop_customer = CustomerFactory()
    theirs = Order.objects.create(
        number="SO-2026-999999",
        customer=other_shop_customer,
        status=S.CONFIRMED,
        payment_method="on_account",
        subtotal_net=D("1.00"),
        vat_total=D("0.20"),
        grand_total=D("1.20"),
    )
    client = staff_client("Sales Manager")
    customer_assign_sales_rep(customer=stocked.customer, rep=client.user, by=None)

    response = client.get(ORDERS)

    assert [o.number for o in response.context["cl"].result_list] == [mine.number]
    assert client.get(order_url(theirs)).status_code == 302  # "does not exist" -> the index
    assert not response.context["cl"].model_admin.get_actions(response.wsgi_request)


def test_order_list_columns_search_and_filters(staff_client, stocked):
    first = placed(stocked, po_number="PO-777")
    second = placed(stocked)
    order_set_status(order=second, status=S.PROCESSING, actor="staff")
    client = staff_client("Customer Service")

    response = client.get(ORDERS)
    assert response.status_code == 200
    content = response.content.decode()
    for text in (first.number, stocked.customer.code, "on account", "240.00 ₺"):
        assert text in content
    # amounts read as money, in the language's way (grouping, separators, sign)
    client.cookies["django_language"] = "tr"
    assert "240,00 ₺" in client.get(ORDERS).content.decode()

    def numbers(params) -> set[str]:
        return {o.number for o in client.get(ORDERS, params).context["cl"].result_list}

    assert numbers({"q": "PO-777"}) == {first.number}
    assert numbers({"q": second.number}) == {second.number}
    assert numbers({"q": stocked.customer.code}) == {first.number, second.number}
    assert numbers({"status__exact": "processing"}) == {second.number}
    assert numbers({"payment_method__exact": "card"}) == set()
    assert numbers({"customer__id__exact": stocked.customer.pk}) == {first.number, second.number}
    assert numbers({"queue": "fulfil"}) == {first.number, second.number}
    assert numbers({"queue": "credit"}) == set()


def test_the_credit_approval_queue(staff_client, stocked):
    placed(stocked)
    waiting = over_credit(stocked)
    client = staff_client("Finance Manager")

    response = client.get(ORDERS)
    assert "Credit approval queue (1)" in response.content.decode()
    response = client.get(ORDERS, {"queue": "credit"})
    assert [o.number for o in response.context["cl"].result_list] == [waiting.number]
    # customer service works other queues: no credit link
    assert (
        "Credit approval queue" not in staff_client("Customer Service").get(ORDERS).content.decode()
    )


def test_order_detail_is_read_only_with_lines_history_reservation_and_account(
    staff_client, stocked
):
    ledger_post(customer=stocked.customer, kind="invoice", amount="150.00")
    order = over_credit(stocked, quantity=3)
    client = staff_client("Finance Manager")

    response = client.get(order_url(order))

    assert response.status_code == 200
    content = response.content.decode()
    assert "A-1" in content and "360.00 ₺" in content  # the line, as people read it
    assert "awaiting_credit_approval" in content or "awaiting credit approval" in content
    assert "Units still reserved: 3." in content
    assert f"order:{order.number}" in content
    assert "150.00" in content  # the dealer's balance
    assert "-510.00 ₺" in content  # available after approving: 0 - 150 - 360
    assert "-510.00 TRY" not in content  # amounts as people read them: the currency's sign
    assert f"customer__id__exact={stocked.customer.pk}" in content  # the ledger link
    assert 'name="_save"' not in content  # nothing to save: read-only
    # customer service sees the order, not the dealer's account
    content = staff_client("Customer Service").get(order_url(order)).content.decode()
    assert "Units still reserved" in content and "-510.00" not in content


def test_orders_cannot_be_added_changed_or_deleted_in_the_admin(staff_client, stocked):
    order = placed(stocked)
    client = staff_client(superuser=True)
    before = Order.objects.values().get(pk=order.pk)

    assert client.get(reverse("admin:orders_order_add")).status_code == 403
    assert client.get(reverse("admin:orders_order_delete", args=[order.pk])).status_code == 403
    response = client.post(order_url(order), {"status": "delivered", "grand_total": "0"})
    assert response.status_code == 403
    listing = client.get(ORDERS)
    actions = listing.context["cl"].model_admin.get_actions(listing.wsgi_request)
    assert "delete_selected" not in actions
    assert Order.objects.values().get(pk=order.pk) == before


# --- credit approval -----------------------------------------------------------------------------


def test_finance_manager_approves_credit(staff_client, stocked):
    order = over_credit(stocked)
    client = staff_client("Finance Manager")

    response = act(client, "approve_credit", [order])

    assert texts(response) == [f"Credit approved: {order.number}."]
    order.refresh_from_db()
    assert order.status == S.CONFIRMED and order.confirmed_at is not None
    change = order.status_history.get(to_status="confirmed")
    assert (change.actor, change.changed_by) == ("staff", client.user)
    assert reserved(stocked) == 2  # still held for the confirmed order


def test_approve_credit_refuses_orders_not_waiting_for_it_per_order(staff_client, stocked):
    waiting = over_credit(stocked)
    stocked.customer.credit_limit = D("100000.00")
    stocked.customer.save()
    card = placed(stocked, payment_method="card")
    client = staff_client("Finance Manager")

    response = act(client, "approve_credit", [waiting, card])

    messages = texts(response)
    assert f"Credit approved: {waiting.number}." in messages
    assert any(m.startswith(f"{card.number}: Not waiting for credit approval") for m in messages)
    assert status(card) == S.AWAITING_PAYMENT


def test_finance_manager_rejects_credit_with_a_reason(staff_client, stocked):
    order = over_credit(stocked)
    client = staff_client("Finance Manager")

    page = client.post(ORDERS, {"action": "reject_credit", ACTION_CHECKBOX_NAME: [order.pk]})
    assert page.status_code == 200 and "reason" in page.context["form"].fields
    response = act(client, "reject_credit", [order], reason="")
    assert "reason" in response.context["form"].errors
    assert status(order) == S.AWAITING_CREDIT_APPROVAL

    response = act(client, "reject_credit", [order], reason="Overdue invoices")

    assert texts(response) == [f"Credit rejected: {order.number}."]
    order.refresh_from_db()
    assert order.status == S.REJECTED
    change = order.status_history.get(to_status="rejected")
    assert (change.actor, change.changed_by, change.note) == (
        "staff",
        client.user,
        "Overdue invoices",
    )
    assert reserved(stocked) == 0


def test_customer_service_cannot_approve_or_reject_credit(staff_client, stocked):
    order = over_credit(stocked)
    client = staff_client("Customer Service")

    actions = client.get(ORDERS).context["action_form"].fields["action"].choices
    names = {name for name, _label in actions}
    assert "approve_credit" not in names and "reject_credit" not in names
    response = act(client, "approve_credit", [order])
    assert "No action selected." in texts(response)
    act(client, "reject_credit", [order], reason="no")
    assert status(order) == S.AWAITING_CREDIT_APPROVAL
    assert order.status_history.count() == 1


# --- fulfilment and cancelling -------------------------------------------------------------------


def test_customer_service_moves_an_order_through_fulfilment(staff_client, stocked):
    order = placed(stocked, [("A-1", 4)])
    client = staff_client("Customer Service")

    assert texts(act(client, "mark_processing", [order])) == [f"Marked processing: {order.number}."]
    page = client.post(ORDERS, {"action": "mark_shipped", ACTION_CHECKBOX_NAME: [order.pk]})
    assert set(page.context["form"].fields) == {"tracking_number", "carrier", "note"}
    response = act(client, "mark_shipped", [order], tracking_number="TRK-9", carrier="Aras")
    assert texts(response) == [f"Marked shipped: {order.number}."]
    order.refresh_from_db()
    assert (order.status, order.tracking_number, order.carrier) == ("shipped", "TRK-9", "Aras")
    level = StockLevel.objects.get(product=stocked.products["A-1"])
    assert (level.on_hand, level.reserved) == (16, 0)
    assert StockMovement.objects.filter(reference=f"order:{order.number}", kind="sale").exists()

    act(client, "mark_delivered", [order])

    order.refresh_from_db()
    assert order.status == S.DELIVERED and order.delivered_at is not None
    history = list(order.status_history.values_list("to_status", "actor", "changed_by"))
    assert history[1:] == [
        ("processing", "staff", client.user.pk),
        ("shipped", "staff", client.user.pk),
        ("delivered", "staff", client.user.pk),
    ]


def test_each_order_reports_its_own_success_or_refusal(staff_client, stocked):
    confirmed = placed(stocked)
    shipped = placed(stocked)
    for to in (S.PROCESSING, S.SHIPPED):
        order_set_status(order=shipped, status=to, actor="staff")
    client = staff_client("Customer Service")

    messages = texts(act(client, "mark_processing", [confirmed, shipped]))

    assert f"Marked processing: {confirmed.number}." in messages
    assert f"{shipped.number}: An order that is shipped cannot become processing." in messages
    assert (status(confirmed), status(shipped)) == (S.PROCESSING, S.SHIPPED)


def test_marking_the_status_an_order_already_has_changes_nothing(staff_client, stocked):
    order = placed(stocked)
    order_set_status(order=order, status=S.PROCESSING, actor="staff")
    client = staff_client("Customer Service")

    messages = texts(act(client, "mark_processing", [order]))

    assert messages == [f"Already in that status, nothing changed: {order.number}."]
    assert order.status_history.count() == 2


def test_cancel_with_a_reason_releases_the_reservation(staff_client, stocked):
    order = placed(stocked, [("A-1", 5)])
    order_set_status(order=order, status=S.PROCESSING, actor="staff")
    client = staff_client("Customer Service")
    assert reserved(stocked) == 5

    response = act(client, "cancel_orders", [order], reason="")
    assert "reason" in response.context["form"].errors
    # the page asking for the reason names each order's total as people read it
    total = f"{order.grand_total:,.2f} ₺"
    assert f"{order.number} · {order.customer.code} · {total}" in response.content.decode()
    response = act(client, "cancel_orders", [order], reason="Dealer called")

    assert texts(response) == [f"Cancelled: {order.number}."]
    order.refresh_from_db()
    assert order.status == S.CANCELLED and order.cancelled_at is not None
    assert order.status_history.get(to_status="cancelled").note == "Dealer called"
    assert reserved(stocked) == 0


def test_a_shipped_order_cannot_be_cancelled(staff_client, stocked):
    order = placed(stocked)
    for to in (S.PROCESSING, S.SHIPPED):
        order_set_status(order=order, status=to, actor="staff")

    messages = texts(
        act(staff_client("Customer Service"), "cancel_orders", [order], reason="Too late")
    )

    assert messages == [f"{order.number}: An order that is shipped cannot become cancelled."]
    assert status(order) == S.SHIPPED


def test_the_finance_manager_cannot_mark_shipped(staff_client, stocked):
    order = placed(stocked)
    order_set_status(order=order, status=S.PROCESSING, actor="staff")

    act(staff_client("Finance Manager"), "mark_shipped", [order], tracking_number="T")

    assert status(order) == S.PROCESSING


# --- the buttons of the order page ---------------------------------------------------------------


def test_the_order_page_offers_what_the_user_may_do_now(staff_client, stocked):
    order = over_credit(stocked)
    finance = staff_client("Finance Manager")
    service = staff_client("Customer Service")

    def offered(client) -> set[str]:
        return {name for name, _label in client.get(order_url(order)).context["order_actions"]}

    assert offered(finance) == {"approve_credit", "reject_credit", "cancel_orders"}
    assert offered(service) == {"cancel_orders"}
    sales = staff_client("Sales Manager")
    customer_assign_sales_rep(customer=stocked.customer, rep=sales.user, by=None)
    assert offered(sales) == set()  # sees the order, may not move it


def test_a_button_of_the_order_page_comes_back_to_the_order(staff_client, stocked):
    order = over_credit(stocked)
    client = staff_client("Finance Manager")

    response = client.post(
        ORDERS, {"action": "approve_credit", ACTION_CHECKBOX_NAME: [order.pk], "_from_order": "1"}
    )

    assert response.status_code == 302 and response["Location"] == order_url(order)
    assert status(order) == S.CONFIRMED


# --- the ledger ----------------------------------------------------------------------------------


def test_an_adjustment_needs_a_reason_and_creates_an_immutable_entry(staff_client, stocked):
    client = staff_client("Finance Manager")
    customer = stocked.customer

    assert client.get(ADJUST, {"customer": customer.pk}).status_code == 200
    response = client.post(ADJUST, {"customer": customer.pk, "amount": "-75.50", "reason": ""})
    assert response.status_code == 200 and "reason" in response.context["form"].errors
    response = client.post(ADJUST, {"customer": customer.pk, "amount": "0", "reason": "x"})
    assert "amount" in response.context["form"].errors
    assert not LedgerEntry.objects.exists()

    response = client.post(
        ADJUST, {"customer": customer.pk, "amount": "-75.50", "reason": "Goodwill for late goods"}
    )

    assert response.status_code == 302
    entry = LedgerEntry.objects.get()
    assert (entry.kind, entry.amount, entry.reason, entry.created_by) == (
        "adjustment",
        D("-75.50"),
        "Goodwill for late goods",
        client.user,
    )
    # immutable: no change, no delete, in the admin or anywhere
    change_url = reverse("admin:finance_ledgerentry_change", args=[entry.pk])
    assert client.get(change_url).status_code == 200  # read-only view
    assert client.post(change_url, {"amount": "1.00"}).status_code == 403
    delete_url = reverse("admin:finance_ledgerentry_delete", args=[entry.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    response = client.post(
        LEDGER, {"action": "delete_selected", ACTION_CHECKBOX_NAME: [entry.pk], "post": "yes"}
    )
    assert response.status_code == 200 and not response.context["cl"].model_admin.get_actions(
        response.wsgi_request
    )  # no actions at all: no "delete selected"
    entry.amount = D("1.00")
    with pytest.raises(DjangoValidationError):
        entry.save()
    assert LedgerEntry.objects.get().amount == D("-75.50")


def test_add_entry_goes_through_ledger_post_and_its_sign_rules(staff_client, stocked):
    client = staff_client("Finance Manager")
    customer = stocked.customer
    kinds = {k for k, _l in client.get(ADD_ENTRY).context["form"].fields["kind"].choices}
    assert kinds == {"opening_balance", "invoice", "payment", "credit_note"}

    base = {"customer": customer.pk, "entry_date": "2026-03-01"}
    signed = {"document_number": "DEK-1", "reason": "receipt on file"}
    response = client.post(ADD_ENTRY, {**base, **signed, "kind": "payment", "amount": "500.00"})
    assert response.status_code == 200 and "amount" in response.context["form"].errors
    response = client.post(
        ADD_ENTRY,
        {
            **base,
            "kind": "invoice",
            "amount": "1200.00",
            "document_number": "ABC2026000000001",
            "reason": "Issued before the ERP connector went live",
        },
    )
    assert response.status_code == 302
    response = client.post(ADD_ENTRY, {**base, "kind": "adjustment", "amount": "5.00"})
    assert "kind" in response.context["form"].errors  # adjustments have their own form

    entry = LedgerEntry.objects.get()
    assert (entry.kind, entry.amount, entry.document_number, entry.created_by) == (
        "invoice",
        D("1200.00"),
        "ABC2026000000001",
        client.user,
    )
    assert str(entry.entry_date) == "2026-03-01"


def test_ledger_list_by_dealer_shows_the_account(staff_client, stocked):
    ledger_post(customer=stocked.customer, kind="invoice", amount="300.00")
    ledger_post(customer=stocked.customer, kind="payment", amount="-100.00")
    ledger_post(customer=CustomerFactory(), kind="invoice", amount="999.00")
    client = staff_client("Finance Manager")

    response = client.get(LEDGER, {"customer__id__exact": stocked.customer.pk})

    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert {row.amount for row in rows} == {D("300.00"), D("-100.00")}
    summary = dict(response.context["dealer_summary"])
    assert summary["balance"] == D("200.00")
    assert summary["available credit"] == D("9800.00")
    assert response.context["adjust_url"].endswith(f"?customer={stocked.customer.pk}")
    # the admin's own "Add" button carries the filter: the form starts with that dealer
    add = client.get(
        ADD_ENTRY, {"_changelist_filters": f"customer__id__exact={stocked.customer.pk}"}
    )
    assert add.context["form"]["customer"].value() == str(stocked.customer.pk)
    by_kind = client.get(LEDGER, {"kind__exact": "payment"}).context["cl"].result_list
    assert [row.amount for row in by_kind] == [D("-100.00")]


def test_ledger_writes_need_the_finance_permissions(staff_client, stocked):
    client = staff_client("Sales Manager")  # may read the ledger, not write it
    customer_assign_sales_rep(customer=stocked.customer, rep=client.user, by=None)
    data = {"customer": stocked.customer.pk, "amount": "10.00", "reason": "x"}

    assert client.get(LEDGER).status_code == 200
    assert client.get(ADJUST).status_code == 403
    assert client.post(ADJUST, data).status_code == 403
    assert client.post(ADD_ENTRY, {**data, "kind": "invoice"}).status_code == 403
    assert staff_client("Customer Service").post(ADJUST, data).status_code == 403
    assert not LedgerEntry.objects.exists()


def test_a_sales_manager_sees_only_the_ledgers_of_their_dealers(staff_client, stocked):
    ledger_post(customer=stocked.customer, kind="invoice", amount="300.00")
    ledger_post(customer=CustomerFactory(), kind="invoice", amount="999.00")
    client = staff_client("Sales Manager")
    customer_assign_sales_rep(customer=stocked.customer, rep=client.user, by=None)

    rows = client.get(LEDGER).context["cl"].result_list

    assert [row.amount for row in rows] == [D("300.00")]


def test_the_status_history_names_statuses_and_actors_not_their_codes(staff_client, stocked):
    from apps.orders.admin import OrderStatusChangeInline  # here: only this test reads it

    order = over_credit(stocked)
    client = staff_client("Finance Manager")
    act(client, "approve_credit", [order])

    page = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "field-to_label" in page and "field-to_status" not in page
    inline = OrderStatusChangeInline(Order, admin.site)
    change = order.status_history.get(to_status="confirmed")
    assert (
        inline.from_label(change),
        inline.to_label(change),
        inline.actor_label(change),
    ) == (
        str(S.AWAITING_CREDIT_APPROVAL.label),
        str(S.CONFIRMED.label),
        "staff",
    )


def test_an_order_line_names_its_price_source_in_words_not_its_code(staff_client, stocked):
    """A line priced from the list shows "List price", not ``list``; the engine's and a
    quote's codes read the same way (the labels every screen shares)."""
    from apps.pricing.engine import source_label  # here: only this test reads the labels

    order = placed(stocked)
    assert order.lines.get().price_source == "list"

    page = staff_client("Customer Service").get(order_url(order)).content.decode()

    assert "field-price_source_label" in page and 'field-price_source"' not in page
    cells = re.findall(r'class="field-price_source_label">\s*<p>([^<]*)</p>', page)
    assert cells == ["List price"]
    assert [source_label(code) for code in ("special", "tier:B", "list", "quote", "other")] == [
        "Special price of the dealer",
        "Tier B price list",
        "List price",
        "Accepted quote",
        "other",
    ]
    assert source_label("tier:B", to_dealer=True) == "tier B price list"


def test_the_back_office_shows_the_systems_own_texts_in_the_staff_members_language(
    staff_client, stocked
):
    """Status notes, the ledger's descriptions and a card payment's message were shown as
    stored (in English, a worker's or a callback's language) to Turkish staff; the portal, the
    API and the statements already showed them in the reader's language."""
    from apps.finance.card_messages import bank_declined_message
    from apps.finance.models import CardPayment

    waiting = over_credit(stocked)
    ledger_post(
        customer=stocked.customer,
        kind="opening_balance",
        amount=D("10.00"),
        description="Opening balance",  # as the system writes it in English
    )
    declined = CardPayment.objects.create(
        customer=stocked.customer,
        provider="paynet",
        reference="CP000001TEST01",
        amount=D("10.00"),
        status=CardPayment.Status.FAILED,
        message=bank_declined_message("54"),
    )
    client = staff_client(superuser=True)
    client.cookies["django_language"] = "tr"

    order_page = client.get(order_url(waiting)).content.decode()
    assert "Sipariş verildi; kredi limitini aşıyor: finans onayını bekliyor." in order_page
    assert "waits for finance" not in order_page
    ledger = client.get(LEDGER).content.decode()
    assert "Devir bakiyesi" in ledger and "Opening balance" not in ledger
    payment = client.get(reverse("admin:finance_cardpayment_change", args=[declined.pk]))
    assert "Banka ödemeyi reddetti: kartın süresi dolmuş." in payment.content.decode()


def test_finance_confirms_an_order_paid_by_transfer_instead_of_card(staff_client, stocked):
    """The state table lets staff confirm an order waiting for its card payment; the back
    office offered no way to: a dealer who paid by bank transfer had to cancel and reorder."""
    waiting = placed(stocked, payment_method="card")
    assert waiting.status == S.AWAITING_PAYMENT
    other = placed(stocked)  # on account: confirmed already
    client = staff_client("Finance Manager")
    page = client.get(order_url(waiting)).content.decode()
    assert "Confirm as paid" in page
    assert "Confirm as paid" not in client.get(order_url(other)).content.decode()

    asked = act(client, "confirm_payment", [waiting])
    assert asked.status_code == 200 and status(waiting) == S.AWAITING_PAYMENT  # asks first
    assert "note" in asked.context["form"].fields
    blank = act(client, "confirm_payment", [waiting], note="  ")
    assert status(waiting) == S.AWAITING_PAYMENT and blank.context["form"].errors
    done = act(client, "confirm_payment", [waiting, other], note="Havale, dekont 4411")
    assert status(waiting) == S.CONFIRMED
    said = texts(done)
    assert any(other.number in m and "not waiting for a payment" in m for m in said)
    change = waiting.status_history.order_by("-id").first()
    assert (change.actor, change.note, change.changed_by.groups.first().name) == (
        "staff",
        "Havale, dekont 4411",
        "Finance Manager",
    )
    # customer service may not
    assert "confirm_payment" not in staff_client("Customer Service").get(ORDERS).content.decode()
