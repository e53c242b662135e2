"""The portal's dashboard: the account in figures, what waits for an answer (orders,
balance confirmations), the distributor's banners and live campaigns aimed at this dealer
only (the API's selectors), never a banner link that runs script; within a query budget."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.campaigns.models import Banner, Campaign
from apps.finance.services.confirmations import confirmation_send
from tests.factories import CustomerFactory
from tests.portal.test_portal import browser

pytestmark = [pytest.mark.django_db]

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00"
    b"\x00IEND\xaeB`\x82"
)


@pytest.fixture
def company():
    return SimpleNamespace(customer=CustomerFactory(tier="B"))


def _banner(title, **kwargs):
    image = SimpleUploadedFile("b.png", PNG, "image/png")
    return Banner.objects.create(title=title, image=image, placement="home", **kwargs)


def test_the_dashboard_shows_this_dealers_banners_and_campaigns_only(company):
    _banner("Yaz fırsatları", link_url="/portal/catalog/?brand=acme")
    _banner("C grubu", audience="tiers", tiers=["C"])
    _banner("Kötü bağlantı", link_url="javascript:alert(1)")
    Campaign.objects.create(
        name="Kablo haftası",
        discount_type="percentage",
        discount_value=10,
        min_quantity=5,
        ends_at=timezone.now() + datetime.timedelta(days=3),
    )
    Campaign.objects.create(
        name="Başka bayi", discount_type="fixed", discount_value=2, audience="dealers"
    )
    Campaign.objects.create(
        name="Bitti",
        discount_type="fixed",
        discount_value=2,
        ends_at=timezone.now() - datetime.timedelta(days=1),
    )
    client, _user = browser(company)
    page = client.get("/portal/").content.decode()
    assert "Yaz fırsatları" in page and 'href="/portal/catalog/?brand=acme"' in page
    assert "C grubu" not in page and "Kötü bağlantı" not in page and "javascript:" not in page
    assert "Kablo haftası" in page and "%10 indirim" in page and "5 adetten itibaren" in page
    assert "Başka bayi" not in page and "Bitti" not in page


def test_a_balance_confirmation_waiting_is_shown_to_those_who_answer(company):
    confirmation_send(customer=company.customer, as_of=datetime.date(2026, 9, 30))
    owner, _user = browser(company)
    assert 'data-testid="confirmations-waiting"' in owner.get("/portal/").content.decode()
    buyer, _user = browser(company, role="purchasing")
    page = buyer.get("/portal/").content.decode()
    assert 'data-testid="confirmations-waiting"' not in page and 'data-testid="balance"' not in page


def test_the_dashboard_stays_within_its_query_budget(company, django_assert_max_num_queries):
    """The session user, the account summary, the recent orders, those waiting, the balance
    confirmations waiting, the banners and the campaigns: 9 queries, whatever the data."""
    _banner("Yaz fırsatları")
    Campaign.objects.create(name="Kablo haftası", discount_type="percentage", discount_value=10)
    client, _user = browser(company)
    client.get("/portal/")
    with django_assert_max_num_queries(9):
        assert client.get("/portal/").status_code == 200
