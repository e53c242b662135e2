"""seed_demo builds a realistic demo catalog in bulk: idempotent, extendable, resettable."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.catalog.attributes import definitions_for, validate_attributes
from apps.catalog.models import AttributeDefinition, Brand, Category, Product
from apps.catalog.search import build_search_document
from apps.demo.catalog import BRANDS, SKU_RE, demo_product
from apps.inventory.models import SerialNumber, StockLevel, StockMovement, Warehouse

pytestmark = [pytest.mark.django_db]


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", "--dealers", "4", *args, stdout=out, verbosity=0)
    return out.getvalue()


def demo_products():
    return Product.all_objects.filter(sku__regex=SKU_RE)


def test_seed_demo_products_builds_a_three_level_catalog_with_stock():
    output = seed("--products", "300")

    assert "demo catalog: 300 products (DEMO-000001..DEMO-000300" in output
    assert "demo stock: warehouses IST" in output
    assert demo_products().count() == 300
    assert Category.objects.filter(depth=3).count() >= 15
    assert Category.objects.filter(depth__gt=3).count() == 0
    assert Brand.objects.filter(name__in=[name for name, _code in BRANDS]).count() == 30
    assert AttributeDefinition.objects.filter(is_filterable=True, type="choice").exists()
    for code in ("power_w", "color", "ip_rating", "length_m", "dimmable"):
        assert AttributeDefinition.objects.filter(code=code).exists(), code
    rates = set(demo_products().values_list("vat_rate", flat=True))
    assert 20 in rates and rates <= {0, 1, 10, 20}
    assert demo_products().filter(vat_rate=20).count() > 200

    assert set(Warehouse.objects.values_list("code", flat=True)) >= {"IST", "ANK"}
    levels = StockLevel.objects.filter(product__sku__regex=SKU_RE)
    assert levels.count() == 600
    assert levels.filter(on_hand=0).exists()
    assert levels.filter(on_hand__gt=0, on_hand__lt=10).exists()
    assert (
        StockMovement.objects.filter(reference="demo").count()
        == levels.filter(on_hand__gt=0).count()
    )
    for level in levels.filter(product__serial_tracked=True, on_hand__gt=0)[:5]:
        in_stock = SerialNumber.objects.filter(
            product=level.product_id, warehouse=level.warehouse_id, status="in_stock"
        )
        assert in_stock.count() == level.on_hand


def test_demo_products_have_valid_attributes_and_their_search_document():
    seed("--products", "300")
    for product in demo_products().select_related("brand", "category")[:120]:
        cleaned, errors = validate_attributes(definitions_for(product.category), product.attributes)
        assert errors == {}, (product.sku, errors)
        assert cleaned == product.attributes
        assert product.category.depth == 3
        assert product.barcodes and all(len(code) == 13 for code in product.barcodes)
        expected = build_search_document(
            sku=product.sku,
            name=product.name,
            brand_name=product.brand.name,
            barcodes=product.barcodes,
            attributes=product.attributes,
        )
        # the same words; PostgreSQL's jsonb keeps the attribute keys in its own order
        assert sorted(product.search_document.split()) == sorted(expected.split())
        assert product.brand.name in product.name


def test_seed_demo_products_twice_adds_nothing_and_a_larger_number_adds_the_missing():
    seed("--products", "300")
    first = dict(demo_products().values_list("sku", "name"))
    levels = StockLevel.objects.count()

    output = seed("--products", "300")
    assert "0 new" in output
    assert dict(demo_products().values_list("sku", "name")) == first
    assert StockLevel.objects.count() == levels

    seed("--products", "350")
    assert demo_products().count() == 350
    assert dict(demo_products().filter(sku__lte="DEMO-000300").values_list("sku", "name")) == first
    assert StockLevel.objects.filter(product__sku__regex=SKU_RE).count() == 700


def test_seed_demo_products_writes_in_bulk_not_row_by_row():
    seed("--products", "10")  # the tree, brands and warehouses exist
    with CaptureQueriesContext(connection) as queries:
        seed("--products", "2500")
    inserts = [
        q for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "catalog_product"')
    ]
    assert len(inserts) <= 3


def test_seed_demo_reset_removes_the_demo_products_with_their_stock():
    seed("--products", "300")
    product = Product.objects.get(sku="DEMO-000007")
    product.soft_delete()

    seed("--products", "40", "--reset")

    assert demo_products().count() == 40
    assert StockLevel.objects.filter(product__sku__regex=SKU_RE).count() == 80
    assert not StockLevel.objects.filter(product_id=product.pk).exists()
    assert not Product.all_objects.filter(pk=product.pk).exists()  # gone, not soft-deleted
    assert Product.objects.filter(sku="DEMO-000007").exists()  # made again


def test_reset_keeps_categories_that_real_products_use():
    seed("--products", "20")
    panels = Category.objects.get(name="Panels", depth=3)
    Product.objects.create(sku="REAL-1", name="Real panel", category=panels)

    seed("--products", "5", "--reset")

    assert Product.objects.filter(sku="REAL-1", category=panels).exists()


def test_demo_product_is_the_same_for_the_same_number():
    seed("--products", "3")
    from apps.demo.catalog import _seed_brands, _seed_categories

    brands, leaves = _seed_brands(), _seed_categories()
    first, again = demo_product(123, leaves, brands), demo_product(123, leaves, brands)
    assert first == again
    stored = Product.objects.get(sku="DEMO-000002")
    assert demo_product(2, leaves, brands)["name"] == stored.name
