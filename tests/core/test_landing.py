"""``/`` is a start page (the admin's "view site" link) linking the back office, the API docs
and the APIs, in the visitor's language; ``/favicon.ico`` is served; the API documentation
pages load nothing from another host (they work offline)."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from tests.conftest import staff_login
from tests.factories import StaffUserFactory

pytestmark = [pytest.mark.django_db]

_URL = re.compile(r"""(?:src|href|url|content)\s*[=(]\s*["']?((?:https?:)?//[^"') >]+)""")
_IMPORT = re.compile(r"@import\s+[\"']?((?:https?:)?//[^\"') ;]+)")


def test_the_start_page_links_the_back_office_the_docs_and_the_apis():
    response = Client().get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    for href in ("/admin/", "/api/docs/", "/api/redoc/", "/api/schema/", "/health/ready"):
        assert f'href="{href}"' in page, href
    assert "http://testserver/api/v1/" in page
    assert "http://testserver/api/integration/v1/" in page
    assert 'href="/favicon.ico"' in page


def test_the_start_page_speaks_turkish_to_a_turkish_browser():
    english = Client().get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    turkish = Client().get("/", HTTP_ACCEPT_LANGUAGE="tr")
    assert turkish["Content-Language"] == "tr"
    assert '<html lang="tr">' in turkish.content.decode()
    assert '<html lang="en">' in english


def test_the_admin_view_site_link_opens_the_start_page():
    client = staff_login(Client(), StaffUserFactory(is_superuser=True))
    admin = client.get("/admin/").content.decode()
    assert 'href="/"' in admin
    assert client.get("/").status_code == 200


def test_without_public_docs_the_start_page_hides_their_links_from_visitors(settings):
    settings.API_DOCS_PUBLIC = False
    page = Client().get("/").content.decode()
    assert "/api/docs/" not in page and "/api/schema/" not in page
    staff = Client()
    staff.force_login(StaffUserFactory())
    assert 'href="/api/docs/"' in staff.get("/").content.decode()


def test_the_favicon_is_served():
    response = Client().get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    body = b"".join(response.streaming_content)
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert body == open(finders.find("favicon.ico"), "rb").read()  # noqa: SIM115


def _external(text: str) -> set[str]:
    return set(_URL.findall(text) + _IMPORT.findall(text))


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/", "/"])
def test_the_docs_pages_load_nothing_from_another_host(path):
    """Every script, style sheet, font and icon the page names is on our host (the sidecar's
    copies): no Google Fonts for Redoc, no CDN."""
    response = Client().get(path)
    assert response.status_code == 200
    page = response.content.decode()
    assert _external(page) == set(), _external(page)
    assert "fonts.googleapis.com" not in page and "fonts.gstatic.com" not in page
    # the assets it names are ours and are served
    for asset in re.findall(r"""(?:src|href)="(/static/[^"]+)""", page):
        assert finders.find(asset.removeprefix("/static/")), asset


def test_swagger_ui_asks_no_validator_on_another_host():
    page = Client().get("/api/docs/").content.decode()
    assert '"validatorUrl": null' in page


def test_the_docs_pages_keep_fonts_and_images_on_our_host():
    """Redoc's bundle shows a logo from cdn.redoc.ly: the page's policy keeps images (and
    fonts) on our host, so offline nothing waits for another host."""
    for path in ("/api/docs/", "/api/redoc/"):
        page = Client().get(path).content.decode()
        assert "font-src 'self' data:; img-src 'self' data: blob:" in page, path
