"""Domain exceptions and the one DRF exception handler that renders every API error.

Every error body has the shape of API.md::

    {"detail": "...", "code": "...", "errors": {"field": ["message"]}}

Services raise the domain exceptions below; views never build error bodies.
"""

from __future__ import annotations

import errno
import logging
import sys
from contextlib import nullcontext
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.encoding import force_str
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.i18n import portal_language
from apps.core.throttling import FixedWindowThrottle
from apps.core.views import error_500

logger = logging.getLogger(__name__)

NON_FIELD = "non_field_errors"


class DomainError(Exception):
    """Base of the errors services raise. Carries an HTTP status for the API layer."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _("Invalid request.")
    default_code = "error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        errors: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ):
        self.detail = detail if detail is not None else self.default_detail
        self.code = code or self.default_code
        self.errors = errors or {}
        self.extra = extra or {}
        self.headers = headers or {}
        super().__init__(force_str(self.detail))


class ValidationError(DomainError):
    """Input breaks a business rule: 400 with field errors."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _("Invalid input.")
    default_code = "invalid"

    def __init__(self, errors: dict[str, Any] | str | None = None, **kwargs):
        if isinstance(errors, str | Promise):  # a message, translated now or lazily
            kwargs.setdefault("detail", errors)
            errors = {NON_FIELD: [errors]}
        super().__init__(errors=errors, **kwargs)


class NotAuthenticated(DomainError):
    """Bad or refused credentials: 401."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = _("Incorrect authentication credentials.")
    default_code = "authentication_failed"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.headers.setdefault("WWW-Authenticate", "Bearer")


class NotAllowed(DomainError):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = _("You do not have permission to perform this action.")
    default_code = "permission_denied"


class NotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = _("Not found.")
    default_code = "not_found"


class Conflict(DomainError):
    """The request clashes with the current state (stock, status): 409."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state.")
    default_code = "conflict"


class PayloadTooLarge(drf_exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "payload_too_large"


class NeedsPostgreSQL(drf_exceptions.APIException):
    """A feature built on PostgreSQL's SQL (the ERP's set-based feeds) asked of the zero-setup
    demo's SQLite: 501, saying so, not a 500."""

    status_code = status.HTTP_501_NOT_IMPLEMENTED
    default_detail = _(
        "This needs PostgreSQL: the zero-setup demo runs on SQLite. Run the platform on "
        "PostgreSQL (see the README) to send this feed."
    )
    default_code = "needs_postgresql"


class ServiceUnavailable(drf_exceptions.APIException):
    """The database or the file storage refused or gave up (down, too many connections,
    statement timeout): 503 with ``Retry-After``, never a 500."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The service is busy or briefly unavailable. Try again shortly.")
    default_code = "service_unavailable"

    def __init__(self, detail=None, code=None, wait: int | None = None):
        super().__init__(detail, code)
        self.wait = settings.DB_UNAVAILABLE_RETRY_AFTER if wait is None else wait


def is_database_unavailable(exc: BaseException | None) -> bool:
    """The database did not do what was asked, and asking again later may work: connection
    refused or lost, too many connections, a statement cancelled by ``statement_timeout``,
    a deadlock or a serialization failure (each an ``OperationalError``)."""
    return isinstance(exc, OperationalError | InterfaceError)


# a file the local storage (``MEDIA_ROOT``) could not write or read: no permission, a full disk
# or quota, a read-only file system, an I/O error
_FILE_ERRNOS = frozenset(
    {errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO}
)


# S3's error codes for a store that is not set up as the settings say
_STORE_NOT_SET_UP = frozenset(
    {
        "NoSuchBucket",
        "AccessDenied",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AllAccessDisabled",
    }
)


def is_storage_unavailable(exc: BaseException | None) -> bool:
    """The file storage (S3 or any S3-compatible store) could not be reached, timed out, or
    answered with a server error; or the local one (``FileSystemStorage``) could not write or
    read a file (``_FILE_ERRNOS``, an error that names its file): asking again later may work,
    once someone freed the disk or fixed the permissions."""
    try:
        from botocore.exceptions import ClientError, ConnectionError, HTTPClientError
    except ImportError:  # pragma: no cover - boto3 is a dependency
        return False
    seen = 0
    while exc is not None and seen < 5:  # the storage's error, or what it caused
        if isinstance(exc, ConnectionError | HTTPClientError):
            return True
        if isinstance(exc, OSError) and exc.errno in _FILE_ERRNOS and exc.filename:
            return True
        if isinstance(exc, ClientError):
            status_code = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
            code = exc.response.get("Error", {}).get("Code", "")
            # a bucket that is not there, or credentials the store refuses: the storage is
            # not set up, no fault of the request (it answered 500)
            return status_code >= 500 or code in _STORE_NOT_SET_UP
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def is_service_unavailable(exc: BaseException | None) -> bool:
    """The database or the file storage refused or gave up: a 503 with ``Retry-After``."""
    return is_database_unavailable(exc) or is_storage_unavailable(exc)


def _log_unavailable(exc: BaseException) -> None:
    cause = exc.__cause__ or exc
    logger.warning(
        "%s unavailable: %s: %s",
        "database" if is_database_unavailable(exc) else "storage",
        type(cause).__name__,
        str(cause).strip().splitlines()[0] if str(cause).strip() else "",
        extra={"error": type(cause).__name__},
    )


def database_unavailable_response(request, exc: BaseException) -> HttpResponse:
    """The 503 for a request whose view or middleware hit ``is_service_unavailable``: the
    error shape of API.md for the APIs (and whoever asks for JSON), plain text otherwise."""
    _log_unavailable(exc)
    wait = settings.DB_UNAVAILABLE_RETRY_AFTER
    detail = ServiceUnavailable.default_detail
    accept = request.headers.get("Accept", "") if request is not None else ""
    if request is None or request.path.startswith("/api/") or "application/json" in accept:
        response = JsonResponse(
            error_body(detail, ServiceUnavailable.default_code, retry_after=wait), status=503
        )
    else:
        # a portal page's in the portal's language (its locale middleware may not have run)
        language = portal_language(request) if request.path.startswith("/portal/") else None
        with translation.override(language) if language else nullcontext():
            text = force_str(detail)
        response = HttpResponse(text, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(wait)
    response._has_been_logged = True  # the warning above is the one line: not django.request's
    return response


def server_error(request):
    """``handler500``: a database that refuses answers 503 (``database_unavailable_response``)
    wherever it surfaced, even in a middleware; anything else is the JSON or HTML 500."""
    exc = sys.exc_info()[1]
    if is_service_unavailable(exc):
        return database_unavailable_response(request, exc)
    return error_500(request)


def flatten_errors(data: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error structure into ``{"a.b.0.c": ["message"]}``.

    Errors that belong to no field sit under ``non_field_errors`` (or under the nested
    object's own path, e.g. ``company``).
    """
    out: dict[str, list[str]] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in (NON_FIELD, "__all__"):
                    walk(value, path)
                else:
                    walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list | tuple):
            for index, item in enumerate(node):
                if isinstance(item, dict | list | tuple):
                    walk(item, f"{path}.{index}" if path else str(index))
                else:
                    walk(item, path)
        elif node not in (None, ""):
            out.setdefault(path or NON_FIELD, []).append(force_str(node))

    walk(data, prefix)
    return out


def _first_code(codes: Any, fallback: str) -> str:
    if isinstance(codes, str):
        return codes
    if isinstance(codes, dict):
        for value in codes.values():
            return _first_code(value, fallback)
    if isinstance(codes, list | tuple) and codes:
        return _first_code(codes[0], fallback)
    return fallback


def error_body(
    detail: Any, code: str, errors: dict[str, list[str]] | None = None, **extra
) -> dict[str, Any]:
    body = {"detail": force_str(detail), "code": code, "errors": errors or {}}
    body.update(extra)
    return body


# DRF checks credentials and permissions before the rate limits: a request refused for them
# never reached the limits, so guessing keys or tokens would be unlimited
_REFUSED_BEFORE_THROTTLES = (
    drf_exceptions.NotAuthenticated,
    drf_exceptions.AuthenticationFailed,
    drf_exceptions.PermissionDenied,
)


def _throttled_instead(exc: Exception, context: dict) -> Exception:
    """Count a refused request against the view's limits (its address, and its user or key
    when known), as an accepted one is: beyond a limit it answers 429 instead. A request whose
    limits were counted already (refused later, by the view itself) is not counted again."""
    view, request = context.get("view"), context.get("request")
    if view is None or request is None:
        return exc
    waits = [
        throttle.wait() or 0
        for throttle in view.get_throttles()
        if isinstance(throttle, FixedWindowThrottle) and not throttle.allow_request(request, view)
    ]
    return drf_exceptions.Throttled(wait=max(waits)) if waits else exc


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """Render every exception raised in an API view in the format of API.md."""
    logged = False  # the 503 of an unavailable service: its warning line is the log
    if isinstance(exc, DomainError):
        return Response(
            error_body(exc.detail, exc.code, flatten_errors(exc.errors), **exc.extra),
            status=exc.status_code,
            headers=exc.headers,
        )
    if isinstance(exc, DjangoValidationError):
        exc = drf_exceptions.ValidationError(
            detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    elif is_service_unavailable(exc):
        _log_unavailable(exc)
        exc = ServiceUnavailable()
        logged = True

    if isinstance(exc, _REFUSED_BEFORE_THROTTLES):
        exc = _throttled_instead(exc, context)
    response = drf_exception_handler(exc, context)  # sets Retry-After, WWW-Authenticate
    if response is None:
        return None  # a real bug: Django's 500 handler answers, and it is logged
    if logged:
        response._has_been_logged = True  # not django.request's ERROR line again

    if isinstance(exc, drf_exceptions.ValidationError):
        response.data = error_body(
            _("Invalid input."),
            _first_code(exc.get_codes(), "invalid"),
            flatten_errors(exc.detail),
        )
        return response

    detail = exc.detail if isinstance(exc, drf_exceptions.APIException) else response.data
    codes = exc.get_codes() if isinstance(exc, drf_exceptions.APIException) else "error"
    if isinstance(detail, dict) and "detail" in detail:
        # simplejwt's token errors ({detail, code, messages}): the messages name its token
        # classes, not fields of the request
        code = str(detail.get("code") or _first_code(codes, "error"))
        response.data = error_body(str(detail["detail"]), code)
    elif isinstance(detail, dict | list):
        errors = flatten_errors(detail)
        message = next(iter(errors.values()))[0] if errors else exc.default_detail
        response.data = error_body(message, _first_code(codes, "error"), errors)
    else:
        extra = {}
        if isinstance(exc, drf_exceptions.Throttled | ServiceUnavailable) and exc.wait is not None:
            extra["retry_after"] = int(exc.wait + 0.999)
        # a body that does not parse has no field to name: the message is the body's
        errors = {NON_FIELD: [str(detail)]} if isinstance(exc, drf_exceptions.ParseError) else None
        response.data = error_body(detail, _first_code(codes, "error"), errors, **extra)
    return response
