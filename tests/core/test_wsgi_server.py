"""What the WSGI server hands the app, under gunicorn: a body sent ``Transfer-Encoding: chunked``
(no Content-Length) is read whole (``apps.core.wsgi``: it used to arrive empty, so an update
answered 200 and changed nothing), and the scheme a proxy vouches for is believed only from
``FORWARDED_ALLOW_IPS``."""

from __future__ import annotations

import http.client
import io
import json
from wsgiref.util import setup_testing_defaults

import pytest

from tests.core.test_services_down import PASSWORD, shop, web  # noqa: F401 (fixtures)


def chunked(port: int, path: str, body: bytes, headers: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        pieces = iter([body[i : i + 7] for i in range(0, len(body), 7)])
        connection.request(
            "POST",
            path,
            body=pieces,
            headers={"Content-Type": "application/json", **(headers or {})},
            encode_chunked=True,
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_is_read_whole_under_gunicorn(web, shop):  # noqa: F811
    _customer, owner = shop
    server = web(API_MAX_BODY_BYTES="2000")
    login = json.dumps({"email": owner.email, "password": PASSWORD}).encode()

    status, answer = chunked(server.port, "/api/v1/auth/token", login)

    assert status == 200, answer
    assert answer["access"]
    # beyond the body limit: 413, as with a Content-Length
    status, answer = chunked(server.port, "/api/v1/auth/token", b" " * 3000 + login)
    assert status == 413 and answer["code"] == "payload_too_large"


def test_a_server_that_cannot_end_a_chunked_body_answers_411():
    from config.wsgi import application

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/auth/token",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(b"7\r\n{}\r\n0\r\n\r\n"),
    }
    setup_testing_defaults(environ)
    environ.pop("CONTENT_LENGTH", None)
    started = []
    body = b"".join(application(environ, lambda status, headers: started.append(status)))
    assert started == ["411 Length Required"]
    assert json.loads(body)["code"] == "length_required"


@pytest.mark.django_db(transaction=True)
def test_only_a_trusted_proxy_can_say_the_request_came_over_https(web):  # noqa: F811
    server = web(SECURE_SSL_REDIRECT="1", FORWARDED_ALLOW_IPS="127.0.0.1")

    def get(source: str) -> int:
        connection = http.client.HTTPConnection(
            "127.0.0.1", server.port, timeout=30, source_address=(source, 0)
        )
        try:
            connection.request("GET", "/api/v1/", headers={"X-Forwarded-Proto": "https"})
            return connection.getresponse().status
        finally:
            connection.close()

    assert get("127.0.0.1") == 200  # the proxy: HTTPS as it says
    assert get("127.0.0.2") == 301  # anyone else: plain HTTP, redirected
