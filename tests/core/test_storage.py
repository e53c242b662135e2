"""Files go to any S3-compatible store when configured: here a real moto S3 server on loopback."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from tests.s3 import s3_bucket_create, s3_default_storage

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def s3_storage(settings, s3_server):
    s3_bucket_create(s3_server, "b2b-media")
    s3_default_storage(settings, endpoint=s3_server, bucket="b2b-media", file_overwrite=False)
    return s3_server


def test_files_are_stored_in_and_read_back_from_s3(s3_storage):
    name = default_storage.save("invoices/test.pdf", ContentFile(b"%PDF-1.4 hello"))
    assert name.startswith("invoices/test")
    with default_storage.open(name) as handle:
        assert handle.read() == b"%PDF-1.4 hello"
    assert default_storage.url(name).startswith(s3_storage)
    default_storage.delete(name)
    assert not default_storage.exists(name)


def test_ready_reports_s3_storage_healthy(client, s3_storage):
    response = client.get("/health/ready")
    assert response.json()["checks"]["storage"]["status"] == "ok"
