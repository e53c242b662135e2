"""The back office of returns: the queue, and each step by the role that owns it."""

from __future__ import annotations

import pytest

from apps.finance.models import LedgerEntry
from apps.returns.models import ReturnRequest
from tests.returns.conftest import ask, line

pytestmark = [pytest.mark.django_db]


def url(returned, step=""):
    base = f"/admin/returns/returnrequest/{returned.pk}/"
    return f"{base}{step}/" if step else f"{base}change/"


@pytest.fixture
def returned(shop, order) -> ReturnRequest:
    ask(shop.owner, order, [line("A-1", 2)], note="Crushed")
    return ReturnRequest.objects.get()


def test_customer_service_approves_receives_and_finance_credits(returned, staff_client):
    desk = staff_client("Customer Service")
    page = desk.get(url(returned))
    assert page.status_code == 200 and b"Approve or reject" in page.content
    assert desk.get("/admin/returns/returnrequest/?status__exact=requested").status_code == 200

    assert desk.post(url(returned, "decide"), {"decision": "approved"}).status_code == 302
    response = desk.post(
        url(returned, "receive"),
        {f"quantity_{returned.lines.get().pk}": "2"},
    )
    assert response.status_code == 302
    returned.refresh_from_db()
    assert returned.status == "received"
    assert desk.get(url(returned, "credit")).status_code == 403  # finance's step

    finance = staff_client("Finance Manager")
    page = finance.get(url(returned, "credit"))
    assert b"240.00" in page.content  # 2 x 100.00 + 20 % VAT
    assert finance.post(url(returned, "credit"), {"note": ""}).status_code == 302
    returned.refresh_from_db()
    assert returned.status == "credited"
    assert LedgerEntry.objects.get(kind="credit_note").amount == -returned.credit_total


def test_rejecting_in_the_back_office_needs_a_reason(returned, staff_client):
    desk = staff_client("Customer Service")
    response = desk.post(url(returned, "decide"), {"decision": "rejected", "note": ""})
    assert response.status_code == 200 and "note" in response.context["form"].errors
    returned.refresh_from_db()
    assert returned.status == "requested"
    desk.post(url(returned, "decide"), {"decision": "rejected", "note": "Used"})
    returned.refresh_from_db()
    assert (returned.status, returned.decision_note) == ("rejected", "Used")


@pytest.mark.parametrize("role", ["Sales Manager", "Content Manager", "Finance Manager"])
def test_other_roles_cannot_decide_or_receive(returned, staff_client, role):
    client = staff_client(role)
    assert client.post(url(returned, "decide"), {"decision": "approved"}).status_code in (
        403,
        404,
    )
    returned.refresh_from_db()
    assert returned.status == "requested"
