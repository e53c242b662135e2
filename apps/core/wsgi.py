"""The WSGI application, with request bodies sent without a length made whole.

An HTTP/1.1 client may send its body ``Transfer-Encoding: chunked`` (a connector streaming an
upload). Django reads a body only as far as ``CONTENT_LENGTH`` says, so such a body arrived
empty: an update answered 200 and changed nothing. Where the server ends the stream at the end
of the body (gunicorn sets ``wsgi.input_terminated``), it is read here, up to
``API_MAX_BODY_BYTES`` (413 beyond, as for a body with a length), and handed on with its length;
a server that cannot end it (the development server) answers 411 Length Required instead.

A body sent ``Content-Encoding: gzip`` (or ``deflate``: a connector compressing a big batch) is
decompressed here, up to ``API_MAX_BODY_BYTES`` once decompressed (413 beyond: a small bomb does
not grow into memory), and handed on as a plain body; a body that is not what its encoding says
answers 400, and any other encoding 415, rather than its compressed bytes being read as JSON.

What gunicorn refuses itself and a server that leaves it to the app (the development server,
the demo's) passed on is refused here too, before any middleware reads the body: a
``Content-Length`` that is not a number (400: a middleware's ``int()`` was a 500), a
``Transfer-Encoding`` the server does not end (400: the body was read as the next request on
the connection), and a request target in absolute form (``GET http://host/api/...``) is read
as its path. Every refusal carries the headers of every answer (``X-Request-ID``, no caching,
the security headers).
"""

from __future__ import annotations

import io
import json
import re
import zlib

import django
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from apps.core.i18n import portal_language
from apps.core.logging import request_id_from

_CHUNK = 64 * 1024
# zlib's window bits for each encoding a body may come in: gzip's header, deflate's zlib header
_DECODERS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
_LENGTH = re.compile(r"[0-9]+")
# ``http://host:port`` in front of the path of a request target in absolute form (RFC 9112
# 3.2.2), which the development server hands on as the path
_ABSOLUTE_FORM = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")


def _language(environ) -> str:
    """The language the app would answer this request in (its locale middleware has not run):
    the portal's for the portal, else the language cookie or ``Accept-Language``."""
    request = WSGIRequest(environ)  # headers and cookies only: the body is not read
    if request.path.startswith("/portal/"):
        return portal_language(request)
    return translation.get_language_from_request(request)


def _refuse(
    environ,
    start_response,
    status: str,
    detail: str,
    code: str,
    header: str = "",
    *,
    body_left: bool = False,
):
    """The API's JSON error for a request refused before Django reads it; ``header`` names the
    request header at fault, as a field. ``body_left``: a body the server cannot skip (chunked,
    where the server cannot end it) was not read, so the connection must not carry another
    request. An app may not send ``Connection`` (a hop-by-hop header: the development server
    answered its assertion with a 500, gunicorn drops it); an answer without a length makes
    the development server close the connection. gunicorn skips what was not read itself."""
    language = _language(environ)
    with translation.override(language):
        errors = {header: [_(detail)]} if header else {}
        body = json.dumps({"detail": _(detail), "code": code, "errors": errors}).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Language", language),
        ("X-Request-ID", request_id_from(environ.get("HTTP_X_REQUEST_ID", ""))),
        ("Cache-Control", "no-store"),
        ("Pragma", "no-cache"),
        *_security_headers(),
    ]
    if body_left:  # an iterator: a list of one block would be given its length by the server
        start_response(status, headers)
        return iter([body])
    start_response(status, [*headers, ("Content-Length", str(len(body)))])
    return [body]


def _security_headers() -> list[tuple[str, str]]:
    """What Django's security and clickjacking middleware add to every answer."""
    headers = []
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        policy = settings.SECURE_REFERRER_POLICY
        if not isinstance(policy, str):
            policy = ",".join(policy)
        headers.append(("Referrer-Policy", policy))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
    headers.append(("X-Frame-Options", settings.X_FRAME_OPTIONS))
    return headers


def _framing_refusal(environ) -> tuple[str, str, str, str] | None:
    """``(status, detail, code, header)`` of a body whose framing the server left to the app
    and the app cannot trust (see the module); None when it is sound."""
    length = environ.get("CONTENT_LENGTH", "").strip()
    if length and not _LENGTH.fullmatch(length):
        return (
            "400 Bad Request",
            gettext_noop("The Content-Length header is not a number."),
            "malformed_request",
            "Content-Length",
        )
    transfer = environ.get("HTTP_TRANSFER_ENCODING", "").strip().lower()
    if not transfer or environ.get("wsgi.input_terminated"):
        return None
    if transfer == "chunked" and not length:
        return (
            "411 Length Required",
            gettext_noop("Send the body with a Content-Length."),
            "length_required",
            "",
        )
    return (
        "400 Bad Request",
        gettext_noop("Send the body with a Content-Length and no Transfer-Encoding."),
        "malformed_request",
        "Transfer-Encoding",
    )


class WholeBodyHandler(WSGIHandler):
    """Django's WSGI handler that first reads a chunked body to its end and decompresses a
    compressed one (see the module)."""

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/") and (absolute := _ABSOLUTE_FORM.match(path)):
            environ["PATH_INFO"] = path[absolute.end() :] or "/"
        refused = _framing_refusal(environ)
        if refused:
            status, detail, code, header = refused
            return _refuse(
                environ, start_response, status, detail, code, header=header, body_left=True
            )
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH"):
            # the server ends the stream (``wsgi.input_terminated``): read it to its end
            limit = settings.API_MAX_BODY_BYTES
            stream, body, size = environ["wsgi.input"], [], 0
            while size <= limit:
                chunk = stream.read(min(_CHUNK, limit + 1 - size))
                if not chunk:
                    break
                body.append(chunk)
                size += len(chunk)
            if size > limit:
                return _refuse(
                    environ,
                    start_response,
                    "413 Request Entity Too Large",
                    gettext_noop("The request body is too large."),
                    "payload_too_large",
                )
            data = b"".join(body)
            environ["wsgi.input"] = io.BytesIO(data)
            environ["CONTENT_LENGTH"] = str(len(data))
        encoding = environ.get("HTTP_CONTENT_ENCODING", "").strip().lower()
        if encoding and encoding != "identity":
            refused = self._decode(environ, encoding)
            if refused:
                return _refuse(environ, start_response, *refused, header="Content-Encoding")
        return super().__call__(environ, start_response)

    @staticmethod
    def _decode(environ, encoding: str) -> tuple[str, str, str] | None:
        """Replace a compressed body with its plain bytes; the refusal when it cannot be."""
        length = int(environ.get("CONTENT_LENGTH") or 0)  # digits (``_framing_refusal``)
        if length <= 0:
            environ.pop("HTTP_CONTENT_ENCODING", None)  # no body: nothing is encoded
            return None
        if encoding not in _DECODERS:
            return (
                "415 Unsupported Media Type",
                gettext_noop("Send the body uncompressed, or compressed with gzip or deflate."),
                "unsupported_content_encoding",
            )
        limit = settings.API_MAX_BODY_BYTES
        too_large = (
            "413 Request Entity Too Large",
            gettext_noop("The request body is too large."),
            "payload_too_large",
        )
        if length > limit:
            return too_large
        raw = environ["wsgi.input"].read(length)
        decoder = zlib.decompressobj(_DECODERS[encoding])
        try:
            data = decoder.decompress(raw, limit + 1)
            if len(data) <= limit and not decoder.unconsumed_tail:
                data += decoder.flush()
        except zlib.error:
            data = None
        if data is not None and (len(data) > limit or decoder.unconsumed_tail):
            return too_large
        if data is None or not decoder.eof or decoder.unused_data:
            return (
                "400 Bad Request",
                gettext_noop("The body is not what its Content-Encoding says."),
                "invalid_content_encoding",
            )
        environ["wsgi.input"] = io.BytesIO(data)
        environ["CONTENT_LENGTH"] = str(len(data))
        environ.pop("HTTP_CONTENT_ENCODING")
        return None


def get_wsgi_application() -> WholeBodyHandler:
    """``django.core.wsgi.get_wsgi_application`` with ``WholeBodyHandler``."""
    django.setup(set_prefix=False)
    return WholeBodyHandler()
