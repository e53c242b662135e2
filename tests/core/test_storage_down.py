"""The file storage (S3) not answering while a request writes a file: 503 with Retry-After in
the error format (the HTML 503 in the portal), nothing half-written, never a 500."""

from __future__ import annotations

import pytest

from apps.catalog.models import ProductImage
from apps.finance.models import Invoice
from tests.catalog.test_images import upload
from tests.core.test_health import dead_s3_storage
from tests.factories import CustomerFactory
from tests.finance.helpers import INVOICES, b64, invoice
from tests.inventory.factories import ProductFactory

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def storage_down(settings):
    dead_s3_storage(settings)


def _is_503(response):
    assert response.status_code == 503, response.content[:500]
    assert int(response["Retry-After"]) > 0
    body = response.json()
    assert body["code"] == "service_unavailable" and body["retry_after"] > 0


def test_an_invoice_with_its_files_answers_503_and_records_nothing(
    storage_down, integration_client
):
    CustomerFactory(code="BAYI-1")
    client = integration_client(scopes=["invoices:write"])
    record = invoice(xml=b64(b"<Invoice>UBL-TR</Invoice>"), pdf=b64(b"%PDF-1.4 erp"))

    _is_503(client.post(INVOICES, [record], format="json"))

    assert not Invoice.objects.exists()


def test_a_product_image_answers_503_and_adds_nothing(storage_down, integration_client):
    ProductFactory(sku="PNL-60")
    client = integration_client(scopes=["catalog:write"])

    response = client.post(
        "/api/integration/v1/products/PNL-60/images",
        {"image": upload("panel.png")},
        format="multipart",
    )

    _is_503(response)
    assert not ProductImage.objects.exists()
