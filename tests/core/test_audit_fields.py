"""Audit fields on business tables (DESIGN.md, "Security": ``created_at/by``, ``updated_at/by``):
who created a row and who changed it last, filled from the request that wrote it. A change by
the ERP (an API key, no person) clears ``updated_by``; a job keeps what was there."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.apps import apps

from apps.campaigns.models import Banner, Campaign, Collection
from apps.catalog.models import AttributeDefinition, Brand, Category, Product
from apps.core.models import AuditedModel
from apps.inventory.models import Warehouse
from apps.orders.models import Order, RequisitionList
from apps.pricing.models import Price, PriceList, SpecialPrice
from apps.quotes.models import Quote
from apps.returns.models import ReturnRequest
from tests.catalog.factories import BrandFactory, ProductFactory
from tests.orders.conftest import Shop, place

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def shop(dealer_client):
    return Shop(dealer_client)


D = Decimal

# the tables people create and change: master data, marketing, prices, and the documents a
# dealer or staff start (orders, quotes, returns, lists). Not here: rows only ever written by
# the system as a record of something (ledger entries, movements, status changes, outbox,
# history), which carry their own "who" (``created_by``, ``changed_by``) where one exists.
BUSINESS_TABLES = {
    "accounts.Customer",
    "accounts.Address",
    "catalog.Category",
    "catalog.Brand",
    "catalog.AttributeDefinition",
    "catalog.Product",
    "campaigns.Campaign",
    "campaigns.Banner",
    "campaigns.Collection",
    "inventory.Warehouse",
    "pricing.PriceList",
    "pricing.Price",
    "pricing.SpecialPrice",
    "orders.Order",
    "orders.RequisitionList",
    "quotes.Quote",
    "returns.ReturnRequest",
}


def test_every_business_table_has_the_audit_fields():
    for label in BUSINESS_TABLES:
        model = apps.get_model(label)
        assert issubclass(model, AuditedModel), label
        names = {field.name for field in model._meta.get_fields()}
        assert {"created_at", "created_by", "updated_at", "updated_by"} <= names, label
    assert {
        Category,
        Brand,
        AttributeDefinition,
        Product,
        Campaign,
        Banner,
        Collection,
        Warehouse,
        PriceList,
        Price,
        SpecialPrice,
        Order,
        RequisitionList,
        Quote,
        ReturnRequest,
    } <= {apps.get_model(label) for label in BUSINESS_TABLES}


def test_an_order_records_the_dealer_who_placed_it_and_who_changed_it_last(
    shop, integration_client
):
    shop.product("A-1")
    number = place(shop.owner, [("A-1", 1)]).json()["number"]
    order = Order.objects.get(number=number)
    assert order.created_by == shop.owner.user and order.updated_by == shop.owner.user

    erp = integration_client()
    moved = erp.post(
        f"/api/integration/v1/orders/{number}/status", {"status": "processing"}, format="json"
    )
    assert moved.status_code == 200, moved.content
    order.refresh_from_db()
    # the ERP is nobody: the last change was not a person's
    assert order.created_by == shop.owner.user and order.updated_by is None


def test_a_requisition_list_records_who_made_it(shop):
    response = shop.owner.post("/api/v1/lists", {"name": "Weekly"}, format="json")
    assert response.status_code == 201, response.content
    created = RequisitionList.objects.get()
    assert created.created_by == shop.owner.user == created.updated_by


def test_staff_changes_in_the_back_office_are_theirs_and_shown(staff_client):
    client = staff_client("Content Manager")
    brand = BrandFactory(name="Anka", slug="anka")
    assert brand.created_by is None  # written outside a request: nobody's
    response = client.post(
        f"/admin/catalog/brand/{brand.pk}/change/",
        {"name": "Anka Elektrik", "slug": "anka", "is_active": "on"},
    )
    assert response.status_code == 302, response.content[:500]
    brand.refresh_from_db()
    assert brand.updated_by == client.user and brand.created_by is None
    page = client.get(f"/admin/catalog/brand/{brand.pk}/change/").content.decode()
    assert "field-updated_by" in page and client.user.email in page


def test_the_erp_price_feed_clears_who_changed_a_price_last(staff_client, integration_client):
    product = ProductFactory(sku="P-1")
    price = Price.objects.create(
        price_list=PriceList.objects.get(code="LIST"), product=product, amount=D("100")
    )
    staff = staff_client("Sales Manager")
    Price.objects.filter(pk=price.pk).update(updated_by=staff.user)  # a staff edit before
    response = integration_client().post(
        "/api/integration/v1/prices",
        [{"sku": "P-1", "price_list": "LIST", "min_quantity": 1, "amount": "123.4500"}],
        format="json",
    )
    assert response.status_code == 200 and response.json()["updated"] == 1, response.content
    price.refresh_from_db()
    assert price.amount == D("123.4500") and price.updated_by is None


def test_a_product_changed_in_a_job_keeps_who_the_caller_names(staff_client):
    """Outside a request (a job, a shell) the caller's ``by`` is kept, not cleared."""
    from apps.catalog.services.admin_products import product_set_active

    staff = staff_client("Content Manager")
    product = ProductFactory(sku="J-1")
    product_set_active(products=[product], is_active=False, by=staff.user)
    product.refresh_from_db()
    assert product.updated_by == staff.user and product.created_by is None


def test_the_price_list_and_order_pages_show_them_too(shop, staff_client):
    """Two admins build their own read-only fields and field sets: they left them out."""
    shop.product("A-1")
    number = place(shop.owner, [("A-1", 1)]).json()["number"]
    client = staff_client(superuser=True)
    price_list = PriceList.objects.get(code="LIST")
    for url in (
        f"/admin/pricing/pricelist/{price_list.pk}/change/",
        f"/admin/orders/order/{Order.objects.get(number=number).pk}/change/",
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        assert "field-created_by" in page.content.decode(), url
        assert "field-updated_by" in page.content.decode(), url
