"""The WSGI application, with request bodies sent without a length made whole.

An HTTP/1.1 client may send its body ``Transfer-Encoding: chunked`` (a connector streaming an
upload). Django reads a body only as far as ``CONTENT_LENGTH`` says, so such a body arrived
empty: an update answered 200 and changed nothing. Where the server ends the stream at the end
of the body (gunicorn sets ``wsgi.input_terminated``), it is read here, up to
``API_MAX_BODY_BYTES`` (413 beyond, as for a body with a length), and handed on with its length;
a server that cannot end it (the development server) answers 411 Length Required instead.
"""

from __future__ import annotations

import io
import json

import django
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from apps.core.i18n import portal_language

_CHUNK = 64 * 1024


def _language(environ) -> str:
    """The language the app would answer this request in (its locale middleware has not run):
    the portal's for the portal, else the language cookie or ``Accept-Language``."""
    request = WSGIRequest(environ)  # headers and cookies only: the body is not read
    if request.path.startswith("/portal/"):
        return portal_language(request)
    return translation.get_language_from_request(request)


def _refuse(environ, start_response, status: str, detail: str, code: str):
    language = _language(environ)
    with translation.override(language):
        body = json.dumps({"detail": _(detail), "code": code, "errors": {}}).encode()
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Content-Language", language),
            ("Connection", "close"),
        ],
    )
    return [body]


class WholeBodyHandler(WSGIHandler):
    """Django's WSGI handler that first reads a chunked body to its end (see the module)."""

    def __call__(self, environ, start_response):
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH"):
            if not environ.get("wsgi.input_terminated"):
                return _refuse(
                    environ,
                    start_response,
                    "411 Length Required",
                    gettext_noop("Send the body with a Content-Length."),
                    "length_required",
                )
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
        return super().__call__(environ, start_response)


def get_wsgi_application() -> WholeBodyHandler:
    """``django.core.wsgi.get_wsgi_application`` with ``WholeBodyHandler``."""
    django.setup(set_prefix=False)
    return WholeBodyHandler()
