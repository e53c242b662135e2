"""A HEAD is answered as its GET without the body, at the WSGI level where the server sees it
(Django's test client drops the body itself, so it is asked here without it): gunicorn
logged a WARNING for every HEAD, a health probe's included, while dropping the body."""

from __future__ import annotations

import io

import pytest
from django.core.handlers.wsgi import WSGIHandler

pytestmark = [pytest.mark.django_db]


def wsgi(method: str, path: str) -> tuple[str, dict, bytes]:
    answer: dict = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, dict(headers)

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
    }
    body = WSGIHandler()(environ, start_response)
    try:
        content = b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()
    return answer["status"], answer["headers"], content


@pytest.mark.parametrize("path", ["/health/live", "/favicon.ico", "/api/v1/"])
def test_a_head_has_the_gets_headers_and_no_body(path):
    status, headers, content = wsgi("GET", path)
    assert status.startswith("200") and content
    head_status, head_headers, head_content = wsgi("HEAD", path)
    assert head_status == status
    assert head_content == b""
    assert head_headers["Content-Type"] == headers["Content-Type"]
