"""The current account (DESIGN.md "Current account"): signed, immutable entries; the balance,
open orders, available credit and overdue amount on `account/summary` and `company`."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.core.exceptions import Conflict, ValidationError
from apps.finance.models import LedgerEntry
from apps.finance.selectors import customer_balance, customer_credit_exposure, overdue_total
from apps.finance.services.ledger import ledger_adjust, ledger_post
from apps.orders import services
from apps.orders.models import Order
from apps.orders.services.invoicing import orders_mark_invoiced
from tests.factories import CustomerFactory
from tests.orders.conftest import place

pytestmark = [pytest.mark.django_db]

D = Decimal


def test_kinds_fix_the_sign():
    customer = CustomerFactory()
    with pytest.raises(ValidationError):
        ledger_post(customer=customer, kind="invoice", amount="-1.00")
    with pytest.raises(ValidationError):
        ledger_post(customer=customer, kind="payment", amount="5.00")
    with pytest.raises(ValidationError):
        ledger_post(customer=customer, kind="credit_note", amount="5.00")
    with pytest.raises(ValidationError):
        ledger_post(customer=customer, kind="invoice", amount="1.001")
    with pytest.raises(ValidationError) as error:
        ledger_adjust(customer=customer, amount="10.00", reason=" ", by=None)
    assert "reason" in error.value.errors
    assert not LedgerEntry.objects.exists()


def test_balance_is_the_sum_positive_means_the_dealer_owes():
    customer = CustomerFactory()
    ledger_post(customer=customer, kind="opening_balance", amount="250.00")
    ledger_post(customer=customer, kind="invoice", amount="1000.00")
    ledger_post(customer=customer, kind="payment", amount="-600.00")
    ledger_post(customer=customer, kind="credit_note", amount="-50.00")
    ledger_adjust(customer=customer, amount="-0.50", reason="Rounding", by=None)
    assert customer_balance(customer=customer) == D("599.50")


def test_one_opening_balance_per_dealer():
    customer = CustomerFactory()
    ledger_post(customer=customer, kind="opening_balance", amount="0.00")
    with pytest.raises(Conflict):
        ledger_post(customer=customer, kind="opening_balance", amount="10.00")


def test_entries_are_immutable_even_in_sql():
    customer = CustomerFactory()
    entry = ledger_post(customer=customer, kind="invoice", amount="10.00")
    entry.amount = D("1.00")
    with pytest.raises(Exception, match="cannot be changed"):
        entry.save()
    with pytest.raises(Exception, match="cannot be deleted"):
        entry.delete()
    with (
        pytest.raises(DatabaseError, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE finance_ledgerentry SET amount = 1 WHERE id = %s", [entry.pk])
    assert LedgerEntry.objects.get().amount == D("10.00")


def test_an_invoice_without_a_due_date_is_due_after_the_payment_terms():
    customer = CustomerFactory(payment_terms_days=30)
    entry = ledger_post(customer=customer, kind="invoice", amount="10.00")
    assert entry.due_date == entry.entry_date + timedelta(days=30)


def test_overdue_is_the_balance_less_invoices_not_yet_due():
    customer = CustomerFactory()
    today = timezone.localdate()
    ledger_post(
        customer=customer, kind="invoice", amount="300.00", due_date=today - timedelta(days=5)
    )
    ledger_post(
        customer=customer, kind="invoice", amount="200.00", due_date=today + timedelta(days=5)
    )
    assert overdue_total(customer=customer) == D("300.00")
    ledger_post(customer=customer, kind="payment", amount="-250.00")  # settles the oldest
    assert overdue_total(customer=customer) == D("50.00")
    ledger_post(customer=customer, kind="payment", amount="-400.00")
    assert overdue_total(customer=customer) == D("0.00")


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["invoice", "payment", "credit_note", "adjustment"]),
            st.decimals(min_value=D("0.01"), max_value=D("99999.99"), places=2),
        ),
        max_size=12,
    )
)
def test_property_balance_equals_the_signed_sum(entries):
    customer = CustomerFactory()
    expected = D("0.00")
    for kind, amount in entries:
        signed = -amount if kind in ("payment", "credit_note") else amount
        if kind == "adjustment":
            ledger_adjust(customer=customer, amount=signed, reason="test", by=None)
        else:
            ledger_post(customer=customer, kind=kind, amount=signed)
        expected += signed
    assert customer_balance(customer=customer) == expected
    assert D("0.00") <= overdue_total(customer=customer) <= max(expected, D("0.00"))


_ALL_STATUSES = [
    "awaiting_approval",
    "awaiting_credit_approval",
    "awaiting_payment",
    "confirmed",
    "processing",
    "shipped",
    "delivered",
    "cancelled",
    "rejected",
]
_MONEY = st.decimals(min_value=D("0.01"), max_value=D("99999.99"), places=2)


@settings(max_examples=40, deadline=None)
@given(
    orders=st.lists(
        st.tuples(
            st.sampled_from(_ALL_STATUSES),
            _MONEY,
            # what the ERP invoiced of it: nothing, a part, all of it, or more (a freight line)
            st.sampled_from(["none", "part", "all", "more"]),
        ),
        max_size=8,
    ),
    ledger=st.lists(
        st.tuples(st.sampled_from(["invoice", "payment", "credit_note"]), _MONEY), max_size=5
    ),
    limit=st.decimals(min_value=D("0.00"), max_value=D("500000.00"), places=2),
    new_order=_MONEY,
)
def test_property_credit_exposure_is_balance_plus_open_uninvoiced_orders_plus_this_one(
    orders, ledger, limit, new_order
):
    """DESIGN.md, Orders, step 2: exposure = ledger balance + the gross of the dealer's open
    orders not yet invoiced + this order, and above the credit limit an on-account order
    waits for credit approval. Orders waiting (for the owner, credit or a card), cancelled or
    rejected never count; an order's invoiced part counts in the ledger, not twice. (A
    delivered order not yet invoiced counts for what is not invoiced: the goods are the
    dealer's, the debt not yet in the ledger.)"""
    from apps.orders.services.placement import continue_chain  # the decision itself

    customer = CustomerFactory(credit_limit=limit)
    balance = D("0.00")
    for kind, amount in ledger:
        signed = -amount if kind in ("payment", "credit_note") else amount
        ledger_post(customer=customer, kind=kind, amount=signed)
        balance += signed
    open_total = D("0.00")
    invoiced = []
    for status, gross, billed in orders:
        order = Order.objects.create(
            number=f"SO-P-{Order.objects.count() + 1:06d}",
            customer=customer,
            status=status,
            payment_method="on_account",
            subtotal_net=gross,
            vat_total=D("0.00"),
            grand_total=gross,
        )
        amount = {"none": D("0"), "part": (gross / 3).quantize(D("0.01")), "all": gross}.get(
            billed, gross + D("10.00")
        )
        if amount:
            invoiced.append((order.pk, amount))
        if status in ("confirmed", "processing", "shipped", "delivered"):
            open_total += max(gross - amount, D("0.00"))
    orders_mark_invoiced(invoices=invoiced, at=timezone.now())

    expected = balance + open_total + new_order
    assert customer_credit_exposure(customer=customer, extra=new_order) == expected
    chosen = continue_chain(customer=customer, grand_total=new_order, payment_method="on_account")
    assert chosen == ("awaiting_credit_approval" if expected > limit else "confirmed")


def test_account_summary_and_company_show_balance_open_orders_and_available_credit(shop):
    shop.product("A-1", price="100", stock=100)
    ledger_post(customer=shop.customer, kind="invoice", amount="1000.00")
    place(shop.owner, [("A-1", 10)])  # 1200 gross, confirmed: open
    card = place(shop.owner, [("A-1", 1)], "card").json()["number"]  # awaiting payment: not open
    summary = shop.owner.get("/api/v1/account/summary").json()
    assert summary == {
        "currency": "TRY",
        "balance": "1000.00",
        "credit_limit": "10000.00",
        "open_orders_total": "1200.00",
        "available_credit": "7800.00",
        "overdue_total": "0.00",
    }
    company = shop.owner.get("/api/v1/company").json()
    assert company["balance"] == "1000.00" and company["available_credit"] == "7800.00"
    services.order_cancel(order=Order.objects.get(number=card), by=None, reason="Not needed")
    order = Order.objects.exclude(number=card).get()
    # the ERP's invoice arrived (in the ledger from now on): no longer an open order
    orders_mark_invoiced(invoices=[(order.pk, D("1200.00"))], at=timezone.now())
    assert shop.owner.get("/api/v1/account/summary").json()["open_orders_total"] == "0.00"


def test_what_is_not_invoiced_of_an_order_counts_against_the_credit_limit_until_invoiced(shop):
    """Credit exposure (DESIGN.md, Orders, step 2) = ledger balance + what the open orders
    are worth beyond their invoices. An order delivered before the ERP invoiced it, or invoiced
    in part, still counts for the rest: otherwise goods handed over free credit that nobody
    has billed yet."""
    shop.product("A-1", price="100", stock=100)
    number = place(shop.owner, [("A-1", 10)]).json()["number"]  # 1200.00 gross, confirmed
    order = Order.objects.get(number=number)

    def figures() -> tuple[str, str]:
        body = shop.owner.get("/api/v1/account/summary").json()
        return body["open_orders_total"], body["available_credit"]

    for status in ("processing", "shipped", "delivered"):
        services.order_set_status(order=order, status=status, actor="erp")
    assert figures() == ("1200.00", "8800.00")  # delivered, nothing invoiced yet

    ledger_post(customer=shop.customer, kind="invoice", amount="500.00")
    orders_mark_invoiced(invoices=[(order.pk, D("500.00"))], at=timezone.now())
    assert figures() == ("700.00", "8800.00")  # invoiced in part: the rest still counts

    ledger_post(customer=shop.customer, kind="invoice", amount="700.00")
    orders_mark_invoiced(invoices=[(order.pk, D("700.00"))], at=timezone.now())
    assert figures() == ("0.00", "8800.00")  # all in the ledger now
    order.refresh_from_db()
    assert order.invoiced_total == D("1200.00") and order.invoiced_at is not None


def test_purchasing_users_do_not_see_the_account(shop):
    assert shop.client("purchasing").get("/api/v1/account/summary").status_code == 403
    assert shop.client("finance").get("/api/v1/account/summary").status_code == 200
