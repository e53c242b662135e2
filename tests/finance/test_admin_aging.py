"""The back office's aging report: every dealer's open debt by bucket and in total, sortable,
exportable; invoices and payments are read-only screens."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.finance.services.ledger import ledger_post
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db]
URL = "/admin/finance/ledgerentry/aging/"
D = Decimal


@pytest.fixture
def books():
    today = timezone.localdate()
    a, b, c = (CustomerFactory(code=code) for code in ("AAA", "BBB", "CCC"))
    ledger_post(
        customer=a, kind="invoice", amount="100.00", due_date=today + datetime.timedelta(days=5)
    )
    ledger_post(
        customer=a, kind="invoice", amount="40.00", due_date=today - datetime.timedelta(days=45)
    )
    ledger_post(
        customer=b, kind="invoice", amount="500.00", due_date=today - datetime.timedelta(days=120)
    )
    ledger_post(customer=b, kind="payment", amount="-100.00")
    ledger_post(
        customer=c, kind="invoice", amount="10.00", due_date=today - datetime.timedelta(days=1)
    )
    ledger_post(customer=c, kind="payment", amount="-10.00")  # owes nothing
    return a, b, c


def test_aging_per_dealer_and_in_total_sorted_by_total(staff_client, books):
    response = staff_client("Finance Manager").get(URL)
    assert response.status_code == 200
    rows = {row["code"]: row["amounts"] for row in response.context["rows"]}
    # written for people: grouped, two places, the currency sign
    assert rows == {
        "BBB": ["0.00 ₺", "0.00 ₺", "0.00 ₺", "0.00 ₺", "400.00 ₺", "400.00 ₺"],
        "AAA": ["100.00 ₺", "0.00 ₺", "40.00 ₺", "0.00 ₺", "0.00 ₺", "140.00 ₺"],
    }
    assert [row["code"] for row in response.context["rows"]] == ["BBB", "AAA"]
    assert response.context["totals"] == [
        "100.00 ₺",
        "0.00 ₺",
        "40.00 ₺",
        "0.00 ₺",
        "400.00 ₺",
        "540.00 ₺",
    ]
    assert "540.00 ₺" in response.content.decode()


def test_aging_sorts_by_any_column_and_exports(staff_client, books):
    client = staff_client("Finance Manager")
    by_code = client.get(URL, {"o": "code", "all": "1"}).context["rows"]
    assert [row["code"] for row in by_code][:3] == ["AAA", "BBB", "CCC"]
    exported = client.get(URL, {"o": "-not_due", "format": "csv"})
    assert exported["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["AAA", "BBB", "Total"]
    assert rows[-1][-1] == "540.00"


def test_a_sales_manager_sees_only_their_dealers(staff_client, books):
    from apps.accounts.services.customers import customer_assign_sales_rep

    client = staff_client("Sales Manager")
    customer_assign_sales_rep(customer=books[0], rep=client.user, by=None)
    rows = client.get(URL, {"all": "1"}).context["rows"]
    assert [row["code"] for row in rows] == ["AAA"]
