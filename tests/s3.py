"""The default file storage on S3 for a test: the session's moto server on loopback (a real
S3-compatible process), or an address where nothing answers."""

from __future__ import annotations

import boto3


def s3_bucket_create(server: str, bucket: str) -> None:
    """Make ``bucket`` on the S3 server at ``server``."""
    boto3.client(
        "s3",
        endpoint_url=server,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    ).create_bucket(Bucket=bucket)


def s3_default_storage(settings, *, endpoint: str, bucket: str, **options) -> None:
    """Make the default storage django-storages' S3 storage of ``bucket`` at ``endpoint``
    (``options``: more of its options)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": endpoint,
                "access_key": "test",
                "secret_key": "test",
                "region_name": "us-east-1",
                "addressing_style": "path",
                **options,
            },
        },
    }
