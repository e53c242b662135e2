"""Without a bucket the app serves MEDIA_ROOT at /media/ (``MEDIA_SERVE``), with DEBUG off too:
a one-server deployment shows its product images and banners."""

import importlib

import pytest
from django.test import Client
from django.urls import clear_url_caches

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def production_urls(settings, tmp_path):
    """The URL configuration as a production process builds it (DEBUG off at import)."""
    import config.urls

    before = settings.DEBUG, settings.MEDIA_SERVE, settings.MEDIA_ROOT
    settings.DEBUG = False
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "banners").mkdir()
    (tmp_path / "banners" / "spring.png").write_bytes(b"\x89PNG\r\n\x1a\n-banner-")

    def build(serve: bool):
        settings.MEDIA_SERVE = serve
        importlib.reload(config.urls)
        clear_url_caches()

    yield build
    settings.DEBUG, settings.MEDIA_SERVE, settings.MEDIA_ROOT = before
    importlib.reload(config.urls)
    clear_url_caches()


def test_media_files_are_served_with_debug_off(production_urls):
    production_urls(True)
    response = Client().get("/media/banners/spring.png")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).endswith(b"-banner-")
    assert Client().get("/media/banners/").status_code == 404  # no folder listings
    assert Client().get("/media/..%2Fconfig%2Fsettings.py").status_code in (400, 404)


@pytest.mark.parametrize("path", ["a" * 256, "banners/" + "b" * 300 + ".png", "x/" * 3000])
def test_a_name_the_file_system_cannot_hold_is_404_not_500(production_urls, path):
    production_urls(True)
    assert Client(raise_request_exception=False).get(f"/media/{path}").status_code == 404


def test_media_serving_can_be_left_to_the_web_server(production_urls):
    production_urls(False)
    assert Client().get("/media/banners/spring.png").status_code == 404
