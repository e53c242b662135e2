"""Operational endpoints (health) and JSON error pages."""

from __future__ import annotations

import logging

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from apps.core.health import run_checks

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def health_live(request):
    """The process is up and answering."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def health_ready(request):
    """Database, cache, broker and storage all answer; 503 naming the ones that do not."""
    healthy, checks = run_checks()
    failed = [name for name, result in checks.items() if result["status"] != "ok"]
    if failed:
        logger.warning("readiness check failed", extra={"failed": failed})
    return JsonResponse(
        {"status": "ok" if healthy else "error", "failed": failed, "checks": checks},
        status=200 if healthy else 503,
    )


def _wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def _json_error(detail, code: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": str(detail), "code": code, "errors": {}}, status=status)


def error_400(request, exception=None):
    if _wants_json(request):
        return _json_error(_("Bad request."), "bad_request", 400)
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
