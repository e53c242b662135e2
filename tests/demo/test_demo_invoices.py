"""The demo's e-invoices read as real ones: the UBL-TR document names both parties, every
line and the totals the invoice holds; their lines bill the dealer's catalogue prices."""

from __future__ import annotations

import datetime
import shutil
import subprocess
from decimal import Decimal
from io import StringIO
from xml.etree import ElementTree

import pytest
from django.core.management import call_command

from apps.catalog.models import Product
from apps.demo.finance import _ubl
from apps.demo.pricing import TIER_FACTORS, demo_list_price
from apps.finance.models import Invoice
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db]

CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"


def test_a_demo_invoices_xml_names_its_parties_lines_and_totals():
    call_command("seed_demo", "--products", "40", "--dealers", "4", stdout=StringIO())
    invoice = Invoice.objects.filter(order__isnull=True).select_related("customer").first()

    document = ElementTree.fromstring(invoice.xml.read())  # noqa: S314 - our own demo document

    assert document.find(f"{CBC}ID").text == invoice.number
    customer = document.find(f"{CAC}AccountingCustomerParty")
    assert customer.find(f".//{CBC}Name").text == invoice.customer.name
    lines = document.findall(f"{CAC}InvoiceLine")
    assert len(lines) == invoice.lines.count() > 0
    payable = document.find(f"{CAC}LegalMonetaryTotal/{CBC}PayableAmount").text
    assert Decimal(payable) == invoice.gross_total
    factor = TIER_FACTORS[invoice.customer.tier]
    products = dict(Product.objects.values_list("sku", "pk"))
    for line in invoice.lines.all():  # the dealer's catalogue price of the product
        expected = (demo_list_price(products[line.sku]) * factor).quantize(Decimal("0.01"))
        assert line.unit_net == expected


def test_the_demo_erps_xml_names_kdv_and_each_exemptions_reason_code():
    """DESIGN.md: a 0 % VAT line is an exemption and carries a reason code; the demo's UBL-TR
    said only the rate (a validator refuses such a document)."""

    def line(rate, net, vat, code=""):
        return {
            "sku": "DEMO-1",
            "description": "Kablo",
            "quantity": "1",
            "unit_net": net,
            "vat_rate": rate,
            "vat_exemption_code": code,
            "line_net": net,
            "line_vat": vat,
        }

    invoice = {
        "number": "DMO2026000099999",
        "ettn": "6f1c7c1e-0000-4000-8000-000000000001",
        "profile": "e-fatura",
        "issue_date": datetime.date(2026, 12, 1),
        "due_date": datetime.date(2026, 12, 31),
        "lines": [line(20, "100.00", "20.00"), line(0, "50.00", "0.00", "351")],
        "totals": {"net": "150.00", "vat": "20.00", "gross": "170.00"},
    }
    customer = CustomerFactory.build(name="Bayi")
    document = ElementTree.fromstring(_ubl(invoice, customer))  # noqa: S314 - our own document
    lines = document.findall(f"{CAC}InvoiceLine")
    codes = []
    for xml_line in lines:
        category = xml_line.find(f"{CAC}TaxTotal/{CAC}TaxSubtotal/{CAC}TaxCategory")
        assert category.find(f"{CAC}TaxScheme/{CBC}TaxTypeCode").text == "0015"
        code = category.find(f"{CBC}TaxExemptionReasonCode")
        codes.append(code.text if code is not None else "")
    assert codes == ["", "351"]
    subtotals = document.findall(f"{CAC}TaxTotal/{CAC}TaxSubtotal/{CBC}TaxAmount")
    assert sum(Decimal(s.text) for s in subtotals) == Decimal("20.00")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils: .ci/run installs it")
def test_the_first_demo_dealers_invoices_come_with_the_erps_pdf(tmp_path, dealer_client):
    """The dealer API serves only the ERP's PDF (404 without one): the demo's first dealer has
    its invoices' PDFs, so the API's PDF can be seen in the demo; the others have none."""
    call_command("seed_demo", "--products", "40", "--dealers", "4", stdout=StringIO())
    first = Invoice.objects.filter(customer__code="DEMO001").order_by("number")
    assert first.exists() and not first.filter(pdf="").exists()
    assert not Invoice.objects.exclude(customer__code="DEMO001").exclude(pdf="").exists()

    invoice = first.first()
    owner = dealer_client("owner", customer=invoice.customer)
    response = owner.get(f"/api/v1/invoices/{invoice.number}/pdf")
    assert response.status_code == 200
    path = tmp_path / "invoice.pdf"
    path.write_bytes(
        b"".join(response.streaming_content if response.streaming else [response.content])
    )
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    assert invoice.number in text.stdout and invoice.customer.name in text.stdout
    assert "Fatura numarası" in text.stdout  # a Turkish ERP's document, not an English one
