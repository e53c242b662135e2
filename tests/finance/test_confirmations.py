"""Balance confirmation (mutabakat, DESIGN.md "Current account"): staff or a quarterly job send
a dealer its balance as of a date; the owner or finance user confirms or disputes it in the
API; no answer in a month counts as accepted; every step is audited."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.finance.models import BalanceConfirmation
from apps.finance.services.confirmations import (
    confirmation_dispute,
    confirmation_send,
    confirmations_deem_accepted,
    confirmations_send_quarterly,
    quarter_end_before,
)
from apps.finance.services.ledger import ledger_post
from apps.notifications.models import Notification
from tests.factories import CustomerFactory, DealerUserFactory

pytestmark = [pytest.mark.django_db]
URL = "/api/v1/account/confirmations"
D = Decimal


@pytest.fixture
def owner(dealer_client):
    return dealer_client("owner", customer=CustomerFactory(code="BAYI-1"))


def _books(customer):
    ledger_post(
        customer=customer, kind="invoice", amount="1000.00", entry_date=datetime.date(2026, 9, 1)
    )
    ledger_post(
        customer=customer, kind="payment", amount="-400.00", entry_date=datetime.date(2026, 9, 20)
    )
    ledger_post(
        customer=customer, kind="invoice", amount="50.00", entry_date=datetime.date(2026, 10, 5)
    )


def test_staff_send_the_balance_as_of_a_date_and_the_dealer_confirms(owner, dealer_client):
    customer = owner.user.customer
    _books(customer)
    DealerUserFactory(customer=customer, role="finance", email="muhasebe@bayi.test")
    confirmation = confirmation_send(customer=customer, as_of=datetime.date(2026, 9, 30))
    assert confirmation.balance == D("600.00") and confirmation.status == "open"
    assert confirmation.respond_by == timezone.localdate() + datetime.timedelta(days=30)
    assert set(
        Notification.objects.filter(template="finance/balance_confirmation").values_list(
            "to", flat=True
        )
    ) == {owner.user.email, "muhasebe@bayi.test"}

    listed = owner.get(URL).json()["results"]
    assert [(c["id"], c["balance"], c["status"]) for c in listed] == [
        (confirmation.pk, "600.00", "open")
    ]
    assert listed[0]["statement_url"].endswith("date_from=2026-01-01&date_to=2026-09-30&format=pdf")

    response = owner.post(f"{URL}/{confirmation.pk}/confirm")
    assert response.status_code == 200, response.json()
    assert (
        response.json()["status"] == "confirmed"
        and response.json()["answered_by"] == owner.user.email
    )
    again = owner.post(
        f"{URL}/{confirmation.pk}/dispute", {"reason": "x", "their_balance": "1"}, format="json"
    )
    assert again.status_code == 409
    changes = LogEntry.objects.get_for_model(BalanceConfirmation).filter(object_id=confirmation.pk)
    assert changes.count() == 2  # sent, answered


def test_the_confirmation_email_writes_the_balance_and_days_as_the_dealer_reads_them(
    owner, mailoutbox, django_capture_on_commit_callbacks
):
    customer = owner.user.customer  # a dealer reads what the portal speaks: Turkish
    _books(customer)
    ledger_post(
        customer=customer, kind="invoice", amount="11000.00", entry_date=datetime.date(2026, 9, 2)
    )
    with django_capture_on_commit_callbacks(execute=True):
        confirmation_send(customer=customer, as_of=datetime.date(2026, 9, 30))
    message = next(m for m in mailoutbox if owner.user.email in m.to)
    text = message.subject + " " + message.body
    assert "11.600,00 TRY" in message.subject and "30 Eylül 2026" in message.subject, text
    assert "30 Eylül 2026 tarihinde" in message.body, text  # not "2026-09-30"
    # the HTML part links where to answer (it showed the address as text)
    html = message.alternatives[0][0]
    assert re.search(r'<a href="http[^"]+/portal/confirmations/\d+/"', html), html


def test_the_dealer_disputes_with_a_reason_and_its_own_balance(owner):
    confirmation = confirmation_send(customer=owner.user.customer, as_of=timezone.localdate())
    url = f"{URL}/{confirmation.pk}/dispute"
    for body, field in [
        ({"their_balance": "10.00"}, "reason"),
        ({"reason": "  "}, "reason"),
        ({"reason": "Missing payment", "their_balance": "abc"}, "their_balance"),
        ({"reason": "Missing payment", "their_balance": "1.005"}, "their_balance"),
        ({"reason": "Missing payment", "their_balance": "1", "status": "confirmed"}, "status"),
    ]:
        response = owner.post(url, body, format="json")
        assert response.status_code == 400 and field in response.json()["errors"], body
    # a balance too large is said so (the portal's form was told to use two decimals, which
    # it did; the API's field refuses such a number first)
    from apps.core.exceptions import ValidationError  # here: the service's own refusal

    with pytest.raises(ValidationError) as refused:
        confirmation_dispute(
            confirmation=confirmation,
            by=owner.user,
            reason="Missing payment",
            their_balance="99999999999999999999.99",
        )
    assert refused.value.errors["their_balance"] == [
        "The amount is too large: at most 999,999,999,999.99 ₺."
    ]
    assert BalanceConfirmation.objects.get().status == "open"

    response = owner.post(
        url, {"reason": "Payment of 12.11. is missing", "their_balance": "-150.50"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["their_balance"], body["dispute_reason"]) == (
        "disputed",
        "-150.50",
        "Payment of 12.11. is missing",
    )


def test_an_entry_dated_into_an_open_confirmations_period_restates_it(
    owner, integration_client, staff_client, mailoutbox, django_capture_on_commit_callbacks
):
    """An ERP invoice dated back into the period arrives after the confirmation was sent:
    before anyone confirms the old figure, the confirmation states the ledger's balance
    again, the dealer is told, and the answer date moves on. An entry after the date, or a
    confirmation already answered, changes nothing."""
    from tests.finance import helpers as h

    customer = owner.user.customer
    _books(customer)
    confirmation = confirmation_send(customer=customer, as_of=datetime.date(2026, 9, 30))
    answered = confirmation_send(customer=customer, as_of=datetime.date(2026, 8, 31))
    assert owner.post(f"{URL}/{answered.pk}/confirm").status_code == 200
    BalanceConfirmation.objects.filter(pk=confirmation.pk).update(
        respond_by=datetime.date(2026, 10, 30)
    )
    Notification.objects.all().delete()

    late = h.invoice(number="ABC2026000000031", issue_date="2026-08-15", due_date="2026-09-15")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert h.post(integration_client(), h.INVOICES, [late])["created"] == 1
    after = h.invoice(number="ABC2026000000032", issue_date="2026-10-10", due_date="2026-11-10")
    assert h.post(integration_client(), h.INVOICES, [after])["created"] == 1

    confirmation.refresh_from_db()
    assert confirmation.balance == D("600.00") + h.amount_of(late)
    assert confirmation.status == "open"
    assert confirmation.respond_by == timezone.localdate() + datetime.timedelta(days=30)
    assert owner.get(f"{URL}/{confirmation.pk}").json()["balance"] == str(confirmation.balance)
    mails = Notification.objects.filter(template="finance/balance_confirmation")
    assert mails.count() == 1  # the corrected figure, once: the later invoice changed nothing
    # it says it corrects the earlier one, and what that said: the reader must tell which counts
    (corrected,) = [m for m in mailoutbox if owner.user.email in m.to]
    assert corrected.subject.startswith("Düzeltilmiş mutabakat")
    assert "önceki e-postamızı düzeltir" in corrected.body and "600,00 TRY" in corrected.body
    answered.refresh_from_db()
    assert (answered.status, answered.balance) == ("confirmed", D("0.00"))  # as answered
    entry = LogEntry.objects.get_for_object(confirmation).filter(changes__has_key="balance")
    assert entry.exists()
    # the back office shows the ledger's figure beside the answered one
    page = staff_client("Finance Manager").get(
        f"/admin/finance/balanceconfirmation/{answered.pk}/change/"
    )
    assert "120.00 (differs from the confirmation" in page.content.decode()


def test_only_owners_and_finance_users_answer(owner, dealer_client):
    confirmation = confirmation_send(customer=owner.user.customer, as_of=timezone.localdate())
    viewer = dealer_client("viewer", customer=owner.user.customer)
    buyer = dealer_client("purchasing", customer=owner.user.customer)
    assert viewer.get(f"{URL}/{confirmation.pk}").status_code == 200
    assert viewer.post(f"{URL}/{confirmation.pk}/confirm").status_code == 403
    assert buyer.get(URL).status_code == 403
    finance = dealer_client("finance", customer=owner.user.customer)
    assert finance.post(f"{URL}/{confirmation.pk}/confirm").status_code == 200


def test_no_answer_in_a_month_counts_as_accepted(owner):
    confirmation = confirmation_send(customer=owner.user.customer, as_of=timezone.localdate())
    assert confirmations_deem_accepted(today=confirmation.respond_by) == 0
    assert (
        confirmations_deem_accepted(today=confirmation.respond_by + datetime.timedelta(days=1)) == 1
    )
    confirmation.refresh_from_db()
    assert confirmation.status == "deemed_accepted"
    assert owner.post(f"{URL}/{confirmation.pk}/confirm").status_code == 409


@pytest.mark.parametrize("answer", ["confirm", "dispute"])
def test_an_answer_after_the_answer_date_finds_it_accepted_before_the_job_runs(owner, answer):
    # given: the answer date was yesterday (Istanbul) and the nightly job has not run yet
    confirmation = confirmation_send(customer=owner.user.customer, as_of=timezone.localdate())
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    BalanceConfirmation.objects.filter(pk=confirmation.pk).update(respond_by=yesterday)
    body = {"reason": "Late answer", "their_balance": "1.00"} if answer == "dispute" else None

    response = owner.post(f"{URL}/{confirmation.pk}/{answer}", body, format="json")

    # then: 409, and it is now what the job would have made it
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "confirmation_answered"
    confirmation.refresh_from_db()
    assert confirmation.status == "deemed_accepted" and confirmation.answered_by is None
    assert confirmation.dispute_reason == ""
    # on the answer date itself it is still open
    BalanceConfirmation.objects.filter(pk=confirmation.pk).update(
        status="open", respond_by=timezone.localdate()
    )
    assert owner.post(f"{URL}/{confirmation.pk}/{answer}", body, format="json").status_code == 200


def test_one_confirmation_per_dealer_and_date_and_none_for_the_future(owner):
    customer = owner.user.customer
    confirmation_send(customer=customer, as_of=timezone.localdate())
    from apps.core.exceptions import Conflict, ValidationError

    with pytest.raises(Conflict):
        confirmation_send(customer=customer, as_of=timezone.localdate())
    with pytest.raises(ValidationError):
        confirmation_send(
            customer=customer, as_of=timezone.localdate() + datetime.timedelta(days=1)
        )


def test_the_quarterly_job_asks_every_active_dealer_with_a_ledger_once(owner):
    quiet = CustomerFactory(code="QUIET")  # no ledger: not asked
    _books(owner.user.customer)
    day = datetime.date(2026, 10, 2)
    assert quarter_end_before(day) == datetime.date(2026, 9, 30)
    assert confirmations_send_quarterly(today=day) == 1
    assert confirmations_send_quarterly(today=day + datetime.timedelta(days=1)) == 0
    assert confirmations_send_quarterly(today=datetime.date(2026, 11, 15)) == 0  # not in the window
    sent = BalanceConfirmation.objects.get()
    assert (sent.customer, sent.as_of, sent.balance) == (
        owner.user.customer,
        datetime.date(2026, 9, 30),
        D("600.00"),
    )
    assert not quiet.balance_confirmations.exists()


def test_staff_send_one_from_the_back_office(staff_client, owner):
    client = staff_client("Finance Manager")
    ledger_post(customer=owner.user.customer, kind="invoice", amount="120011.92")
    response = client.post(
        "/admin/finance/balanceconfirmation/add/",
        {"customer": owner.user.customer.pk, "as_of": timezone.localdate().isoformat()},
        follow=True,
    )
    assert response.redirect_chain, response.content
    assert BalanceConfirmation.objects.get().sent_by == client.user
    # the figure as people read it (it said "120011.92 as of 2026-12-07")
    (sent,) = [str(m) for m in response.context["messages"]]
    assert "BAYI-1: 120,011.92 ₺ as of" in sent and "120011.92" not in sent
    listing = client.get("/admin/finance/balanceconfirmation/?status__exact=open")
    assert owner.user.customer.code in listing.content.decode()


@pytest.mark.parametrize("body", [b'{"a":', b'{"reason": "x"}', b"[1]"])
def test_confirm_takes_no_input_and_refuses_a_body(owner, body):
    confirmation = confirmation_send(customer=owner.user.customer, as_of=datetime.date(2026, 9, 30))
    url = f"{URL}/{confirmation.pk}/confirm"
    response = owner.generic("POST", url, body, content_type="application/json")
    assert response.status_code == 400, response.content
    confirmation.refresh_from_db()
    assert confirmation.status == "open"
    assert owner.post(url).status_code == 200


def test_the_confirmation_list_costs_the_same_queries_for_2_and_12(owner):
    customer = owner.user.customer
    _books(customer)
    first = datetime.date(2026, 9, 1)
    for n in range(12):
        confirmation_send(customer=customer, as_of=first + datetime.timedelta(days=n))
    counts = []
    for size in (2, 12):
        with CaptureQueriesContext(connection) as queries:
            response = owner.get(f"/api/v1/account/confirmations?page_size={size}")
        assert response.status_code == 200 and len(response.json()["results"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]
