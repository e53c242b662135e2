"""Balance confirmations (mutabakat) in the portal: the list and the page of one, confirmed or
disputed by the owner or finance user through the API's services (an amount typed in the
Turkish style is read), each refusal next to its field with nothing changed; the e-mail links
to the portal's page; other roles and companies are refused."""

from __future__ import annotations

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core import mail
from django.utils import translation

from apps.core.exceptions import ValidationError
from apps.finance.models import BalanceConfirmation
from apps.finance.services.confirmations import confirmation_send
from apps.finance.services.ledger import ledger_post
from apps.portal.forms import amount_typed
from tests.factories import CustomerFactory
from tests.portal.test_portal import browser

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def company():
    customer = CustomerFactory()
    ledger_post(
        customer=customer, kind="invoice", amount="1234.56", entry_date=datetime.date(2026, 9, 1)
    )
    return SimpleNamespace(customer=customer)


@pytest.fixture
def confirmation(company, django_capture_on_commit_callbacks):
    browser(company, role="finance")  # a finance contact to e-mail
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        return confirmation_send(customer=company.customer, as_of=datetime.date(2026, 9, 30))


@pytest.mark.parametrize(
    "typed, read",
    [
        ("1.234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("-50,5 ₺", "-50.5"),
        ("-50,5\u00a0₺", "-50.5"),  # copied from the portal's own page
        ("99", "99"),
        # a dot before three digits groups thousands, as Turkish writes them: never 120 ₺
        ("120.000", "120000"),
        ("1.250.000", "1250000"),
        ("₺ 7.500", "7500"),
        ("7.500 TL", "7500"),
        ("7.500 tl", "7500"),
        ("7.500 TRY", "7500"),
        ("\u22127.500", "-7500"),  # a typographic minus, as word processors write it
        ("85.19", "85.19"),
        ("1.5", "1.5"),
        ("", ""),
    ],
)
def test_amounts_are_read_as_dealers_type_them(typed, read):
    with translation.override("tr"):  # the portal's language
        assert amount_typed(typed, "amount") == read


@pytest.mark.parametrize(
    ("typed", "turkish", "english"),
    [
        # what both could mean: the page's language reads it
        ("25,000", "25.000", "25000"),
        ("120.000", "120000", "120.000"),
        # what only one can mean: either page
        ("25,000.50", "25000.50", "25000.50"),
        ("1.234,56", "1234.56", "1234.56"),
        ("12 500,00", "12500.00", "12500.00"),
        ("12\u00a0500", "12500", "12500"),
    ],
)
def test_an_amount_both_styles_could_mean_is_read_in_the_pages_language(typed, turkish, english):
    """``25,000`` on an English page is 25 thousand (it was refused: "no more than 2 decimal
    places"), on a Turkish page 25; a space groups thousands only."""
    with translation.override("tr"):
        assert amount_typed(typed, "amount") == turkish
    with translation.override("en"):
        assert amount_typed(typed, "amount") == english


@pytest.mark.parametrize(
    "typed",
    [
        "1e5",
        "1_000",
        "1.2.3",
        "12.34.5",
        "bin",
        "1,2,3",
        "--1",
        "1TL5",
        "₺₺5",
        "5 5",  # two numbers, not 55
        "1 23",
        "\u0661\u0662\u0663",  # other scripts' digits: not 123
        "12\u0665",
    ],
)
def test_what_is_no_amount_is_refused_not_read_as_another_number(typed):
    with pytest.raises(ValidationError) as refused:
        amount_typed(typed, "amount")
    assert list(refused.value.errors) == ["amount"]


def test_a_disputed_balance_typed_with_thousands_dots_is_that_many_thousands(company, confirmation):
    client, _user = browser(company, role="finance")
    url = f"/portal/confirmations/{confirmation.pk}/"
    response = client.post(
        url, {"answer": "dispute", "their_balance": "120.000", "reason": "Ödeme eksik"}
    )
    assert response.status_code == 302
    confirmation.refresh_from_db()
    assert confirmation.their_balance == Decimal("120000.00")


def test_the_e_mail_links_to_the_portal_page(confirmation):
    body = mail.outbox[-1].body
    assert f"/portal/confirmations/{confirmation.pk}/" in body
    assert "/portal/statement/?date_from=2026-01-01&date_to=2026-09-30&format=pdf" in body


def test_the_owner_confirms_the_balance(company, confirmation):
    client, user = browser(company)
    listing = client.get("/portal/confirmations/").content.decode()
    assert "1.234,56\u00a0₺" in listing
    page = client.get(f"/portal/confirmations/{confirmation.pk}/").content.decode()
    assert 'value="confirm"' in page
    response = client.post(f"/portal/confirmations/{confirmation.pk}/", {"answer": "confirm"})
    assert response.status_code == 302
    confirmation.refresh_from_db()
    assert confirmation.status == "confirmed" and confirmation.answered_by == user
    again = client.post(f"/portal/confirmations/{confirmation.pk}/", {"answer": "confirm"})
    assert again.status_code == 409 and 'role="alert"' in again.content.decode()


def test_a_late_answer_shows_the_confirmation_as_it_now_is(company, confirmation):
    import datetime

    from django.utils import timezone

    from apps.finance.models import BalanceConfirmation

    BalanceConfirmation.objects.filter(pk=confirmation.pk).update(
        respond_by=timezone.localdate() - datetime.timedelta(days=1)
    )
    client, _user = browser(company)
    late = client.post(f"/portal/confirmations/{confirmation.pk}/", {"answer": "confirm"})
    assert late.status_code == 409
    # deemed accepted now: no answer forms on the page that says so
    assert 'value="confirm"' not in late.content.decode()


def test_the_finance_user_disputes_with_their_own_figure(company, confirmation):
    client, _user = browser(company, role="finance")
    url = f"/portal/confirmations/{confirmation.pk}/"
    for body in (
        {"answer": "dispute", "their_balance": "1.000,00", "reason": ""},
        {"answer": "dispute", "their_balance": "bin lira", "reason": "Ödeme eksik"},
        {"answer": "dispute", "their_balance": "1,001", "reason": "Ödeme eksik"},
    ):
        response = client.post(url, body)
        assert response.status_code == 400 and 'aria-invalid="true"' in response.content.decode()
        confirmation.refresh_from_db()
        assert confirmation.status == "open"
    response = client.post(
        url, {"answer": "dispute", "their_balance": "1.000,00", "reason": "Ödeme eksik"}
    )
    assert response.status_code == 302
    confirmation.refresh_from_db()
    assert confirmation.status == "disputed" and confirmation.their_balance == Decimal("1000.00")
    assert "Ödeme eksik" in client.get(url).content.decode()


def test_a_viewer_reads_but_does_not_answer_and_purchasing_does_not_read(company, confirmation):
    viewer, _user = browser(company, role="viewer")
    url = f"/portal/confirmations/{confirmation.pk}/"
    page = viewer.get(url).content.decode()
    assert "1.234,56\u00a0₺" in page and 'value="confirm"' not in page
    assert viewer.post(url, {"answer": "confirm"}).status_code == 403
    buyer, _user = browser(company, role="purchasing")
    assert buyer.get("/portal/confirmations/").status_code == 403
    assert buyer.get(url).status_code == 403
    confirmation.refresh_from_db()
    assert confirmation.status == "open"


def test_another_companys_confirmation_is_not_found(confirmation):
    client, _user = browser(SimpleNamespace(customer=CustomerFactory()))
    url = f"/portal/confirmations/{confirmation.pk}/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"answer": "confirm"}).status_code == 404
    assert BalanceConfirmation.objects.get().status == "open"
