"""Invoices and payments are only ever created: the same record sent again is ``unchanged``,
also when two batches carry it at once (an ERP connector that retries a batch while the first
try is still running). Against PostgreSQL with two real transactions: the first batch's
transaction stays open until the second has read what is stored and waits on the unique key,
so the race happens every run."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from apps.finance.models import Invoice, LedgerEntry, Payment
from tests.factories import CustomerFactory
from tests.finance.helpers import INVOICES, PAYMENTS, invoice, line, payment
from tests.held_transactions import while_held

pytestmark = [pytest.mark.django_db(transaction=True)]


def _race(clients, url: str, first: dict, second: dict) -> dict:
    """``first`` posted in a transaction held open until ``second``'s request, posted
    meanwhile with another key, waits on a lock; then ``first`` commits. The second
    request's answer."""
    client, other_client = clients
    answers = while_held(
        lambda: client.post(url, [first], format="json").json(),
        lambda: other_client.post(url, [second], format="json").json(),
    )
    assert answers["first"]["created"] == 1, answers["first"]
    return answers["second"]


@pytest.fixture
def client(integration_client):
    """Two keys: a request touches its key's row (last use), which the held transaction
    would otherwise keep locked from the second request."""
    CustomerFactory(code="BAYI-1")
    scopes = ["invoices:write", "payments:write"]
    return integration_client(scopes=scopes), integration_client(scopes=scopes, name="retry")


def test_the_same_invoice_in_two_batches_at_once_is_created_once_then_unchanged(client):
    record = invoice(number="ABC2026000000077")

    second = _race(client, INVOICES, record, record)

    assert (second["unchanged"], second["failed"], second["errors"]) == (1, 0, [])
    assert Invoice.objects.filter(number="ABC2026000000077").count() == 1
    assert LedgerEntry.objects.filter(document_number="ABC2026000000077").count() == 1


def test_the_same_invoice_committed_between_the_reads_of_a_retry_is_unchanged(client):
    """The other batch commits right after this one read what is stored: not "an ETTN of
    another invoice" (the number and the ETTN were read in two statements, and the commit
    fell between them) but ``unchanged``."""
    record = invoice(number="ABC2026000000079")
    first_client, second_client = client
    first: list[dict] = []

    def other_batch():
        try:
            first.append(first_client.post(INVOICES, [record], format="json").json())
        finally:
            connections.close_all()

    def after_the_first_read(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not first and sql.lstrip().startswith("SELECT") and '"finance_invoice"' in sql:
            thread = threading.Thread(target=other_batch)
            thread.start()
            thread.join(30)
        return result

    with connection.execute_wrapper(after_the_first_read):
        second = second_client.post(INVOICES, [record], format="json").json()

    assert first and first[0]["created"] == 1, first
    assert (second["unchanged"], second["failed"], second["errors"]) == (1, 0, [])
    assert Invoice.objects.filter(number="ABC2026000000079").count() == 1


def test_an_invoice_number_taken_meanwhile_with_other_content_is_named_so(client):
    record = invoice(number="ABC2026000000078")
    other = invoice(number="ABC2026000000078", lines=[line("3")])

    second = _race(client, INVOICES, record, other)

    assert second["failed"] == 1
    assert second["errors"][0]["errors"] == {
        "number": ["This invoice number is recorded with other content."]
    }


def test_the_same_payment_in_two_batches_at_once_is_recorded_once_then_unchanged(client):
    record = payment(reference="DEK-RACE-1", amount="250.00")

    second = _race(client, PAYMENTS, record, record)

    assert (second["unchanged"], second["failed"], second["errors"]) == (1, 0, [])
    assert Payment.objects.filter(reference="DEK-RACE-1").count() == 1
    assert LedgerEntry.objects.filter(document_number="DEK-RACE-1").count() == 1


def test_a_payment_reference_taken_meanwhile_with_other_content_is_named_so(client):
    second = _race(
        client,
        PAYMENTS,
        payment(reference="DEK-RACE-2", amount="250.00"),
        payment(reference="DEK-RACE-2", amount="99.00"),
    )

    assert second["failed"] == 1
    assert second["errors"][0]["errors"] == {
        "reference": ["This payment reference is recorded with other content."]
    }


def test_an_invoice_sent_while_its_order_is_being_cancelled_is_credited(client):
    """The ERP cancels an order while its invoice batch runs: the batch checked the order
    before the cancel committed, then waits for the order's lock. Once it has it, it sees the
    order cancelled and credits its invoice, as a cancel after the invoice does: the dealer
    does not owe for an order it was told it gets nothing of (the other way round, the cancel
    waits for the invoice and credits it itself)."""
    from apps.finance.selectors import customer_balance
    from apps.orders import services
    from apps.orders.models import Order
    from apps.orders.states import ERP
    from tests.finance.helpers import make_order

    customer = CustomerFactory._meta.model.objects.get(code="BAYI-1")
    order = make_order(customer, gross="120.00")
    record = invoice(number="ABC2026000000090", order_number=order.number, lines=[line()])

    answers = while_held(
        lambda: services.order_cancel(order=order, by=None, reason="", actor=ERP),
        lambda: client[0].post(INVOICES, [record], format="json").json(),
    )

    assert answers["second"]["created"] == 1, answers["second"]
    assert Order.objects.get(pk=order.pk).status == "cancelled"
    note = LedgerEntry.objects.get(customer=customer, kind="credit_note")
    assert (note.amount, note.document_number) == (-Invoice.objects.get().gross_total, order.number)
    assert customer_balance(customer=customer) == 0


def test_a_second_invoice_racing_the_cancel_of_an_invoiced_order_is_credited_too(client):
    """The order has one invoice; the cancel credits it, while a second invoice of the
    order, checked before the cancel committed, waits for the order's lock. It is credited
    too, on its own: the earlier credit note covered only the first (it was left owed, on a
    cancelled order, in the balance, the aging and the reminders)."""
    from apps.finance.selectors import customer_balance
    from apps.orders import services
    from apps.orders.states import ERP
    from tests.finance.helpers import make_order

    customer = CustomerFactory._meta.model.objects.get(code="BAYI-1")
    order = make_order(customer, gross="240.00")
    first = invoice(number="ABC2026000000092", order_number=order.number, lines=[line()])
    assert client[0].post(INVOICES, [first], format="json").json()["created"] == 1
    second = invoice(
        number="ABC2026000000093", order_number=order.number, lines=[line(quantity="1")]
    )

    answers = while_held(
        lambda: services.order_cancel(order=order, by=None, reason="", actor=ERP),
        lambda: client[0].post(INVOICES, [second], format="json").json(),
    )

    assert answers["second"]["created"] == 1, answers["second"]
    notes = LedgerEntry.objects.filter(customer=customer, kind="credit_note")
    invoiced = sum(i.gross_total for i in Invoice.objects.all())
    assert sorted(n.amount for n in notes) == [-Decimal("120.00"), -Decimal("60.00")]
    assert -sum(n.amount for n in notes) == invoiced
    assert customer_balance(customer=customer) == 0
    # the same cancellation's credit again (a repeated signal) adds nothing
    from apps.finance.services.invoices import invoices_order_cancelled
    from apps.orders.models import Order

    invoices_order_cancelled(sender=Order, order=Order.objects.get(pk=order.pk))
    assert notes.count() == 2


def test_an_invoice_sent_again_after_its_order_was_cancelled_is_unchanged(client):
    """Sent, then the order cancelled (and its invoice credited), then sent again by a
    connector that retries: the same content is ``unchanged``, not refused for the order."""
    from apps.orders import services
    from apps.orders.states import ERP
    from tests.finance.helpers import make_order

    customer = CustomerFactory._meta.model.objects.get(code="BAYI-1")
    order = make_order(customer, gross="120.00")
    record = invoice(number="ABC2026000000091", order_number=order.number, lines=[line()])
    assert client[0].post(INVOICES, [record], format="json").json()["created"] == 1
    services.order_cancel(order=order, by=None, reason="", actor=ERP)

    again = client[0].post(INVOICES, [record], format="json").json()
    assert (again["unchanged"], again["failed"]) == (1, 0), again


def test_a_payment_waits_for_the_dealer_held_by_a_settling_write_and_never_deadlocks(client):
    """An invoice batch (or an order's cancel) holds the dealer's row, then settles; a
    payment took the settlement lock first and needed the dealer's row only at its commit
    (its entry's foreign key): each waited for the other, a deadlock answered 503 (11 in 5
    rounds of the race sweep). The payment now takes the dealer's row before the settlement
    lock: while another transaction holds the row, the payment waits holding nothing."""
    import psycopg  # here: the other writer's own connection

    from apps.accounts.models import Customer
    from apps.finance.services.ledger import _SETTLE_LOCK
    from tests.conftest import subprocess_database_url

    erp, _retry = client
    dealer = Customer.objects.get(code="BAYI-1")
    answers: list[dict] = []

    def pay():
        try:
            answers.append(erp.post(PAYMENTS, [payment(reference="DEK-77")], format="json").json())
        finally:
            connection.close()

    with psycopg.connect(subprocess_database_url()) as other:
        other.execute("SELECT id FROM accounts_customer WHERE id = %s FOR UPDATE", [dealer.pk])
        paying = threading.Thread(target=pay)
        paying.start()
        paying.join(timeout=1.5)  # it reached the dealer's row and waits
        assert not answers, "the payment did not wait for the dealer's row"
        # the settlement lock is free: the holder settles on and commits, no deadlock
        taken = other.execute(
            "SELECT pg_try_advisory_xact_lock(%s)", [_SETTLE_LOCK | dealer.pk]
        ).fetchone()[0]
        assert taken is True
        other.commit()
    paying.join(timeout=30)
    assert answers and answers[0]["created"] == 1, answers
    assert Payment.objects.filter(reference="DEK-77").count() == 1
