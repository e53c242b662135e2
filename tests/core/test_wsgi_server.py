"""What the WSGI server hands the app, under gunicorn: a body sent ``Transfer-Encoding: chunked``
(no Content-Length) is read whole (``apps.core.wsgi``: it used to arrive empty, so an update
answered 200 and changed nothing), a body sent ``Content-Encoding: gzip`` is decompressed (its
compressed bytes were read as JSON: a 400 that named no cause), and the scheme a proxy vouches
for is believed only from ``FORWARDED_ALLOW_IPS``. Under the development server (the demo) the
refusals are the same JSON answers."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import zlib

import pytest

from tests.conftest import ROOT, free_port, wait_for_port
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
    status, answer = chunked(
        server.port, "/api/v1/auth/token", b" " * 3000 + login, {"Accept-Language": "tr"}
    )
    assert status == 413 and answer["detail"] == "İstek gövdesi çok büyük."


def sent(port: int, path: str, body: bytes, headers: dict):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            "POST", path, body=body, headers={"Content-Type": "application/json", **headers}
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_compressed_body_is_read_as_the_json_it_holds(web, shop):  # noqa: F811
    _customer, owner = shop
    server = web(API_MAX_BODY_BYTES="2000")
    login = json.dumps({"email": owner.email, "password": PASSWORD}).encode()
    deflate = zlib.compressobj(wbits=zlib.MAX_WBITS)

    for encoding, body in (
        ("gzip", gzip.compress(login)),
        ("GZip ", gzip.compress(login)),
        ("deflate", deflate.compress(login) + deflate.flush()),
        ("identity", login),
    ):
        status, answer = sent(
            server.port, "/api/v1/auth/token", body, {"Content-Encoding": encoding}
        )
        assert status == 200 and answer["access"], (encoding, answer)

    # beyond the body limit once decompressed: 413, though 3,000 spaces compress to a few bytes
    bomb = gzip.compress(b" " * 3000 + login)
    assert len(bomb) < 2000
    status, answer = sent(server.port, "/api/v1/auth/token", bomb, {"Content-Encoding": "gzip"})
    assert status == 413 and answer["code"] == "payload_too_large", answer
    # not what the header says: a field-level 400 naming the header, in the reader's language
    for broken in (login, gzip.compress(login)[:-6], gzip.compress(login) + b"tail"):
        status, answer = sent(
            server.port, "/api/v1/auth/token", broken, {"Content-Encoding": "gzip"}
        )
        assert status == 400 and answer["code"] == "invalid_content_encoding", answer
        assert answer["errors"]["Content-Encoding"], answer
    status, answer = sent(
        server.port,
        "/api/v1/auth/token",
        login,
        {"Content-Encoding": "gzip", "Accept-Language": "tr"},
    )
    assert answer["detail"] == "Gövde, Content-Encoding başlığının söylediği biçimde değil."
    # an encoding we do not read: 415, never its bytes taken as JSON
    status, answer = sent(server.port, "/api/v1/auth/token", login, {"Content-Encoding": "br"})
    assert status == 415 and answer["code"] == "unsupported_content_encoding", answer


@pytest.fixture
def development_server():
    """The app under Django's development server (``runserver``'s server and handler, as the
    README's demo runs it), in a thread: the port."""
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    from config.wsgi import application

    server = ThreadedWSGIServer(("127.0.0.1", 0), WSGIRequestHandler)
    server.set_app(application)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_server_that_cannot_end_a_chunked_body_answers_411(development_server):
    """The development server cannot end a chunked body: 411, in the reader's language, and
    the connection closed (the unread chunks are no next request). It asserted on the
    refusal's ``Connection`` header (hop-by-hop headers are the server's): a 500. Sent in one
    piece: a client still sending its chunks once the answer came finds the connection gone."""
    answer = raw_exchange(
        development_server,
        b"POST /api/integration/v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nAccept-Language: tr-TR,tr;q=0.9\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n" + SMUGGLED,
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 411 "), answer[:300]
    assert json.loads(body)["code"] == "length_required"
    assert json.loads(body)["detail"] == "Gövdeyi bir Content-Length ile gönderin."
    headers = head.decode("latin-1").lower()
    assert "content-language: tr" in headers and "connection: close" in headers
    assert answer.count(b"HTTP/1.1 ") == 1  # the chunks were not read as a request


def raw_exchange(port: int, data: bytes) -> bytes:
    """Send ``data`` as it is and read what comes back until the server closes or stops."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    return received


SMUGGLED = b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@pytest.mark.parametrize(
    ("framing", "field"),
    [
        (b"Content-Length: abc\r\n", "Content-Length"),
        (b"Content-Length: 2, 2\r\n", "Content-Length"),
        (b"Content-Length: -5\r\n", "Content-Length"),
        (b"Transfer-Encoding: gzip\r\n", "Transfer-Encoding"),
        (b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "Transfer-Encoding"),
    ],
)
def test_the_development_server_refuses_a_body_it_cannot_frame_and_reads_no_more(
    development_server, framing, field
):
    """What gunicorn refuses itself, the development server handed on: a length that is not a
    number was a 500 (a middleware's ``int()``), and a body it could not frame was read as the
    next request on the connection (a request smuggled inside a body was answered)."""
    request = (
        b"POST /api/v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nX-Request-ID: smuggle-1\r\n"
        + framing
        + b"\r\n0\r\n\r\n"
        + SMUGGLED
    )
    answer = raw_exchange(development_server, request)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), answer[:300]
    assert json.loads(body)["code"] == "malformed_request"
    assert list(json.loads(body)["errors"]) == [field]
    assert answer.count(b"HTTP/1.1 ") == 1  # the smuggled request was not answered
    headers = head.decode("latin-1").lower()
    assert "x-request-id: smuggle-1" in headers and "cache-control: no-store" in headers
    assert "x-content-type-options: nosniff" in headers and "x-frame-options: deny" in headers


def test_the_development_server_reads_a_request_target_in_absolute_form(development_server):
    port = development_server
    answer = raw_exchange(
        port,
        f"GET http://127.0.0.1:{port}/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Connection: close\r\n\r\n".encode(),
    )
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:300]
    assert json.loads(answer.partition(b"\r\n\r\n")[2]) == {"status": "ok"}


@pytest.mark.parametrize(
    ("encoding", "status", "code"),
    [
        ("gzip", 400, "invalid_content_encoding"),
        ("br", 415, "unsupported_content_encoding"),
    ],
)
def test_the_development_server_refuses_a_body_it_cannot_decode_in_json(
    development_server, encoding, status, code
):
    """The demo's server answers what gunicorn answers (it answered 500), and the body it did
    not read is no next request on the same connection."""
    connection = http.client.HTTPConnection("127.0.0.1", development_server, timeout=30)
    try:
        for _ in range(2):
            connection.request(
                "POST",
                "/api/integration/v1/customers",
                body=b"[] not compressed",
                headers={"Content-Type": "application/json", "Content-Encoding": encoding},
            )
            response = connection.getresponse()
            body = json.loads(response.read())
            assert response.status == status and body["code"] == code
            assert list(body["errors"]) == ["Content-Encoding"]
    finally:
        connection.close()


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


MALFORMED = {
    "a lowercase method": (b"get / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400, "malformed_request"),
    "two lengths": (
        b"POST /api/v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n{}",
        400,
        "malformed_request",
    ),
    "120 headers": (
        b"GET /api/v1/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + b"".join(b"X-Extra-%d: 1\r\n" % i for i in range(120))
        + b"\r\n",
        431,
        "headers_too_large",
    ),
    "a 9,000-byte request line": (
        b"GET /api/v1/products?search=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        414,
        "request_line_too_long",
    ),
    "HTTP/9.9": (b"GET / HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n", 400, "malformed_request"),
}


def test_what_gunicorn_refuses_itself_is_answered_in_json(tmp_path):
    """A request gunicorn cannot parse never reaches the app: its answer was gunicorn's HTML
    page. It is the API's JSON error body now (config/gunicorn.conf.py)."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "DEBUG": "0",
        "SECRET_KEY": "gunicorn-errors-test-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "STATIC_ROOT": str(tmp_path),
    }
    with (tmp_path / "gunicorn.log").open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, timeout=30)
        for name, (raw, status, code) in MALFORMED.items():
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(raw)
                answer = b""
                while chunk := sock.recv(65536):
                    answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 %d " % status), (name, answer)
            assert b"Content-Type: application/json" in head, (name, answer)
            # the headers of every other answer: a request id for the log, the security ones
            assert re.search(rb"\r\nX-Request-ID: [0-9a-f]{32}\r\n", head), (name, head)
            assert b"X-Content-Type-Options: nosniff" in head, (name, head)
            assert b"X-Frame-Options: DENY" in head, (name, head)
            refusal = json.loads(body)
            assert refusal["code"] == code and refusal["detail"], (name, refusal)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_request_that_outlived_the_workers_timeout_answers_503_not_500():
    """gunicorn aborts a worker past its ``timeout`` and answers the request it was serving
    with a 500 (its "Internal Server Error"): nothing of that request was kept, its
    transaction died with the worker, so it is a 503 with Retry-After, to be sent again. Other
    refusals of gunicorn keep their status."""
    import runpy

    config = runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))

    def answer(status: int, reason: str) -> bytes:
        ours, theirs = socket.socketpair()
        with ours, theirs:
            config["_json_error"](ours, status, reason, "")
            ours.shutdown(socket.SHUT_WR)
            return theirs.recv(65536)

    assert answer(500, "Internal Server Error").startswith(b"HTTP/1.1 500 ")  # not aborting
    config["worker_abort"](None)
    head, _, body = answer(500, "Internal Server Error").partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 Service Unavailable"), head
    assert b"\r\nRetry-After: 30\r\n" in head
    refusal = json.loads(body)
    assert refusal["code"] == "service_unavailable" and refusal["retry_after"] == 30
    assert answer(400, "Bad Request").startswith(b"HTTP/1.1 400 ")
