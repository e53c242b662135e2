"""POST /api/integration/v1/payments and the settlement of open items: a payment pays the
invoices it names first, then the oldest due first (FIFO), never more than is open; what is
left stays as credit and pays the next invoice."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.core.models import OutboxEvent
from apps.finance.models import LedgerEntry, Payment, Settlement
from apps.finance.selectors import customer_balance, invoice_queryset, open_debts, overdue_total
from apps.finance.services.ledger import ledger_adjust, ledger_post
from tests.factories import CustomerFactory
from tests.finance.helpers import INVOICES, PAYMENTS, invoice, line, payment, post

pytestmark = [pytest.mark.django_db]
D = Decimal


@pytest.fixture
def client(integration_client):
    return integration_client(scopes=["invoices:write", "payments:write"])


@pytest.fixture
def dealer():
    return CustomerFactory(code="BAYI-1")


def _invoices(client, *specs):
    """``(number suffix, due date, quantity)`` -> invoices of 100.00 net per unit, 20 % VAT."""
    post(
        client,
        INVOICES,
        [
            invoice(number=f"ABC2026{n:09d}", due_date=due, lines=[line(str(qty), "100")])
            for n, due, qty in specs
        ],
    )


def _open(number):
    return invoice_queryset().get(number=number).open_amount


def test_a_payment_pays_the_oldest_due_first(client, dealer):
    _invoices(client, (1, "2026-12-20", 1), (2, "2026-11-10", 1), (3, "2026-11-25", 1))  # 120 each
    body = post(client, PAYMENTS, [payment(amount="200.00")])

    assert body["created"] == 1
    assert _open("ABC2026000000002") == D("0.00")  # due first
    assert _open("ABC2026000000003") == D("40.00")
    assert _open("ABC2026000000001") == D("120.00")
    entry = LedgerEntry.objects.get(kind="payment")
    assert entry.amount == D("-200.00") and entry.document_number == "DEK-1"
    assert customer_balance(customer=dealer) == D("160.00")
    event = OutboxEvent.objects.get(type="payment.recorded")
    assert event.data["settled"] == [
        {"invoice_number": "ABC2026000000002", "amount": "120.00"},
        {"invoice_number": "ABC2026000000003", "amount": "80.00"},
    ]


def test_named_invoices_are_paid_first_in_the_order_given(client, dealer):
    _invoices(client, (1, "2026-11-10", 1), (2, "2026-11-20", 1), (3, "2026-11-30", 1))
    post(
        client,
        PAYMENTS,
        [payment(amount="150.00", invoice_numbers=["ABC2026000000003", "ABC2026000000002"])],
    )
    assert _open("ABC2026000000003") == D("0.00")
    assert _open("ABC2026000000002") == D("90.00")
    assert _open("ABC2026000000001") == D("120.00")  # the oldest, but not named


def test_an_overpayment_stays_as_credit_and_pays_the_next_invoice(client, dealer):
    _invoices(client, (1, "2026-11-10", 1))
    post(client, PAYMENTS, [payment(amount="300.00")])
    assert _open("ABC2026000000001") == D("0.00")
    assert customer_balance(customer=dealer) == D("-180.00")

    _invoices(client, (2, "2026-12-10", 2))  # 240.00
    assert _open("ABC2026000000002") == D("60.00")
    assert customer_balance(customer=dealer) == D("60.00")


def test_a_bad_payment_fails_alone(client, dealer):
    other = CustomerFactory(code="BAYI-2")
    _invoices(client, (1, "2026-11-10", 1))
    post(client, INVOICES, [invoice(number="ABC2026000000009", customer_code=other.code)])
    body = post(
        client,
        PAYMENTS,
        [
            payment("P-1", invoice_numbers=["ABC2026000000009"]),  # another dealer's
            payment("P-2", customer_code="NOBODY"),
            payment("P-3", amount="0"),
            payment("P-4", method="barter"),
            payment("P-5", date="2026-13-01"),
            payment("P-6", invoice_numbers=["ABC2026000000001", "ABC2026000000001"]),
            payment("P-7", amount="50.00"),
        ],
    )
    errors = {e["key"]: e["errors"] for e in body["errors"]}
    assert errors["P-1"] == {"invoice_numbers.0": ["This dealer has no invoice with this number."]}
    assert errors["P-2"] == {"customer_code": ["No dealer has this code."]}
    assert list(errors["P-3"]) == ["amount"]
    assert list(errors["P-4"]) == ["method"]
    assert list(errors["P-5"]) == ["date"]
    assert errors["P-6"] == {"invoice_numbers.1": ["Named twice."]}
    assert body["created"] == 1
    assert list(Payment.objects.values_list("reference", flat=True)) == ["P-7"]


def test_the_same_payment_again_is_unchanged_other_content_fails(client, dealer):
    post(client, PAYMENTS, [payment()])
    assert post(client, PAYMENTS, [payment()])["unchanged"] == 1
    body = post(client, PAYMENTS, [payment(amount="99.00")])
    assert body["errors"][0]["errors"] == {
        "reference": ["This payment reference is recorded with other content."]
    }
    assert LedgerEntry.objects.filter(kind="payment").count() == 1


def test_overdue_total_is_what_is_open_past_the_due_date(client, dealer, settings):
    post(
        client,
        INVOICES,
        [
            invoice(number="ABC2026000000001", issue_date="2026-01-02", due_date="2026-02-01"),
            invoice(number="ABC2026000000002", due_date="2036-01-10"),
        ],
    )
    assert overdue_total(customer=dealer) == D("120.00")
    post(client, PAYMENTS, [payment(amount="100.00", invoice_numbers=["ABC2026000000002"])])
    assert _open("ABC2026000000002") == D("20.00")
    # the payment named the invoice not yet due: the overdue one stays open in full
    assert overdue_total(customer=dealer) == D("120.00")
    assert customer_balance(customer=dealer) == D("140.00")


# --- properties -------------------------------------------------------------------------------

_steps = st.lists(
    st.tuples(
        st.sampled_from(["invoice", "payment", "credit_note", "adjustment", "opening_balance"]),
        st.decimals(min_value=D("0.01"), max_value=D("5000.00"), places=2),
        st.integers(min_value=-60, max_value=60),  # due in days
        st.booleans(),  # a payment names the newest invoice
    ),
    max_size=14,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=_steps)
def test_property_settlement_never_over_applies_and_open_items_match_the_balance(steps):
    """FIFO allocation never over-applies: no debt paid beyond its amount, no credit used
    beyond its amount; what is open less what is unused equals the ledger balance."""
    import datetime

    from django.utils import timezone

    customer = CustomerFactory()
    today = timezone.localdate()
    newest_invoice = None
    for kind, amount, due_in, named in steps:
        if kind == "invoice":
            newest_invoice = ledger_post(
                customer=customer,
                kind="invoice",
                amount=amount,
                due_date=today + datetime.timedelta(days=due_in),
            )
        elif kind in ("payment", "credit_note"):
            entry = ledger_post(customer=customer, kind=kind, amount=-amount)
            if named and newest_invoice is not None:
                from apps.finance.services.ledger import ledger_settle

                ledger_settle(customer_ids=[customer.pk], named={entry.pk: [newest_invoice.pk]})
        elif kind == "opening_balance":
            if not LedgerEntry.objects.filter(customer=customer, kind=kind).exists():
                ledger_post(customer=customer, kind=kind, amount=amount if due_in > 0 else -amount)
        else:
            ledger_adjust(
                customer=customer, amount=amount if due_in > 0 else -amount, reason="x", by=None
            )

    entries = {e.pk: e for e in LedgerEntry.objects.filter(customer=customer)}
    used_by_debt: dict[int, Decimal] = {}
    used_by_credit: dict[int, Decimal] = {}
    for s in Settlement.objects.filter(debit__customer=customer):
        assert s.amount > 0
        assert entries[s.debit_id].amount > 0 and entries[s.credit_id].amount < 0
        used_by_debt[s.debit_id] = used_by_debt.get(s.debit_id, D(0)) + s.amount
        used_by_credit[s.credit_id] = used_by_credit.get(s.credit_id, D(0)) + s.amount
    for pk, used in used_by_debt.items():
        assert used <= entries[pk].amount
    for pk, used in used_by_credit.items():
        assert used <= -entries[pk].amount
    still_open = sum((e.open_amount for e in open_debts(customer=customer)), D("0.00"))
    unused = sum(
        (-e.amount - used_by_credit.get(pk, D(0)) for pk, e in entries.items() if e.amount < 0),
        D("0.00"),
    )
    assert still_open - unused == customer_balance(customer=customer)
    assert still_open == 0 or unused == 0  # credits left over only when nothing is open


@pytest.mark.django_db(transaction=True)
def test_parallel_payment_batches_never_over_apply(integration_client):
    """Four batches of payments for one dealer at once, over HTTP in threads against
    PostgreSQL: each invoice is paid at most once over, every payment is used at most once
    over (the dealer's settlement is serialised)."""
    import threading

    from django.db import close_old_connections

    dealer = CustomerFactory(code="BAYI-1")
    client = integration_client(scopes=["invoices:write", "payments:write"])
    post(
        client,
        INVOICES,
        [invoice(number=f"ABC2026{n:09d}", lines=[line("1", "100")]) for n in range(1, 11)],
    )  # 10 x 120.00
    barrier = threading.Barrier(4)
    errors = []

    def pay(worker):
        try:
            barrier.wait()
            batch = [payment(f"P-{worker}-{n}", amount="70.00") for n in range(5)]
            body = client.post(PAYMENTS, batch, format="json").json()
            if body.get("created") != 5:
                errors.append(body)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=pay, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    settled = Settlement.objects.all()
    per_debt, per_credit = {}, {}
    for s in settled:
        per_debt[s.debit_id] = per_debt.get(s.debit_id, D(0)) + s.amount
        per_credit[s.credit_id] = per_credit.get(s.credit_id, D(0)) + s.amount
    assert all(v <= D("120.00") for v in per_debt.values())
    assert all(v <= D("70.00") for v in per_credit.values())
    assert sum(per_debt.values()) == D("1200.00")  # 1,400.00 paid: every invoice settled
    assert customer_balance(customer=dealer) == D("-200.00")


@pytest.mark.parametrize("day", ["9999-12-31", "1999-12-31", "0001-01-01"])
def test_a_payment_dated_beyond_what_a_statement_shows_fails_alone(client, dealer, day):
    """Dated years away, a receipt lowered the balance (``account/summary``) while no
    statement ending today showed it: the date must be from 2000 to tomorrow."""
    body = post(client, PAYMENTS, [payment("P-1", date=day), payment("P-2")])
    assert body["created"] == 1
    [error] = body["errors"]
    assert error["key"] == "P-1" and list(error["errors"]) == ["date"]
    assert customer_balance(customer=dealer) == D("-100.00")


@pytest.mark.parametrize("day", ["9999-01-01", "1999-06-01"])
def test_an_invoice_issued_beyond_what_a_statement_shows_fails_alone(client, dealer, day):
    number = f"ABC{day[:4]}000000001"
    body = post(client, INVOICES, [invoice(number=number, issue_date=day, due_date=day)])
    assert body["created"] == 0
    [error] = body["errors"]
    assert list(error["errors"]) == ["issue_date"]
