"""Files go to any S3-compatible store when configured: here a real moto S3 server on loopback."""

import boto3
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def s3_storage(settings, s3_server):
    boto3.client(
        "s3",
        endpoint_url=s3_server,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    ).create_bucket(Bucket="b2b-media")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "b2b-media",
                "endpoint_url": s3_server,
                "access_key": "test",
                "secret_key": "test",
                "region_name": "us-east-1",
                "addressing_style": "path",
                "file_overwrite": False,
            },
        },
    }
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
