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


@pytest.mark.parametrize(
    ("path", "content"),
    [
        (PRODUCTS, b"sku,name\nNUL\x00-1,Lamba\n"),
        (PRODUCTS, b"sku,name\nNUL-1,Lam\x00ba\n"),
        ("/admin/pricing/price/", b"sku,price_list,min_quantity,amount\nA\x00,LIST,1,10\n"),
    ],
    ids=["in a key", "in a name", "in a price's key"],
)
def test_a_nul_character_in_a_cell_is_said_in_words(admin_client, path, content):
    """PostgreSQL's text takes no NUL character: the lookup of the file's keys answered 500."""
    upload = SimpleUploadedFile("file.csv", content, "text/csv")
    response = admin_client.post(
        f"{path}import/",
        {"import_file": upload, "format": "0", "resource": "0"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    page = response.content.decode()
    assert response.status_code == 200, page[-2000:]
    assert "Row 2, column " in page and "holds a NUL character" in page, page[-3000:]
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    "form",
    [
        {"import_file_name": "no-such-upload", "original_file_name": "p.csv", "format": "0"},
        {"import_file_name": "x", "original_file_name": "p.csv", "format": "7"},
        {"import_file_name": "x", "original_file_name": "p.csv", "format": "csv"},
        {"import_file_name": "x", "original_file_name": "p.csv", "format": "-1"},
    ],
    ids=["an upload that is not there", "no such format", "not a number", "negative"],
)
def test_a_confirmation_naming_no_upload_or_format_is_refused_in_words(admin_client, form):
    """The confirm step's hidden fields, tampered with or replayed after the upload was used,
    answered 500 (a missing file, a format index out of range)."""
    response = admin_client.post(
        f"{PRODUCTS}process_import/", form, HTTP_ACCEPT_LANGUAGE="en", follow=True
    )
    assert response.redirect_chain == [(f"{PRODUCTS}import/", 302)]
    assert b"Upload the file again." in response.content
    assert not Product.objects.exists()


def test_confirming_an_import_twice_imports_once_and_says_so(admin_client, panels):
    """The confirm button pressed twice: the first import removed the uploaded file, and the
    second answered 500."""
    response = admin_client.post(
        f"{PRODUCTS}import/", {"import_file": csv_upload([row("TWICE-1")]), "format": "0"}
    )
    confirm = response.context["confirm_form"].initial
    first = admin_client.post(f"{PRODUCTS}process_import/", confirm)
    assert first.status_code == 302 and Product.objects.filter(sku="TWICE-1").count() == 1

    second = admin_client.post(
        f"{PRODUCTS}process_import/", confirm, HTTP_ACCEPT_LANGUAGE="en", follow=True
    )
    assert second.redirect_chain == [(f"{PRODUCTS}import/", 302)]
    assert b"it was imported already" in second.content
    assert Product.objects.filter(sku="TWICE-1").count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"brand": "Nova\x01 Led"}, "brand"),
        ({"category": "Lighting > Pan\x02els"}, "category"),
        ({"category": "Light\u2028ing > Panels"}, "category"),
    ],
    ids=["brand", "category", "line separator in a category"],
)
def test_a_new_brand_or_category_name_with_a_control_character_is_a_row_error(
    admin_client, panels, overrides, field
):
    """The import made a brand and a category whose names held U+0001 and U+0002, which the
    brand and category forms refuse."""
    from apps.catalog.models import Brand, Category

    brands, categories = Brand.objects.count(), Category.objects.count()
    response = admin_client.post(
        f"{PRODUCTS}import/",
        {"import_file": csv_upload([row("CTRL-1", **overrides)]), "format": "0"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    invalid = response.context["result"].invalid_rows
    assert [r.number for r in invalid] == [1], response.content[-2000:]
    assert "U+" in " ".join(invalid[0].error_dict[field]), invalid[0].error_dict
    assert (Brand.objects.count(), Category.objects.count()) == (brands, categories)
