"""Request id, API time zone, body-size guard and no caching of API answers; the browser-only
middleware kept off the token APIs; bounded database work per request."""

from __future__ import annotations

import codecs
import time
from datetime import UTC
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.exceptions import BadRequest
from django.core.signals import request_finished
from django.db import DEFAULT_DB_ALIAS, connections
from django.dispatch import receiver
from django.http import HttpResponseRedirect, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from psycopg.pq import TransactionStatus

from apps.core.exceptions import database_unavailable_response, is_service_unavailable
from apps.core.logging import request_id_from, request_id_var
from apps.core.text import is_digits
from apps.core.views import bad_request

_NOT_UTF8 = gettext_lazy("The text sent is not valid UTF-8.")

REQUEST_ID_HEADER = "X-Request-ID"


class RequestIDMiddleware:
    """Take ``X-Request-ID`` from the request (when well-formed) or make one; echo it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER, ""))
        request.request_id = request_id
        # kept until ``request_finished`` so Django's own request log lines carry it too
        request_id_var.set(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


class HeadMiddleware:
    """A HEAD is answered as its GET without the body (RFC 9110): the headers, the GET's
    ``Content-Length`` included, stay. Django leaves the body in (its test client and
    ``runserver`` drop it), and gunicorn logged a WARNING for every HEAD, a health probe's
    too, while dropping it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method == "HEAD":
            if response.streaming:
                # a file it was about to read stays among the response's closers: the server
                # closes it with the response (closing it here would end the request early)
                response.streaming_content = []
            else:
                response.content = b""
        return response


@receiver(request_finished)
def _clear_request_id(sender, **kwargs):
    request_id_var.set("-")


def no_store(response):
    """``Cache-Control: no-store`` (and ``Pragma: no-cache`` for HTTP/1.0 caches) unless the
    view chose its caching itself. API answers belong to one caller (tokens, a company's
    orders, balances, prices): no proxy, CDN or browser history may keep them. The catalog
    sets ``private, no-cache`` with an ``ETag`` (revalidated, never shared) and keeps it."""
    if not response.has_header("Cache-Control"):
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
    return response


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _null_character_fields(request, *, forms: bool = False) -> list[str]:
    """Where a NUL is: ``path`` and the names of the query parameters (or, with ``forms``, the
    posted form's fields) holding one. PostgreSQL text cannot hold it, so it is refused before
    any view puts it into a query (a filter, a search, a lookup, a portal form's text). The
    APIs refuse it in a JSON body by field (their serializers)."""
    params = [request.GET]
    if forms and request.method == "POST" and request.content_type in _FORMS:
        params.append(request.POST)
    fields = ["path"] if "\x00" in request.path else []
    for query in params:
        for key, values in query.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                # a name that is itself broken is named without its NUL
                fields.append(key.replace("\x00", "") or "path")
    return fields


def foreign_charset(request) -> bool:
    """A body declared in a charset other than UTF-8 (or its subset ASCII): JSON is UTF-8
    (RFC 8259), and so are the forms both sites send. Django would decode a form in the
    declared charset, and a codec that is not one for text (``undefined``, ``punycode``)
    raised a 500; ``latin-1`` or ``utf-16`` read the bytes as other letters."""
    charset = getattr(request, "content_params", {}).get("charset")
    if not charset or not _has_body(request):
        return False
    try:
        return codecs.lookup(charset).name not in ("utf-8", "ascii")
    except LookupError:
        return True


def _has_body(request) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return length > 0 or "HTTP_TRANSFER_ENCODING" in request.META


def _undecodable_fields(request, *, forms: bool = False) -> list[str]:
    """The query parameters (and, with ``forms``, the posted form's fields) whose bytes are
    not UTF-8 (``%FF``, a lone surrogate's ``%ED%A0%80``): Django reads them with ``�`` in
    their place, and a form saved "Depo��" for an address. Refused instead, as the APIs refuse
    such a JSON body. A multipart form is judged by what its parser read (a ``�`` it put in)."""
    fields = _undecodable_pairs(_query_text(request))
    if forms and request.method == "POST":
        if request.content_type == "application/x-www-form-urlencoded":
            try:  # raw bytes first (a browser sends ASCII), then what %XX stands for
                fields += _undecodable_pairs(request.body.decode("utf-8"))
            except UnicodeDecodeError:
                fields.append("body")
        elif request.content_type == "multipart/form-data":
            fields += [
                key
                for key, values in request.POST.lists()
                if "\ufffd" in key or any("\ufffd" in value for value in values)
            ]
    return fields


def _query_text(request) -> str:
    """The query string as sent: the server hands on its bytes one character each (PEP 3333),
    and a raw byte that is not UTF-8 (``?search=\xff``, not escaped) stays a lone surrogate
    for ``_undecodable_pairs`` (Django read it as Latin-1: a search for "ÿ")."""
    query = request.META.get("QUERY_STRING", "")
    try:
        raw = query.encode("iso-8859-1")
    except UnicodeEncodeError:  # text already (a test client's)
        return query
    return raw.decode("utf-8", "surrogateescape")


def _unquoted(part: str) -> bytes:
    return unquote_to_bytes(part.replace("+", " ").encode("utf-8", "surrogateescape"))


def _undecodable_pairs(encoded: str) -> list[str]:
    names = []
    for pair in encoded.split("&"):
        name, _eq, value = pair.partition("=")
        try:
            for part in (name, value):
                _unquoted(part).decode("utf-8")
        except UnicodeDecodeError:
            readable = _unquoted(name).decode("utf-8", "replace")
            names.append(readable.replace("\ufffd", "") or "path")
    return names


def _bad_date_drilldown(request) -> bool:
    """An admin list's date drill-down (``created_at__year=``, ``__month``, ``__day``) that is
    not a small whole number: Django turns it into a date and overflowed with a 500 on
    ``year=99999999999999999999``."""
    return any(
        key.endswith(("__year", "__month", "__day")) and not (is_digits(value) and len(value) <= 4)
        for key, value in request.GET.items()
    )


class ApiMiddleware:
    """Everywhere: refuse a NUL in the path, the query string or, outside the APIs, a posted
    form (400). For ``/api/``: refuse a query parameter sent more than once (400 naming it: no
    parameter of either API takes several values, and which one would count is anybody's
    guess: ``status=confirmed&status=shipped`` must not quietly mean ``shipped``), answer in
    UTC, refuse oversized bodies with 413 before reading them, and keep answers out of caches
    (``no_store``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            # the admin's filters, search and autocomplete, the portal's forms
            # the site's 400 page (the portal's own, in its language), saying what is wrong
            if foreign_charset(request):
                return bad_request(request, _NOT_UTF8)
            if getattr(request, "content_params", {}).get("charset"):
                # another name of UTF-8 (``UTF8``, ``us-ascii``): Django reads a form only
                # when it is spelt ``utf-8``, and refused the rest as "not UTF-8"
                request.encoding = "utf-8"
            try:
                if _null_character_fields(request, forms=True):
                    return bad_request(request, gettext_lazy("Null characters are not allowed."))
                if _undecodable_fields(request, forms=True):
                    return bad_request(request, _NOT_UTF8)
            except BadRequest:
                # a form declared in another charset (Django reads forms as UTF-8 only):
                # answered here, as Django's own 400 page would read the form again and fail
                return bad_request(request, _NOT_UTF8)
            if request.path.startswith("/admin/") and _bad_date_drilldown(request):
                # Django's own answer to a filter it cannot use: the list, unfiltered, "?e=1"
                return HttpResponseRedirect(f"{request.path}?e=1")
            return self.get_response(request)
        return no_store(self._answer(request))

    def _answer(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if foreign_charset(request):
            message = _("Send the body in UTF-8.")
            return JsonResponse(
                {
                    "detail": message,
                    "code": "invalid_encoding",
                    "errors": {"Content-Type": [message]},
                },
                status=400,
            )
        for fields, message, code in (
            (_null_character_fields, _("Null characters are not allowed."), "null_characters"),
            (_undecodable_fields, _("The text sent is not valid UTF-8."), "invalid_encoding"),
        ):
            names = fields(request)
            if names:
                return JsonResponse(
                    {"detail": message, "code": code, "errors": {n: [message] for n in names}},
                    status=400,
                )
        repeated = [name for name, values in request.GET.lists() if len(values) > 1]
        if repeated:
            return JsonResponse(
                {
                    "detail": _("Send each query parameter once."),
                    "code": "repeated_parameter",
                    "errors": {name: [_("Send this parameter once.")] for name in repeated},
                },
                status=400,
            )
        if length > settings.API_MAX_BODY_BYTES:
            return JsonResponse(
                {
                    "detail": _("The request body is too large."),
                    "code": "payload_too_large",
                    "errors": {},
                },
                status=413,
            )
        with timezone.override(UTC):
            return self.get_response(request)


# what an HTML error page of Django's becomes on the APIs: (detail, code)
_JSON_ERRORS = {
    400: (gettext_lazy("Bad request."), "bad_request"),
    404: (gettext_lazy("Not found."), "not_found"),
    405: (gettext_lazy("Method not allowed."), "method_not_allowed"),
}
# the page's headers that describe its HTML body, not the answer
_BODY_HEADERS = {"content-type", "content-length", "content-encoding"}


class ApiErrorsInJsonMiddleware:
    """On ``/api/``, an error page Django drew in HTML rather than a view (its resolver's 404
    and 405; with DEBUG on, the debug page of a 400: a Host header not allowed, a form of too
    many fields) is answered in the JSON error format, with the page's other headers. A view's
    own page (the bank's return lands in a browser: a page says what happened) is left as the
    view rendered it. Outside the middleware that can answer such a page (the common
    middleware checks the Host), so that it sees them all."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith("/api/") or response.status_code not in _JSON_ERRORS:
            return response
        deliberate = getattr(response, "accepted_renderer", None) is not None
        if deliberate or "text/html" not in response.get("Content-Type", ""):
            return response
        detail, code = _JSON_ERRORS[response.status_code]
        answer = JsonResponse({"detail": str(detail), "code": code, "errors": {}})
        answer.status_code = response.status_code
        for name, value in response.items():
            if name.lower() not in _BODY_HEADERS:
                answer[name] = value
        return no_store(answer)


# --- browser-only middleware ------------------------------------------------------------------

# The token-authenticated APIs: a JWT or an API key in a header, never a cookie.
TOKEN_API_PREFIXES = ("/api/v1/", "/api/integration/v1/")


def is_token_api(request) -> bool:
    return request.path_info.startswith(TOKEN_API_PREFIXES)


class _BrowserOnly:
    """Runs the Django middleware it is mixed into except on the token APIs, whose callers send
    a JWT or an API key in a header: no session to load, no session user, no flash messages.
    The admin, the API docs (staff signed in), the start page and everything else keep them.
    (CSRF: Django's middleware stays as it is, for ``check --deploy``; DRF exempts its views,
    so on the token APIs it only looks at a cookie.)"""

    def __call__(self, request):
        if is_token_api(request):
            return self.get_response(request)
        return super().__call__(request)


class BrowserSessionMiddleware(_BrowserOnly, SessionMiddleware):
    pass


class BrowserAuthenticationMiddleware(_BrowserOnly, AuthenticationMiddleware):
    pass


class BrowserMessageMiddleware(_BrowserOnly, MessageMiddleware):
    pass


# --- bounded database work --------------------------------------------------------------------

# what a view's ``statement_timeout`` attribute names -> the setting with its seconds
STATEMENT_TIMEOUT_SETTINGS = {
    "web": "DB_STATEMENT_TIMEOUT",
    "dealer_read": "DB_STATEMENT_TIMEOUT_DEALER_READ",
    "integration": "DB_STATEMENT_TIMEOUT_INTEGRATION",
}
INTEGRATION_PREFIX = "/api/integration/"
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def statement_timeout_ms(kind: str) -> int:
    """The statement timeout of a kind of request, in milliseconds (0: none)."""
    return max(0, round(getattr(settings, STATEMENT_TIMEOUT_SETTINGS[kind]) * 1000))


class _StatementTimeout:
    """An execute wrapper that gives the connection the request's ``statement_timeout``
    before the request's first query, with a ``SET`` only when the connection's value differs
    (persistent connections keep it from one request to the next: most requests send none).

    The value set is remembered on the connection together with the driver connection it was
    set on (a reconnect starts a new session at the server's default). A ``SET`` sent inside a
    transaction is undone if the transaction rolls back, so then the value is forgotten at the
    end of the request and the next request sets it again."""

    __slots__ = ("milliseconds", "unsure")

    def __init__(self, milliseconds: int):
        self.milliseconds = milliseconds
        self.unsure = False

    def __call__(self, execute, sql, params, many, context):
        db = context["connection"]
        raw = db.connection
        if getattr(db, "statement_timeout_set", None) != (raw, self.milliseconds) and (
            raw.info.transaction_status != TransactionStatus.INERROR  # the query fails anyway
        ):
            in_transaction = not raw.autocommit
            with db.wrap_database_errors:
                raw.execute(f"SET statement_timeout = {int(self.milliseconds)}")
            db.statement_timeout_set = (raw, self.milliseconds)
            self.unsure = self.unsure or in_transaction
        result = execute(sql, params, many, context)
        db.answered_at = time.monotonic()
        return result


class DatabaseMiddleware:
    """Bounded database work for every web request, and a 503 when the database refuses.

    - ``statement_timeout``: ``DB_STATEMENT_TIMEOUT`` for every request,
      ``DB_STATEMENT_TIMEOUT_INTEGRATION`` under ``/api/integration/`` (large ERP batches), and
      ``DB_STATEMENT_TIMEOUT_DEALER_READ`` for the safe methods of views whose class says
      ``statement_timeout = "dealer_read"`` (the catalog). A query that outlives it is
      cancelled by PostgreSQL itself, so an abandoned request leaves nothing running. Celery
      tasks and management commands never pass here and keep the server's default.
    - ``CONN_HEALTH_CHECKS`` probes a persistent connection (``SELECT 1``, a round trip)
      before each request reuses it; here only when it has been idle for more than
      ``DB_HEALTH_CHECK_AFTER_IDLE`` seconds (one that answered a query a moment ago is alive;
      should it have died since, the request answers 503 and Django drops the connection).
    - A view that hits a refusing database (connection refused or lost, too many connections,
      statement timeout) answers 503 with ``Retry-After`` (``DB_UNAVAILABLE_RETRY_AFTER``) in
      the error format, instead of a 500; ``handler500`` does the same for a middleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        db = connections[DEFAULT_DB_ALIAS]
        if db.vendor != "postgresql":
            return self.get_response(request)
        if (
            db.connection is not None
            and time.monotonic() - getattr(db, "answered_at", -1e9)
            < settings.DB_HEALTH_CHECK_AFTER_IDLE
        ):
            # the connection answered a moment ago: no health-check round trip before reuse
            db.health_check_done = True
        kind = "integration" if request.path_info.startswith(INTEGRATION_PREFIX) else "web"
        timeout = _StatementTimeout(statement_timeout_ms(kind))
        request.statement_timeout = timeout
        try:
            with db.execute_wrapper(timeout):
                return self.get_response(request)
        finally:
            if timeout.unsure:
                db.statement_timeout_set = None

    def process_view(self, request, view_func, view_args, view_kwargs):
        timeout = getattr(request, "statement_timeout", None)
        kind = getattr(getattr(view_func, "view_class", None), "statement_timeout", None)
        if timeout is not None and kind and request.method in _SAFE_METHODS:
            timeout.milliseconds = statement_timeout_ms(kind)

    def process_exception(self, request, exception):
        if is_service_unavailable(exception):
            return database_unavailable_response(request, exception)
        return None
