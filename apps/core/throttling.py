"""Rate limits as fixed-window counters in the cache (Redis in production).

``cache.add`` + ``cache.incr`` are atomic in Redis, so parallel requests cannot slip past the
limit the way DRF's read-modify-write history throttles can. Rates come from
``RATE_LIMIT_USER``, ``RATE_LIMIT_IP`` and ``RATE_LIMIT_API_KEY`` (``off`` disables one).
A refused request answers 429 with ``Retry-After`` (seconds to the end of the window).
"""

from __future__ import annotations

import time

from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from apps.core.net import client_ip

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    if not rate:
        return None
    num, _, period = rate.partition("/")
    return int(num), _PERIODS[period[0]]


class FixedWindowThrottle(BaseThrottle):
    scope: str = ""

    def __init__(self):
        self.wait_seconds: float | None = None

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident_key(self, request, view) -> str | None:
        """The identity this throttle counts, or None when it does not apply."""
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        parsed = parse_rate(self.get_rate())
        if parsed is None:
            return True
        ident = self.get_ident_key(request, view)
        if ident is None:
            return True
        limit, period = parsed
        now = time.time()
        window = int(now // period)
        key = f"throttle:{self.scope}:{ident}:{window}"
        # ``add`` sets the counter only when absent (with the window as its lifetime)
        cache.add(key, 0, timeout=period + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=period + 1)
            count = 1
        if count > limit:
            self.wait_seconds = (window + 1) * period - now
            return False
        return True

    def wait(self) -> float | None:
        return self.wait_seconds


class IPRateThrottle(FixedWindowThrottle):
    """Every request, counted by client address."""

    scope = "ip"

    def get_ident_key(self, request, view):
        return client_ip(request) or "unknown"


class UserRateThrottle(FixedWindowThrottle):
    """Requests of an authenticated person, counted by user id."""

    scope = "user"

    def get_ident_key(self, request, view):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "pk", None):
            return str(user.pk)
        return None


class ApiKeyRateThrottle(FixedWindowThrottle):
    """Requests made with an API key (the integration API), counted by key."""

    scope = "api_key"

    def get_ident_key(self, request, view):
        key = getattr(request, "auth", None)
        key_id = getattr(key, "api_key_id", None)
        return str(key_id) if key_id is not None else None
