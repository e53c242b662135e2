"""Request id, API time zone, body-size guard and no caching of API answers."""

from __future__ import annotations

import re
import uuid
from datetime import UTC

from django.conf import settings
from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.logging import request_id_var

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIDMiddleware:
    """Take ``X-Request-ID`` from the request (when well-formed) or make one; echo it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        # kept until ``request_finished`` so Django's own request log lines carry it too
        request_id_var.set(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
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


class ApiMiddleware:
    """For ``/api/``: answer in UTC, refuse oversized bodies with 413 before reading them, and
    keep answers out of caches (``no_store``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        return no_store(self._answer(request))

    def _answer(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            # PostgreSQL text cannot hold NUL: refuse it here rather than fail in a query
            return JsonResponse(
                {
                    "detail": _("Null characters are not allowed."),
                    "code": "null_characters",
                    "errors": {},
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
            response = self.get_response(request)
        # Django's resolver answers unknown URLs with an HTML page (a debug page with DEBUG on);
        # API clients always get the JSON error format.
        if response.status_code in (404, 405) and "text/html" in response.get("Content-Type", ""):
            if response.status_code == 404:
                detail, code = _("Not found."), "not_found"
            else:
                detail, code = _("Method not allowed."), "method_not_allowed"
            json_response = JsonResponse({"detail": detail, "code": code, "errors": {}})
            json_response.status_code = response.status_code
            if response.has_header("Allow"):
                json_response["Allow"] = response["Allow"]
            return json_response
        return response
