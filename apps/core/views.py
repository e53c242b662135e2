"""The start page and favicon, operational endpoints (health, metrics), the guard of the API
docs, JSON error pages."""

from __future__ import annotations

import errno
import functools
import hmac
import ipaddress
import logging

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import BadRequest
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.urls import get_resolver, get_urlconf
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from django.views.static import serve as static_serve
from django_prometheus.exports import ExportToDjangoView

from apps.core.health import run_checks
from apps.core.net import client_ip

logger = logging.getLogger(__name__)


@require_safe
def landing(request):
    """The start page at ``/`` (also the admin's "view site"): where the back office, the API
    documentation and the APIs are. The documentation links only when the docs are open to
    this visitor (``API_DOCS_PUBLIC``)."""
    context = {
        "docs_visible": _docs_open_to(request),
        "dealer_api": request.build_absolute_uri("/api/v1/"),
        "integration_api": request.build_absolute_uri("/api/integration/v1/"),
    }
    return render(request, "landing.html", context)


@require_safe
def favicon(request):
    """``/favicon.ico``, which browsers ask for whatever the page says."""
    path = finders.find("favicon.ico")
    if path is None:  # pragma: no cover - the file is in static/
        raise Http404
    response = FileResponse(open(path, "rb"), content_type="image/x-icon")  # noqa: SIM115
    response["Cache-Control"] = "public, max-age=86400"
    return response


def media_serve(request, path: str, document_root: str):
    """Django's ``static.serve`` of ``MEDIA_ROOT`` (``MEDIA_SERVE``), where a name the file
    system cannot hold is a file that is not there: a path segment over 255 bytes raised
    ``OSError: File name too long`` (a 500, for anyone who asked)."""
    try:
        return static_serve(request, path, document_root=document_root, show_indexes=False)
    except OSError as exc:
        if exc.errno in (errno.ENAMETOOLONG, errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
            raise Http404 from None
        raise


@csrf_exempt  # no cookie, no input: a POST is a 405, not a CSRF page
@never_cache
@require_safe
def health_live(request):
    """The process is up and answering."""
    return JsonResponse({"status": "ok"})


@csrf_exempt  # no cookie, no input: a POST is a 405, not a CSRF page
@never_cache
@require_safe
def health_ready(request):
    """Database, cache, broker and storage all answer; 503 naming the ones that do not. The
    errors themselves (hosts, ports, drivers) are logged, and shown only to whom may read
    the metrics (``METRICS_TOKEN``, ``METRICS_ALLOWED_IPS``)."""
    healthy, checks = run_checks()
    failed = [name for name, result in checks.items() if result["status"] != "ok"]
    if failed:
        logger.warning(
            "readiness check failed",
            extra={"failed": failed, "errors": {n: checks[n].get("error") for n in failed}},
        )
    if _metrics_refusal(request) is not None:
        checks = {
            name: {k: v for k, v in result.items() if k not in ("error", "detail")}
            for name, result in checks.items()
        }
    response = JsonResponse(
        {"status": "ok" if healthy else "error", "failed": failed, "checks": checks},
        status=200 if healthy else 503,
    )
    if not healthy:  # as every other 503: when to ask again
        response["Retry-After"] = str(settings.DB_UNAVAILABLE_RETRY_AFTER)
    response._has_been_logged = True  # the warning above, not django.request's ERROR line
    return response


@csrf_exempt  # no cookie, no input: a POST is a 405, not a CSRF page
@never_cache
@require_safe
def metrics(request):
    """Prometheus metrics (django-prometheus) for a scraper that sends ``Authorization: Bearer
    <METRICS_TOKEN>`` or comes from an address in ``METRICS_ALLOWED_IPS`` (loopback unless
    configured; everyone with DEBUG on). Anyone else: 401 (a token is configured: send it)
    or 403. The numbers name every view, their latencies and error rates: not for the public."""
    refusal = _metrics_refusal(request)
    if refusal is not None:
        return refusal
    return ExportToDjangoView(request)


def _metrics_refusal(request) -> JsonResponse | None:
    token = settings.METRICS_TOKEN
    scheme, _space, given = request.headers.get("Authorization", "").partition(" ")
    if (
        token
        and scheme.lower() == "bearer"
        and hmac.compare_digest(given.strip().encode(), token.encode())
    ):
        return None
    if _address_allowed(client_ip(request), settings.METRICS_ALLOWED_IPS):
        return None
    if token:
        response = _json_error(
            _("Send the metrics token: Authorization: Bearer <token>."), "not_authenticated", 401
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return _json_error(
        _("You do not have permission to perform this action."), "permission_denied", 403
    )


def _address_allowed(address: str | None, networks) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network, strict=False) for network in networks)


def docs_guard(view):
    """The OpenAPI schema, Swagger UI and Redoc: public unless ``API_DOCS_PUBLIC=0``; then
    only for staff signed in to the admin, and 404 for everyone else (nothing to discover)."""

    @functools.wraps(view)
    def guarded(request, *args, **kwargs):
        if not _docs_open_to(request):
            return _json_error(_("Not found."), "not_found", 404)
        return view(request, *args, **kwargs)

    return guarded


def _docs_open_to(request) -> bool:
    if settings.API_DOCS_PUBLIC:
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_active and user.is_staff)


def _wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def _json_error(detail, code: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": str(detail), "code": code, "errors": {}}, status=status)


class BadRequestSaid(BadRequest):
    """A 400 whose message (a lazy translation) is for the person who sent the request: the
    error pages show it (the portal's in the portal's language)."""


def bad_request(request, message) -> HttpResponse:
    """The 400 of the site's error handler (``handler400``: the portal's page under
    ``/portal/``) saying ``message``; for a middleware, which no handler answers for."""
    handler = get_resolver(get_urlconf()).resolve_error_handler(400)
    return handler(request, BadRequestSaid(message))


def error_400(request, exception=None):
    if _wants_json(request):
        return _json_error(_("Bad request."), "bad_request", 400)
    if isinstance(exception, BadRequestSaid):
        return HttpResponseBadRequest(str(exception.args[0]))
    return defaults.bad_request(request, exception)


def error_403(request, exception=None):
    if _wants_json(request):
        return _json_error(
            _("You do not have permission to perform this action."), "permission_denied", 403
        )
    return defaults.permission_denied(request, exception)


def error_404(request, exception=None):
    if _wants_json(request):
        return _json_error(_("Not found."), "not_found", 404)
    return defaults.page_not_found(request, exception)


def error_500(request):
    if _wants_json(request):
        return _json_error(_("A server error occurred."), "server_error", 500)
    return defaults.server_error(request)
