"""Payment reminders (issue: "Reminders"): each morning, invoices due within 3 days and overdue
ones are reminded by e-mail (and SMS) to the dealer's owners and finance users, at most once
per invoice per stage; the notification log shows what was sent."""

from __future__ import annotations

import datetime
import re
import threading
from decimal import Decimal

import pytest
from django.db import close_old_connections
from django.utils import timezone, translation
from django.utils.formats import date_format

from apps.finance.models import PaymentReminder
from apps.finance.services.ledger import ledger_post
from apps.finance.services.reminders import payment_reminders_send
from apps.notifications.models import Notification
from tests.factories import CustomerFactory, DealerUserFactory
from tests.finance.helpers import INVOICES, PAYMENTS, invoice, payment, post

pytestmark = [pytest.mark.django_db]
TODAY = timezone.localdate


@pytest.fixture
def erp(integration_client):
    return integration_client(scopes=["invoices:write", "payments:write"])


@pytest.fixture
def dealer():
    customer = CustomerFactory(code="BAYI-1")
    DealerUserFactory(
        customer=customer, role="owner", email="owner@bayi.test", phone="0532 111 22 33"
    )
    DealerUserFactory(customer=customer, role="finance", email="muhasebe@bayi.test")
    DealerUserFactory(customer=customer, role="purchasing", email="buyer@bayi.test")
    return customer


def _send(erp, n, due_in_days, issued_days_ago=40):
    issued = TODAY() - datetime.timedelta(days=issued_days_ago)
    due = TODAY() + datetime.timedelta(days=due_in_days)
    record = invoice(
        number=f"ABC{issued.year}{n:09d}", issue_date=issued.isoformat(), due_date=due.isoformat()
    )
    post(erp, INVOICES, [record])
    return record["number"]


def test_due_soon_and_overdue_invoices_are_reminded_once_per_stage(
    erp, dealer, mailoutbox, django_capture_on_commit_callbacks
):
    soon = _send(erp, 1, 2)
    late = _send(erp, 2, -10)
    _send(erp, 3, 10)  # not yet
    today = _send(erp, 4, 0)  # due today: due soon (it was never reminded before)
    paid = _send(erp, 5, -5)
    post(
        erp, PAYMENTS, [payment(amount="120.00", invoice_numbers=[paid], date=TODAY().isoformat())]
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert payment_reminders_send() == {"due_soon": 2, "overdue": 1}

    assert set(PaymentReminder.objects.values_list("invoice__number", "stage")) == {
        (soon, "due_soon"),
        (today, "due_soon"),
        (late, "overdue"),
    }
    mails = Notification.objects.filter(template="finance/payment_reminder")
    assert sorted(mails.values_list("to", flat=True)) == sorted(
        ["owner@bayi.test", "muhasebe@bayi.test"] * 2
    )
    sms = Notification.objects.filter(template="payment_reminder")
    assert {(m.channel, m.to, m.status) for m in sms} == {("sms", "+905321112233", "sent")}
    assert sms.count() == 2  # the owner's phone, once per stage
    assert set(mails.values_list("status", flat=True)) == {"sent"}
    # a dealer the ERP created reads what the portal speaks (PORTAL_LANGUAGE_CODE, Turkish)
    assert {m.subject.split(":")[0] for m in mails} == {
        "Vadesi yaklaşan faturalar",
        "Vadesi geçmiş faturalar",
    }
    due_soon = next(m.body for m in mailoutbox if m.subject.startswith("Vadesi yaklaşan"))
    lines = {line.split(":")[0].strip("- "): line for line in due_soon.splitlines()}
    assert lines[today].endswith("(bugün)") and lines[soon].endswith("(2 gün sonra)")

    assert payment_reminders_send() == {"due_soon": 0, "overdue": 0}  # the next run: nothing
    assert Notification.objects.filter(template="finance/payment_reminder").count() == 4


def test_a_due_soon_invoice_is_reminded_again_when_it_becomes_overdue(erp, dealer, time_machine):
    number = _send(erp, 1, 2)
    assert payment_reminders_send()["due_soon"] == 1
    time_machine.move_to(timezone.now() + datetime.timedelta(days=5))
    assert payment_reminders_send() == {"due_soon": 0, "overdue": 1}
    assert list(
        PaymentReminder.objects.filter(invoice__number=number)
        .values_list("stage", flat=True)
        .order_by("stage")
    ) == ["due_soon", "overdue"]


def test_the_reminder_is_in_the_dealers_language_with_the_amounts(
    erp, dealer, mailoutbox, django_capture_on_commit_callbacks
):
    Notification.objects.create(
        channel="email",
        to="x@bayi.test",
        template="accounts/registration_verify",
        language="tr",
        customer=dealer,
        status="sent",
    )
    _send(erp, 1, -3)
    with django_capture_on_commit_callbacks(execute=True):
        payment_reminders_send()
    message = next(m for m in mailoutbox if "owner@bayi.test" in m.to)
    # amounts and days as Turkish writes them, not as the context keeps them (120.00, ISO)
    due = TODAY() - datetime.timedelta(days=3)
    with translation.override("tr"):
        due_text = date_format(due, "DATE_FORMAT")
    assert "120,00 TRY" in message.body and "ABC" in message.body
    assert f"vade {due_text}" in message.body and due.isoformat() not in message.body
    assert message.subject.startswith("Vadesi geçmiş") and "120,00 TRY" in message.subject
    assert "/portal/invoices/" in message.body  # the portal's invoices, not the start page
    assert re.search(r'<a href="http[^"]+/portal/invoices/"', message.alternatives[0][0])


def test_a_reminder_names_what_is_past_due_in_all_and_counts_days_as_english_does(
    erp, dealer, mailoutbox, django_capture_on_commit_callbacks, time_machine
):
    """A dealer owing 120.00 past due got a reminder of a newer overdue invoice whose
    "Open in total" (and subject) said 120.00: the invoices of that run only. And "(in 1
    days)"."""
    Notification.objects.create(  # the company registered in English
        channel="email",
        to="x@bayi.test",
        template="accounts/registration_verify",
        language="en",
        customer=dealer,
        status="sent",
    )
    first = _send(erp, 1, -10)
    with django_capture_on_commit_callbacks(execute=True):
        payment_reminders_send()
    _send(erp, 2, -1)  # overdue since yesterday
    _send(erp, 3, 1)  # due tomorrow
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert payment_reminders_send() == {"due_soon": 1, "overdue": 1}
    mails = [m for m in mailoutbox if "owner@bayi.test" in m.to]
    overdue = next(m for m in mails if m.subject.startswith("Overdue"))
    assert overdue.subject == "Overdue invoices: 240.00 TRY"  # both, the first one included
    assert "(1 day ago)" in overdue.body and first not in overdue.body
    assert "Open on this invoice: 120.00 TRY." in overdue.body
    assert "Past due on your account in all: 240.00 TRY." in overdue.body
    soon = next(m for m in mails if m.subject.startswith("Invoice due soon"))
    assert "(in 1 day)" in soon.body and "days" not in soon.body


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_reminder_once(integration_client):
    customer = CustomerFactory(code="BAYI-1")
    DealerUserFactory(customer=customer, role="owner", email="owner@bayi.test")
    for n in range(1, 6):
        ledger_post(
            customer=customer,
            kind="invoice",
            amount=Decimal("10.00"),
            due_date=TODAY() - datetime.timedelta(days=n),
        )
    erp = integration_client(scopes=["invoices:write"])
    _send(erp, 9, -2)
    results, barrier = [], threading.Barrier(2)

    def run():
        barrier.wait()
        try:
            results.append(payment_reminders_send())
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(r["overdue"] for r in results) == [0, 1]
    assert Notification.objects.filter(template="finance/payment_reminder").count() == 1
