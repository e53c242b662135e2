"""Who may read the catalog: every dealer role; not anonymous callers, not staff without a
company. The catalog API is read-only: writes answer 405 and change nothing."""

from __future__ import annotations

import pytest

from apps.catalog.models import Brand, Category, Product
from tests.catalog.factories import BrandFactory, CategoryFactory, ProductFactory
from tests.conftest import login
from tests.factories import StaffUserFactory

pytestmark = [pytest.mark.django_db]

URLS = ["/api/v1/categories", "/api/v1/brands", "/api/v1/products", "/api/v1/products/PERM-1"]


@pytest.fixture(autouse=True)
def catalogue():
    ProductFactory(sku="PERM-1", brand=BrandFactory(name="Perm"), category=CategoryFactory())


def snapshot():
    return (
        list(Product.all_objects.order_by("pk").values()),
        list(Category.objects.order_by("pk").values()),
        list(Brand.objects.order_by("pk").values()),
    )


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("role", ["owner", "purchasing", "finance", "viewer"])
def test_every_dealer_role_reads_the_catalog(dealer_client, role, url):
    assert dealer_client(role).get(url).status_code == 200


@pytest.mark.parametrize("url", URLS)
def test_anonymous_callers_are_refused(api_client, url):
    response = api_client.get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("url", URLS)
def test_staff_without_a_company_is_not_a_dealer(api_client, url):
    login(api_client, StaffUserFactory())
    assert api_client.get(url).status_code == 403


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_catalog_is_read_only(dealer_client, url, method):
    client = dealer_client("owner")
    before = snapshot()

    response = getattr(client, method)(url, {"name": "changed", "is_active": False})

    assert response.status_code == 405
    assert snapshot() == before
