"""Rate limits as fixed-window counters in the cache (Redis in production).

``cache.add`` + ``cache.incr`` are atomic in Redis, so parallel requests cannot slip past the
limit the way DRF's read-modify-write history throttles can. Rates come from
``RATE_LIMIT_USER``, ``RATE_LIMIT_IP`` and ``RATE_LIMIT_API_KEY`` (``off`` disables one).
A refused request answers 429 with ``Retry-After`` (seconds to the end of the window).

One round trip per request: the first of a view's limits to be checked counts all of them (its
address, its user, its API key, the auth endpoints' address limit) in one Redis pipeline and
keeps the counts on the request; the others read theirs from there. DRF checks every limit of a
view anyway (so that ``Retry-After`` is the longest wait), so nothing is counted that would not
have been.

Redis down: the limits still hold, counted in each process instead of across them (so a
deployment of N processes lets through at most N times the limit until Redis is back); the
requests themselves go on (a rate limit is no reason to refuse service).
"""

from __future__ import annotations

import threading
import time

from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from apps.core.counters import CounterStoreDown, counter_incr_many
from apps.core.net import client_ip

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# the per-process counters used while Redis is unreachable: {key: (expires at, count)},
# pruned of expired windows as they grow, and bounded in size
_local_counts: dict[str, tuple[float, int]] = {}
_LOCAL_MAX_KEYS = 100_000
_local_lock = threading.Lock()

# the counts of a request's limits, kept on the DRF request: {(scope, ident): (count, window end)}
_REQUEST_COUNTS = "_fixed_window_counts"


def _local_incr(key: str, *, expires_at: float) -> int:
    with _local_lock:
        now = time.time()
        if len(_local_counts) >= 1000 and len(_local_counts) % 1000 == 0:
            for stale in [k for k, (until, _n) in _local_counts.items() if until <= now]:
                del _local_counts[stale]
        if len(_local_counts) >= _LOCAL_MAX_KEYS:
            _local_counts.clear()
        until, count = _local_counts.get(key, (expires_at, 0))
        _local_counts[key] = (until, count + 1)
        return count + 1


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

    def plan(self, request, view) -> tuple[str, str, int, int] | None:
        """(scope, identity, limit, period) of this limit for the request, or None when it does
        not apply."""
        parsed = parse_rate(self.get_rate())
        if parsed is None:
            return None
        ident = self.get_ident_key(request, view)
        if ident is None:
            return None
        return (self.scope, ident, *parsed)

    def allow_request(self, request, view) -> bool:
        plan = self.plan(request, view)
        if plan is None:
            return True
        scope, ident, limit, _period = plan
        counts = _request_counts(request, view)
        if (scope, ident) not in counts:  # a limit that is not one of the view's throttles
            counts = _count([plan])
        count, window_end = counts[(scope, ident)]
        if count > limit:
            self.wait_seconds = window_end - time.time()
            return False
        return True

    def wait(self) -> float | None:
        return self.wait_seconds


def _count(plans: list[tuple[str, str, int, int]]) -> dict[tuple[str, str], tuple[int, float]]:
    """Count one request against each plan, in one round trip: {(scope, ident): (count, end of
    the window)}."""
    now = time.time()
    keys, ends = [], []
    for scope, ident, _limit, period in plans:
        window = int(now // period)
        keys.append((f"throttle:{scope}:{ident}:{window}", period + 1))
        ends.append((window + 1) * period)
    try:
        counts = counter_incr_many(keys)
    except CounterStoreDown:
        counts = [
            _local_incr(key, expires_at=end)
            for (key, _timeout), end in zip(keys, ends, strict=True)
        ]
    return {
        (plan[0], plan[1]): (count, end)
        for plan, count, end in zip(plans, counts, ends, strict=True)
    }


def _request_counts(request, view) -> dict[tuple[str, str], tuple[int, float]]:
    """The counts of all the view's fixed-window limits for this request, counted together the
    first time one of them asks."""
    if request is None or view is None:
        return {}
    counts = getattr(request, _REQUEST_COUNTS, None)
    if counts is None:
        plans = [
            plan
            for throttle in view.get_throttles()
            if isinstance(throttle, FixedWindowThrottle)
            and (plan := throttle.plan(request, view)) is not None
        ]
        counts = _count(plans) if plans else {}
        setattr(request, _REQUEST_COUNTS, counts)
    return counts


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
