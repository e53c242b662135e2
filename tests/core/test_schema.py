"""The OpenAPI schema is valid and served with Swagger UI and Redoc."""

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.django_db]


def test_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    assert "openapi: 3.0.3" in text
    assert "/api/v1/" in text and "/api/integration/v1/" in text


def test_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert schema.json()["components"]["schemas"]["Error"]["required"] == [
        "code",
        "detail",
        "errors",
    ]
    for url in ("/api/docs/", "/api/redoc/"):
        page = client.get(url)
        assert page.status_code == 200
        assert b"/static/drf_spectacular_sidecar/" in page.content  # no CDN needed


def test_both_api_roots_exist(client):
    assert client.get("/api/v1/").json()["name"] == "dealer"
    assert client.get("/api/integration/v1/").json()["name"] == "integration"
