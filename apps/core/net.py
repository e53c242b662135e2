"""The client's address, trusting ``X-Forwarded-For`` only as far as our own proxies go."""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or with TRUSTED_PROXY_COUNT=N the N-th address from the right of
    X-Forwarded-For (what the outermost of our proxies saw). A client cannot spoof it."""
    remote = request.META.get("REMOTE_ADDR")
    trusted = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    candidate = remote
    if trusted and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            candidate = hops[-min(trusted, len(hops))]
    try:
        return str(ipaddress.ip_address(candidate)) if candidate else None
    except ValueError:
        return remote


def user_agent(request) -> str:
    return (request.META.get("HTTP_USER_AGENT") or "")[:500]
