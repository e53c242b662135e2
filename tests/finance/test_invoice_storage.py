"""Invoice files go to the configured storage: S3 in production, here a real moto S3 server on
loopback; the dealer API reads them back from there."""

from __future__ import annotations

import boto3
import pytest
from django.test import Client

from apps.finance.models import Invoice
from tests.core.test_storage import s3_storage  # noqa: F401  (the fixture)
from tests.factories import CustomerFactory
from tests.finance.helpers import INVOICES, b64, invoice, post

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_invoice_files_are_stored_in_s3_and_served_to_the_dealer(
    s3_storage,  # noqa: F811
    integration_client,
    dealer_client,
):
    customer = CustomerFactory(code="BAYI-1")
    erp = integration_client(scopes=["invoices:write"])
    record = invoice(xml=b64(b"<Invoice>UBL</Invoice>"), pdf=b64(b"%PDF-1.4 from the ERP"))
    post(erp, INVOICES, [record])

    stored = Invoice.objects.get()
    keys = {
        item["Key"]
        for item in boto3.client(
            "s3",
            endpoint_url=s3_storage,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name="us-east-1",
        ).list_objects_v2(Bucket="b2b-media")["Contents"]
    }
    assert {stored.xml.name, stored.pdf.name} <= keys

    owner = dealer_client("owner", customer=customer)
    assert (
        owner.get(f"/api/v1/invoices/{record['number']}/xml").content == b"<Invoice>UBL</Invoice>"
    )
    assert owner.get(f"/api/v1/invoices/{record['number']}/pdf").content == b"%PDF-1.4 from the ERP"


def test_a_file_gone_from_the_store_is_404_in_the_api_and_rendered_in_the_portal(
    s3_storage,  # noqa: F811
    integration_client,
    dealer_client,
):
    """Asking again would not bring a deleted file back: not a 503. The ERP's PDF gone, the
    API says so (404) and the portal renders the invoice from its recorded content."""
    customer = CustomerFactory(code="BAYI-1")
    erp = integration_client(scopes=["invoices:write"])
    record = invoice(xml=b64(b"<Invoice>UBL</Invoice>"), pdf=b64(b"%PDF-1.4 from the ERP"))
    post(erp, INVOICES, [record])
    stored = Invoice.objects.get()
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_storage,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    for name in (stored.xml.name, stored.pdf.name):
        s3.delete_object(Bucket="b2b-media", Key=name)
    owner = dealer_client("owner", customer=customer)

    xml = owner.get(f"/api/v1/invoices/{record['number']}/xml")
    assert xml.status_code == 404 and xml.json()["code"] == "not_found"
    pdf = owner.get(f"/api/v1/invoices/{record['number']}/pdf")
    assert pdf.status_code == 404 and pdf.json()["code"] == "not_found"
    browser = Client()
    browser.force_login(owner.user)
    copy = browser.get(f"/portal/invoices/{record['number']}/pdf/")
    content = b"".join(copy.streaming_content if copy.streaming else [copy.content])
    assert copy.status_code == 200
    assert content.startswith(b"%PDF") and content != b"%PDF-1.4 from the ERP"
