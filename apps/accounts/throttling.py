"""Limits of the anonymous auth endpoints, on core's fixed-window counters."""

from __future__ import annotations

import hashlib

from django.conf import settings

from apps.core.throttling import FixedWindowThrottle, IPRateThrottle


class AuthIPRateThrottle(IPRateThrottle):
    """Calls of the public auth endpoints that take a credential or send an e-mail (login,
    register, verify, password reset; not a refresh or a logout, which carry their token),
    counted by client address: RATE_LIMIT_AUTH_IP, 429 with Retry-After beyond it."""

    scope = "auth_ip"

    def get_rate(self) -> str | None:
        return settings.RATE_LIMIT_AUTH_IP


class AccountEmailThrottle(FixedWindowThrottle):
    """Unsolicited account e-mails per recipient key, at PASSWORD_RESET_PER_ADDRESS: reset
    links per address (scope ``password_reset``), registration e-mails per address
    (``registration``), staff notices per tax number (``registration_tax_number``). Counted
    where the e-mail would be sent; the caller's answer is the same 202 either way. The cache
    key holds a hash of the key, not the address."""

    def __init__(self, key: str, *, scope: str):
        super().__init__()
        self.key = key
        self.scope = scope

    def get_rate(self) -> str | None:
        return settings.PASSWORD_RESET_PER_ADDRESS

    def get_ident_key(self, request, view) -> str:
        return hashlib.sha256(self.key.encode()).hexdigest()[:32]

    def allows_another(self) -> bool:
        return self.allow_request(None, None)
