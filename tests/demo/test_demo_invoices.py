"""The demo's e-invoices read as real ones: the UBL-TR document names both parties, every
line and the totals the invoice holds; their lines bill the dealer's catalogue prices."""

from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal
from io import StringIO
from xml.etree import ElementTree

import pytest
from django.core.management import call_command

from apps.catalog.models import Product
from apps.demo.pricing import TIER_FACTORS, demo_list_price
from apps.finance.models import Invoice

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
    # every line's VAT is KDV (0015); a 0 % line names its exemption's reason code (DESIGN.md),
    # and the document's VAT is the sum of its subtotals
    exempt = Invoice.objects.filter(lines__vat_rate=0).distinct().first()
    document = ElementTree.fromstring(exempt.xml.read())  # noqa: S314 - our own demo document
    for xml_line, line in zip(
        document.findall(f"{CAC}InvoiceLine"), exempt.lines.order_by("position"), strict=True
    ):
        category = xml_line.find(f"{CAC}TaxTotal/{CAC}TaxSubtotal/{CAC}TaxCategory")
        assert category.find(f"{CAC}TaxScheme/{CBC}TaxTypeCode").text == "0015"
        code = category.find(f"{CBC}TaxExemptionReasonCode")
        assert (code.text if code is not None else "") == line.vat_exemption_code
    assert any(line.vat_exemption_code for line in exempt.lines.all())
    subtotals = document.findall(f"{CAC}TaxTotal/{CAC}TaxSubtotal/{CBC}TaxAmount")
    assert sum(Decimal(s.text) for s in subtotals) == exempt.vat_total


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
