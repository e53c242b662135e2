"""Product images: upload validation, one primary image, thumbnails made on commit by Celery,
and the integration endpoint POST/GET products/{sku}/images."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.catalog.images import product_image_create, validate_image
from apps.catalog.models import ProductImage
from apps.catalog.tasks import generate_thumbnail
from tests.catalog.factories import ProductFactory

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    """Files go to a fresh directory for each test."""
    root = tmp_path / "media"
    settings.MEDIA_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root), "base_url": "/media/"},
        },
    }
    return root


def image_bytes(fmt="PNG", size=(800, 600), mode="RGB", color=(200, 30, 30)) -> bytes:
    buffer = BytesIO()
    Image.new(mode, size, color).save(buffer, fmt)
    return buffer.getvalue()


def upload(name="photo.png", data=None, content_type="image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data if data is not None else image_bytes(), content_type)


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


# --- validation ---------------------------------------------------------------------------------


def test_validate_image_accepts_a_real_png_made_in_memory():
    assert validate_image(upload()) == "PNG"


def test_validate_image_accepts_jpeg_and_webp():
    assert validate_image(upload("a.jpg", image_bytes("JPEG"), "image/jpeg")) == "JPEG"
    assert validate_image(upload("a.webp", image_bytes("WEBP"), "image/webp")) == "WEBP"


def test_validate_image_refuses_a_text_file_renamed_jpg():
    with pytest.raises(ValidationError) as exc:
        validate_image(upload("x.jpg", b"this is not a picture\n" * 100, "image/jpeg"))
    assert exc.value.code == "invalid_image"


def test_validate_image_refuses_an_oversize_file(settings):
    settings.PRODUCT_IMAGE_MAX_BYTES = 1024
    with pytest.raises(ValidationError) as exc:
        validate_image(upload(data=image_bytes(size=(2000, 2000), mode="RGB")))
    assert exc.value.code == "file_too_large"


def test_validate_image_refuses_a_format_not_allowed():
    with pytest.raises(ValidationError) as exc:
        validate_image(upload("a.gif", image_bytes("GIF"), "image/gif"))
    assert exc.value.code == "invalid_format"
    assert "GIF" in exc.value.messages[0]


def test_validate_image_refuses_a_truncated_image():
    data = image_bytes("PNG", size=(400, 400))
    with pytest.raises(ValidationError):
        validate_image(upload(data=data[: len(data) // 2]))


def test_validate_image_refuses_an_empty_file():
    with pytest.raises(ValidationError):
        validate_image(upload(data=b""))


# --- primary flag and thumbnails ----------------------------------------------------------------


def test_first_image_becomes_primary_and_a_new_primary_unsets_the_old(
    django_capture_on_commit_callbacks,
):
    product = ProductFactory()
    with django_capture_on_commit_callbacks(execute=True):
        first = product_image_create(product=product, file=upload("a.png"))
        second = product_image_create(product=product, file=upload("b.png"), sort_order=2)
    first.refresh_from_db()
    assert first.is_primary and not second.is_primary

    with django_capture_on_commit_callbacks(execute=True):
        third = product_image_create(product=product, file=upload("c.png"), is_primary=True)
    assert list(product.images.filter(is_primary=True)) == [third]


def test_a_png_named_jpg_is_stored_with_its_real_extension(django_capture_on_commit_callbacks):
    product = ProductFactory(sku="LED-1")
    with django_capture_on_commit_callbacks(execute=True):
        image = product_image_create(product=product, file=upload("x.jpg"))
    assert image.image.name.startswith("products/LED-1/x")
    assert image.image.name.endswith(".png")


def test_thumbnail_is_generated_after_commit_by_the_celery_task(
    django_capture_on_commit_callbacks, media
):
    product = ProductFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        image = product_image_create(
            product=product, file=upload(data=image_bytes(size=(1200, 600)))
        )
    image.refresh_from_db()
    assert not image.thumbnail  # nothing on the request path
    assert len(callbacks) == 1

    callbacks[0]()  # the commit: CELERY_TASK_ALWAYS_EAGER runs the task here
    image.refresh_from_db()
    assert image.thumbnail.name.endswith(".webp")
    with Image.open(media / image.thumbnail.name) as thumb:
        assert thumb.format == "WEBP"
        assert thumb.size == (320, 160)  # fits in PRODUCT_THUMBNAIL_SIZE, proportions kept


def test_thumbnail_task_is_idempotent(django_capture_on_commit_callbacks, media):
    product = ProductFactory()
    with django_capture_on_commit_callbacks(execute=True):
        image = product_image_create(product=product, file=upload())
    image.refresh_from_db()
    first = image.thumbnail.name

    assert generate_thumbnail.delay(image.pk).get() == first
    assert generate_thumbnail(image.pk) == first
    thumbs = [p for p in stored_files(media) if "thumbs" in p.parts]
    assert len(thumbs) == 1
    assert generate_thumbnail(999_999) == ""  # a deleted image: nothing to do


def test_thumbnail_of_a_transparent_png_keeps_its_alpha(django_capture_on_commit_callbacks, media):
    product = ProductFactory()
    data = image_bytes("PNG", size=(100, 100), mode="RGBA", color=(0, 0, 0, 0))
    with django_capture_on_commit_callbacks(execute=True):
        image = product_image_create(product=product, file=upload(data=data))
    image.refresh_from_db()
    with Image.open(media / image.thumbnail.name) as thumb:
        assert thumb.mode == "RGBA"


def test_a_bad_file_stores_nothing(media):
    product = ProductFactory()
    with pytest.raises(ValidationError):
        product_image_create(product=product, file=upload("x.jpg", b"nope" * 10))
    assert not ProductImage.objects.exists()
    assert stored_files(media) == []


# --- integration endpoint -----------------------------------------------------------------------


def url(sku: str) -> str:
    return f"/api/integration/v1/products/{sku}/images"


def test_integration_upload_answers_201_with_the_image(
    integration_client, django_capture_on_commit_callbacks
):
    ProductFactory(sku="PNL-60")
    client = integration_client(scopes=["catalog:write"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("PNL-60"),
            {"image": upload("panel.png"), "alt_text": "LED panel", "sort_order": 3},
            format="multipart",
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"id", "url", "thumbnail_url", "is_primary", "sort_order", "alt_text"}
    assert body["url"].startswith("http://testserver/media/products/PNL-60/panel")
    assert body["is_primary"] is True  # the first image
    assert body["sort_order"] == 3 and body["alt_text"] == "LED panel"

    listing = client.get(url("PNL-60")).json()
    assert listing["count"] == 1
    assert listing["results"][0]["thumbnail_url"].endswith(".webp")


def test_an_upload_the_local_storage_cannot_write_answers_503_and_keeps_nothing(
    integration_client, settings
):
    """A ``MEDIA_ROOT`` the server may not write (permissions, a full disk, a read-only file
    system) answered 500; it is the storage's 503 with Retry-After, as an S3 outage's is.
    (Here a directory under /sys, which even root may not create.)"""
    from apps.catalog.models import ProductImage  # here: only these tests read them

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": "/sys/b2b-media-test", "base_url": "/media/"},
        },
    }
    ProductFactory(sku="PNL-63")
    client = integration_client(scopes=["catalog:write"])

    response = client.post(url("PNL-63"), {"image": upload("a.png")}, format="multipart")

    assert response.status_code == 503, response.content
    assert int(response["Retry-After"]) > 0
    assert response.json()["code"] == "service_unavailable"
    assert not ProductImage.objects.exists()


def test_an_upload_sent_again_with_its_idempotency_key_is_one_image(integration_client):
    """A connector retrying after a timeout; the same key with another file is a 409."""
    from apps.catalog.models import ProductImage

    ProductFactory(sku="PNL-62")
    client = integration_client(scopes=["catalog:write"])
    key = {"HTTP_IDEMPOTENCY_KEY": "img-1"}
    first = client.post(url("PNL-62"), {"image": upload("a.png")}, format="multipart", **key)
    again = client.post(url("PNL-62"), {"image": upload("a.png")}, format="multipart", **key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    other = upload("a.png", data=image_bytes(color="blue"))
    refused = client.post(url("PNL-62"), {"image": other}, format="multipart", **key)
    assert refused.status_code == 409
    assert ProductImage.objects.filter(product__sku="PNL-62").count() == 1


def test_integration_upload_of_a_second_primary_moves_the_flag(integration_client):
    ProductFactory(sku="PNL-61")
    client = integration_client()
    client.post(url("PNL-61"), {"image": upload("a.png")}, format="multipart")
    response = client.post(
        url("PNL-61"), {"image": upload("b.png"), "is_primary": "true"}, format="multipart"
    )
    assert response.status_code == 201
    results = client.get(url("PNL-61")).json()["results"]
    assert [r["is_primary"] for r in results] == [True, False]
    assert results[0]["id"] == response.json()["id"]


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("x.jpg", b"0123456789" * 1024 * 1024, "too large"),  # a 10 MB text file named x.jpg
        ("x.jpg", b"not an image at all", "not an image"),
        ("x.gif", None, "GIF"),
    ],
)
def test_integration_upload_of_a_bad_file_answers_400_on_image_and_stores_nothing(
    integration_client, media, name, data, expected
):
    ProductFactory(sku="PNL-62")
    if data is None:
        data = image_bytes("GIF")
    response = integration_client().post(
        url("PNL-62"), {"image": upload(name, data, "image/jpeg")}, format="multipart"
    )
    assert response.status_code == 400
    body = response.json()
    assert list(body["errors"]) == ["image"]
    assert expected in body["errors"]["image"][0]
    assert not ProductImage.objects.exists()
    assert stored_files(media) == []


def test_integration_upload_without_a_file_or_with_an_unknown_field_answers_400(
    integration_client,
):
    ProductFactory(sku="PNL-63")
    client = integration_client()
    assert "image" in client.post(url("PNL-63"), {}, format="multipart").json()["errors"]
    response = client.post(url("PNL-63"), {"image": upload(), "product": "x"}, format="multipart")
    assert response.status_code == 400
    assert "product" in response.json()["errors"]


def test_integration_upload_for_an_unknown_or_deleted_sku_answers_404(integration_client):
    client = integration_client()
    assert client.post(url("NOPE"), {"image": upload()}, format="multipart").status_code == 404
    deleted = ProductFactory(sku="GONE-1")
    deleted.soft_delete()
    assert client.post(url("GONE-1"), {"image": upload()}, format="multipart").status_code == 404
    assert client.get(url("NOPE")).status_code == 404


def test_integration_upload_needs_the_catalog_write_scope(integration_client):
    ProductFactory(sku="PNL-64")
    client = integration_client(scopes=["stock:write"])
    response = client.post(url("PNL-64"), {"image": upload()}, format="multipart")
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    assert client.get(url("PNL-64")).status_code == 403
    assert not ProductImage.objects.exists()


def test_integration_images_need_an_api_key(api_client):
    ProductFactory(sku="PNL-65")
    assert api_client.get(url("PNL-65")).status_code == 401


def test_validate_image_refuses_too_many_pixels():
    buffer = BytesIO()
    Image.new("1", (8000, 6000)).save(buffer, "PNG")  # a small file, 48 megapixels
    with pytest.raises(ValidationError) as exc:
        validate_image(upload(data=buffer.getvalue()))
    assert exc.value.code == "too_many_pixels"
