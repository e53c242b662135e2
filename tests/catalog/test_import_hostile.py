"""Product import (admin, django-import-export) with hostile cells: a JSON attributes cell is
read under the API's JSON rules (nesting, NaN, duplicate keys are a row error, never a 500),
and a formula-like name escaped by our export imports back as it was."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.catalog.models import Product
from apps.catalog.resources import JSONObjectWidget, ProductResource
from tests.catalog.factories import AttributeDefinitionFactory, CategoryFactory, ProductFactory

pytestmark = [pytest.mark.django_db]

PRODUCTS = "/admin/catalog/product/"


@pytest.fixture
def admin_client(staff_client):
    return staff_client(superuser=True)


@pytest.fixture
def panels():
    top = CategoryFactory(name="Lighting")
    AttributeDefinitionFactory(category=top, code="power_w", type="number", unit="W")
    return CategoryFactory(name="Panels", parent=top)


def csv_upload(rows: list[dict]) -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile("products.csv", out.getvalue().encode(), "text/csv")


def row(sku, **overrides):
    data = {
        "sku": sku,
        "name": f"Product {sku}",
        "brand": "Nova Led",
        "category": "Lighting > Panels",
        "vat_rate": "20",
        "attributes": '{"power_w": 36}',
        "is_active": "1",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    "cell",
    [
        "[" * 5000 + "]" * 5000,
        '{"power_w": ' + "[" * 100 + "1" + "]" * 100 + "}",
        '{"power_w": NaN}',
        '{"power_w": 1e999}',
        '{"power_w": 1, "power_w": 2}',
    ],
    ids=["5,000 deep", "100 deep in a value", "NaN", "overflow", "duplicate key"],
)
def test_a_hostile_attributes_cell_is_a_row_error(admin_client, panels, cell):
    with pytest.raises(ValueError):
        JSONObjectWidget().clean(cell)

    response = admin_client.post(
        f"{PRODUCTS}import/",
        {"import_file": csv_upload([row("OK-1"), row("BAD-1", attributes=cell)]), "format": "0"},
    )

    assert response.status_code == 200
    result = response.context["result"]
    invalid = {r.number: r for r in result.invalid_rows}
    assert set(invalid) == {2} and "attributes" in invalid[2].error_dict
    assert not Product.objects.filter(sku__in=["OK-1", "BAD-1"]).exists()


def test_an_exported_formula_like_name_imports_back_unchanged(panels):
    ProductFactory(sku="F-1", name="=1+1", description="-starts with a dash", category=panels)
    exported = ProductResource().export()
    assert exported.dict[0]["name"] == "'=1+1"

    result = ProductResource().import_data(exported, dry_run=False)

    assert not result.has_errors() and not result.has_validation_errors()
    product = Product.objects.get(sku="F-1")
    assert (product.name, product.description) == ("=1+1", "-starts with a dash")


@pytest.mark.parametrize(
    ("content", "chosen", "name"),
    [
        (b"PK\x03\x04 not a workbook at all", "1", "XLSX"),
        (b"\xff\xfe\x00sku,name\n\x00\x81\x82\x83", "0", "CSV"),
    ],
    ids=["broken xlsx", "not UTF-8"],
)
def test_a_file_that_cannot_be_read_is_said_in_words(admin_client, content, chosen, name):
    """The library's message named Python's exception ("'BadZipFile' encountered while trying
    to read file"): staff read what to check instead, in their language."""
    upload = SimpleUploadedFile(f"products.{name.lower()}", content)
    response = admin_client.post(
        f"{PRODUCTS}import/",
        {"import_file": upload, "format": chosen, "resource": "0"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    page = response.content.decode()
    assert response.status_code == 200 and not Product.objects.exists()
    assert f"This file could not be read as {name}." in page, page[-3000:]
    assert "encountered" not in page


def test_a_file_without_its_key_column_names_it_in_the_readers_language(admin_client):
    """The library's message was English whatever the language and spoke of
    'import_id_fields'."""
    upload = SimpleUploadedFile("products.csv", b"name,brand\nLamba,Nova\n", "text/csv")
    response = admin_client.post(
        f"{PRODUCTS}import/",
        {"import_file": upload, "format": "0", "resource": "0"},
        HTTP_ACCEPT_LANGUAGE="tr",
    )
    page = response.content.decode()
    assert response.status_code == 200 and not Product.objects.exists()
    assert "Dosyada sku sütunu yok" in page, page[-3000:]
    assert "import_id_fields" not in page
