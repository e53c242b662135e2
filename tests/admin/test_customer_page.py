"""The customer's page in the back office (issue "Back office": "a pending customer's page has
no Approve button; the customer page shows no balance, credit exposure or open orders"): an
Approve button for those who may approve, through ``customer_approve``; the current account
(balance, credit limit, open orders, available credit, overdue) for the finance roles only."""

from __future__ import annotations

import datetime

import pytest

from apps.accounts.models import CustomerStatus
from apps.finance.services.ledger import ledger_post
from tests.factories import CustomerFactory
from tests.finance.helpers import make_order

pytestmark = [pytest.mark.django_db]


def test_a_pending_customer_is_approved_from_its_page(staff_client):
    pending = CustomerFactory(status=CustomerStatus.PENDING)
    service = staff_client("Customer Service")
    page = service.get(f"/admin/accounts/customer/{pending.pk}/change/").content.decode()
    approve = f"/admin/accounts/customer/{pending.pk}/approve/"
    assert approve in page
    assert service.get(approve).status_code == 200  # a confirmation first
    response = service.post(approve)
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == CustomerStatus.ACTIVE
    page = service.get(f"/admin/accounts/customer/{pending.pk}/change/").content.decode()
    assert approve not in page  # nothing left to approve


def test_only_those_who_may_approve_get_the_button(staff_client):
    pending = CustomerFactory(status=CustomerStatus.PENDING)
    finance = staff_client("Finance Manager")  # sees customers, does not approve them
    page = finance.get(f"/admin/accounts/customer/{pending.pk}/change/").content.decode()
    approve = f"/admin/accounts/customer/{pending.pk}/approve/"
    assert approve not in page
    assert finance.post(approve).status_code == 403
    pending.refresh_from_db()
    assert pending.status == CustomerStatus.PENDING


def test_the_current_account_shows_to_the_finance_roles_only(staff_client):
    customer = CustomerFactory(credit_limit="10000.00")
    ledger_post(
        customer=customer,
        kind="invoice",
        amount="1500.00",
        entry_date=datetime.date(2026, 9, 1),
        due_date=datetime.date(2026, 9, 30),
    )
    make_order(customer, status="confirmed", gross="250.00")
    finance = staff_client("Finance Manager")
    page = finance.get(f"/admin/accounts/customer/{customer.pk}/change/").content.decode()
    assert "1,500.00 ₺" in page and "250.00 ₺" in page and "8,250.00 ₺" in page
    content = staff_client("Content Manager")
    response = content.get(f"/admin/accounts/customer/{customer.pk}/change/")
    assert response.status_code in (302, 403) or "1,500.00 ₺" not in response.content.decode()
