"""The demo's catalog has pictures: the first products by name get a drawn one, stored and
thumbnailed through the upload service, so the catalog and product pages show images."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from apps.catalog.models import ProductImage

pytestmark = [pytest.mark.django_db]


def test_the_demo_products_have_pictures_with_thumbnails(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the thumbnails follow the commit
        call_command("seed_demo", "--products", "30", "--dealers", "4", stdout=StringIO())

    images = ProductImage.objects.filter(product__sku__startswith="DEMO-")
    assert images.count() == 30
    assert all(image.is_primary and image.thumbnail for image in images)
    call_command("seed_demo", "--products", "30", "--dealers", "4", stdout=StringIO())
    assert images.count() == 30  # a second run draws none again
