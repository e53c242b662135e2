"""``POST products/{sku}/images`` with hostile files: random bytes, damaged JPEG/PNG/WEBP/GIF
and other formats, decompression bombs. Every upload answers 201 or 400 on ``image`` (never
500), a refused one stores nothing, and the thumbnail task never fails on what was stored."""

from __future__ import annotations

import io
import warnings
import zlib

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from apps.catalog.images import product_image_generate_thumbnail
from apps.catalog.models import ProductImage
from tests.catalog.factories import ProductFactory

pytestmark = [pytest.mark.django_db]

URL = "/api/integration/v1/products/IMG-1/images"


@pytest.fixture
def client(integration_client, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media"), "base_url": "/media/"},
        },
    }
    ProductFactory(sku="IMG-1")
    return integration_client(scopes=["catalog:write"])


def encoded(fmt: str, size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(out, fmt)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    pixels = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def post(client, data: bytes, name="photo.png"):
    cache.clear()  # rate limits count in the cache
    return client.post(
        URL, {"image": SimpleUploadedFile(name, data, "image/png")}, format="multipart"
    )


def assert_outcome(response):
    assert response.status_code in (201, 400), response.content[:300]
    if response.status_code == 400:
        assert "image" in response.json()["errors"]


@pytest.mark.parametrize(
    ("width", "height"), [(20_000, 20_000), (9_000, 9_000), (65_535, 65_535), (1, 2**31 - 1)]
)
def test_a_decompression_bomb_answers_400_and_stores_nothing(client, width, height):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns before it refuses
        response = post(client, png_claiming(width, height))
    assert response.status_code == 400
    assert "image" in response.json()["errors"]
    assert not ProductImage.objects.exists()


SEEDS = [encoded(fmt) for fmt in ("PNG", "JPEG", "WEBP", "GIF", "TIFF", "BMP")]


def mutate(seed: int, positions: list[int], value: int, cut: int | None) -> bytes:
    data = bytearray(SEEDS[seed % len(SEEDS)])
    for position in positions:
        data[position % len(data)] = value
    return bytes(data[:cut] if cut else data)


uploads = st.one_of(
    st.binary(max_size=3000),
    st.builds(
        mutate,
        st.integers(min_value=0),
        st.lists(st.integers(min_value=0, max_value=10_000), max_size=10),
        st.integers(min_value=0, max_value=255),
        st.one_of(st.none(), st.integers(min_value=1, max_value=3000)),
    ),
)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=uploads)
def test_fuzz_every_image_upload_answers_201_or_400(client, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        response = post(client, data)
        assert_outcome(response)
        if response.status_code == 201:  # what was stored, the thumbnail task can read
            product_image_generate_thumbnail(image_id=response.json()["id"])
