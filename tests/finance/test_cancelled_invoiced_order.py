"""An order the ERP invoiced and staff (or the ERP) then cancel: the invoice must not stay on the
dealer's account as a debt for goods it will not get. A credit note named after the order
credits the order's invoices in full, in the cancelling transaction, and pays them first; money
already paid for them stays on the account as credit (docs/finance.md)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from apps.finance.models import Invoice, LedgerEntry
from apps.finance.selectors import customer_balance, invoice_queryset, overdue_total
from apps.orders import services
from apps.orders.models import Order
from apps.orders.states import ERP, STAFF
from tests.factories import CustomerFactory, StaffUserFactory
from tests.finance.helpers import INVOICES, PAYMENTS, invoice, line, make_order, payment, post

pytestmark = [pytest.mark.django_db]

D = Decimal


@pytest.fixture
def invoiced(integration_client):
    customer = CustomerFactory(code="BAYI-1")
    order = make_order(customer, gross="120.00")
    today = timezone.localdate().isoformat()
    erp = integration_client()
    record = invoice(order_number=order.number, issue_date=today, due_date=today, lines=[line()])
    post(erp, INVOICES, [record])
    other = invoice(number="ABC2026000000002", issue_date=today, due_date=today)
    post(erp, INVOICES, [other])  # another debt of the dealer, older in FIFO terms: not paid
    return customer, Order.objects.get(pk=order.pk), erp


def _open(number: str) -> Decimal:
    return invoice_queryset(Invoice.objects.filter(number=number)).get().open_amount


@pytest.mark.parametrize("actor", [STAFF, ERP])
def test_cancelling_an_invoiced_order_credits_its_invoice(invoiced, actor):
    customer, order, _erp = invoiced
    assert customer_balance(customer=customer) == D("240.00")
    staff = StaffUserFactory() if actor == STAFF else None

    services.order_cancel(order=order, by=staff, reason="Customer withdrew", actor=actor)

    note = LedgerEntry.objects.get(customer=customer, kind="credit_note")
    assert (note.amount, note.document_number) == (D("-120.00"), order.number)
    assert note.description == f"Credit note for cancelled order {order.number}"
    assert note.created_by == staff
    assert _open("ABC2026000000001") == D("0.00")  # the order's own invoice, not the other
    assert _open("ABC2026000000002") == D("120.00")
    assert customer_balance(customer=customer) == D("120.00")
    assert overdue_total(customer=customer) == D("0.00")  # both due today: nothing past due


def test_money_paid_for_the_cancelled_orders_invoice_stays_as_credit(invoiced):
    customer, order, erp = invoiced
    post(erp, PAYMENTS, [payment(amount="240.00", date=timezone.localdate().isoformat())])
    assert customer_balance(customer=customer) == D("0.00")

    services.order_cancel(order=order, by=None, reason="", actor=STAFF)

    assert customer_balance(customer=customer) == D("-120.00")  # the dealer's credit
    assert LedgerEntry.objects.filter(kind="credit_note").count() == 1


def test_an_order_without_an_invoice_is_cancelled_without_a_credit_note(invoiced):
    customer, _order, _erp = invoiced
    plain = make_order(customer, gross="50.00")
    services.order_cancel(order=plain, by=None, reason="", actor=STAFF)
    assert not LedgerEntry.objects.filter(kind="credit_note").exists()


def test_an_invoice_naming_an_order_cancelled_before_is_refused_on_order_number(
    integration_client,
):
    """The other way round: the order was cancelled first (the dealer was told it owes
    nothing), then the ERP sends an invoice naming it. The record fails on order_number with
    the reason and nothing is booked; the same invoice without order_number is a debt."""
    customer = CustomerFactory(code="BAYI-1")
    order = make_order(customer, gross="120.00")
    services.order_cancel(order=order, by=None, reason="", actor=ERP)
    today = timezone.localdate().isoformat()
    erp = integration_client()
    record = invoice(order_number=order.number, issue_date=today, due_date=today, lines=[line()])
    body = post(erp, INVOICES, [record])
    assert body["failed"] == 1
    [error] = body["errors"]
    assert error["key"] == "ABC2026000000001"
    assert f"Order {order.number} is cancelled" in error["errors"]["order_number"][0]
    assert not Invoice.objects.exists() and customer_balance(customer=customer) == D("0.00")

    del record["order_number"]
    assert post(erp, INVOICES, [record])["created"] == 1
    assert customer_balance(customer=customer) == D("120.00")
