"""Login lockout, counted in the cache (Redis in production).

An account (by e-mail, whether it exists or not, so lockout reveals nothing) locks for
LOCKOUT_MINUTES after LOCKOUT_ACCOUNT_FAILURES failed logins within that time; an IP address
only after LOCKOUT_IP_FAILURES failures, so one user's typos never lock out the colleagues who
share the office's address. Staff unlock an account in the admin.
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache


def _digest(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]


def _keys(kind: str, ident: str) -> tuple[str, str]:
    digest = _digest(ident)
    return f"lockout:{kind}:fail:{digest}", f"lockout:{kind}:until:{digest}"


def _window() -> int:
    return settings.LOCKOUT_MINUTES * 60


def locked_for(*, email: str, ip: str | None) -> tuple[str, int] | None:
    """("account"|"ip", seconds left) when a login must be refused now, else None."""
    now = time.time()
    for kind, ident in (("account", email), ("ip", ip)):
        if not ident:
            continue
        until = cache.get(_keys(kind, ident)[1])
        if until and until > now:
            return kind, int(until - now) + 1
    return None


def _count_failure(kind: str, ident: str, limit: int) -> bool:
    fail_key, until_key = _keys(kind, ident)
    cache.add(fail_key, 0, timeout=_window())
    try:
        count = cache.incr(fail_key)
    except ValueError:
        cache.add(fail_key, 1, timeout=_window())
        count = 1
    if count >= limit:
        cache.set(until_key, time.time() + _window(), timeout=_window())
        cache.delete(fail_key)
        return True
    return False


def register_failure(*, email: str, ip: str | None) -> list[str]:
    """Count a failed login; returns what became locked by it ("account", "ip")."""
    locked = []
    if email and _count_failure("account", email, settings.LOCKOUT_ACCOUNT_FAILURES):
        locked.append("account")
    if ip and _count_failure("ip", ip, settings.LOCKOUT_IP_FAILURES):
        locked.append("ip")
    return locked


def register_success(*, email: str) -> None:
    """A good login forgets the account's earlier failures (not the address's)."""
    cache.delete(_keys("account", email)[0])


def is_account_locked(email: str) -> bool:
    until = cache.get(_keys("account", email)[1])
    return bool(until and until > time.time())


def unlock_account(email: str) -> None:
    cache.delete_many(list(_keys("account", email)))


def unlock_ip(ip: str) -> None:
    cache.delete_many(list(_keys("ip", ip)))
