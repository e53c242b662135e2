"""What each staff role may open and change in the back office (issue "Back office": "every
admin screen obeys the staff roles (content managers cannot see credit limits; customer
service cannot change prices); a test walks each role through the admin"). The matrix below
names, for every role, the screens it opens (200) and those it is refused (403); a role or a
screen added later without a row here fails the first test."""

from __future__ import annotations

import pytest
from django.contrib import admin

from apps.accounts.roles import STAFF_GROUPS
from tests.catalog.factories import ProductFactory
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db]

SCREENS = {
    "customers": "/admin/accounts/customer/",
    "prices": "/admin/pricing/price/",
    "special prices": "/admin/pricing/specialprice/",
    "orders": "/admin/orders/order/",
    "ledger": "/admin/finance/ledgerentry/",
    "returns": "/admin/returns/returnrequest/",
    "quotes": "/admin/quotes/quote/",
    "products": "/admin/catalog/product/",
    "banners": "/admin/campaigns/banner/",
    "users": "/admin/accounts/user/",
    "audit log": "/admin/auditlog/logentry/",
    "task results": "/admin/django_celery_results/taskresult/",
    "periodic tasks": "/admin/django_celery_beat/periodictask/",
}

OPENS = {
    "Super Admin": set(SCREENS),
    "Sales Manager": {
        "customers", "prices", "special prices", "orders", "ledger", "returns", "quotes",
        "products", "users",
    },
    "Finance Manager": {
        "customers", "orders", "ledger", "returns", "users",
    },
    "Customer Service": {"customers", "orders", "returns", "products", "users"},
    "Content Manager": {"products", "banners"},
}  # fmt: skip


def test_every_staff_role_has_a_row():
    assert set(OPENS) == set(STAFF_GROUPS)
    for url in SCREENS.values():
        model_path = url.strip("/").split("/")[1:3]
        assert any(
            m._meta.app_label == model_path[0] and m._meta.model_name == model_path[1]
            for m in admin.site._registry
        ), url


@pytest.mark.parametrize("role", sorted(OPENS))
def test_each_role_opens_its_screens_and_is_refused_the_others(staff_client, role):
    client = staff_client(role)
    for name, url in SCREENS.items():
        status = client.get(url).status_code
        expected = 200 if name in OPENS[role] else 403
        assert status == expected, (role, name, status)


def test_content_managers_never_see_a_credit_limit(staff_client):
    customer = CustomerFactory(credit_limit="123456.78")
    client = staff_client("Content Manager")
    assert client.get(f"/admin/accounts/customer/{customer.pk}/change/").status_code == 403
    for url in ("/admin/campaigns/banner/add/", "/admin/campaigns/campaign/add/"):
        page = client.get(url).content.decode()
        assert "123456" not in page and "123.456" not in page


def test_customer_service_cannot_change_prices(staff_client):
    from apps.pricing.models import Price, PriceList

    product = ProductFactory()
    price = Price.objects.create(
        price_list=PriceList.objects.get(code="LIST"), product=product, amount="100"
    )
    client = staff_client("Customer Service")
    url = f"/admin/pricing/price/{price.pk}/change/"
    assert client.get(url).status_code == 403
    assert client.post(url, {"amount": "1"}).status_code == 403
    price.refresh_from_db()
    assert str(price.amount) == "100.0000"
