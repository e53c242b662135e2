"""Demo sign-ins for ``seed_demo``: the last days' authentication events of the demo staff and
of the first demo dealers' users (sign-ins from an office and a phone, a mistyped password, a
sign-out, a password reset), so Accounts › Authentication events reads as a working week. Once:
a rerun that finds them adds none; ``--reset`` keeps them, as every auth event (docs/demo.md).
Addresses are from the documentation ranges (RFC 5737), never a real network."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from apps.accounts.models import AuthEvent, DealerRole, User
from apps.demo.accounts import DEMO_STAFF, DEMO_TWO_FACTOR_STAFF

K = AuthEvent.Kind
OFFICE = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
DEALERS = ("DEMO001", "DEMO002", "DEMO003")


def _trail(user: User, number: int, rng: random.Random) -> list[tuple[str, float, str, str]]:
    """(kind, days ago, address, user agent) for ``user``: a sign-in most working days."""
    office = f"203.0.113.{10 + number}"
    steps = []
    for day in (6, 5, 4, 3, 2, 1):
        if rng.random() < 0.25:
            continue  # a day without signing in
        at = day - rng.uniform(0.30, 0.45)  # in the morning, Istanbul time
        if user.email in DEMO_TWO_FACTOR_STAFF:
            steps.append((K.LOGIN_PASSWORD, at, office, OFFICE))
        steps.append((K.LOGIN, at - 0.0005, office, OFFICE))
        if rng.random() < 0.3:
            steps.append((K.LOGOUT, at - rng.uniform(0.2, 0.3), office, OFFICE))
    if number % 3 == 1:  # from a phone, on the road
        steps.append((K.LOGIN, 0.9, f"198.51.100.{20 + number}", PHONE))
    return steps


def _event(kind, *, at, ip, agent, user=None, email="", detail="") -> AuthEvent:
    return AuthEvent(
        kind=kind,
        user=user,
        email=email or user.email,
        ip_address=ip,
        user_agent=agent,
        detail=detail,
        at=at,
    )


def seed_sign_ins(options) -> list[str]:
    users = list(
        User.objects.filter(email__in=[email for email, *_rest in DEMO_STAFF]).order_by("email")
    ) + list(
        User.objects.filter(
            customer__code__in=DEALERS,
            role__in=(DealerRole.OWNER, DealerRole.PURCHASING, DealerRole.FINANCE),
        ).order_by("customer__code", "email")
    )
    if not users or AuthEvent.objects.filter(user__in=users).exists():
        return []
    rng = random.Random(2026)  # noqa: S311 - demo data
    now = timezone.now()
    events = []
    for number, user in enumerate(users):
        for kind, days, address, agent in _trail(user, number, rng):
            at = now - timedelta(days=days)
            events.append(_event(kind, user=user, ip=address, agent=agent, at=at))
    buyer = next((u for u in users if u.role == DealerRole.PURCHASING), None)
    if buyer is not None:  # a mistyped password, then the right one
        for kind, minutes in ((K.LOGIN_FAILED, 3.0), (K.LOGIN, 2.0)):
            detail = "bad credentials" if kind == K.LOGIN_FAILED else ""
            at = now - timedelta(days=2, minutes=minutes)
            events.append(
                _event(kind, user=buyer, ip="203.0.113.77", agent=OFFICE, at=at, detail=detail)
            )
    finance = next((u for u in users if u.role == DealerRole.FINANCE), None)
    if finance is not None:  # a forgotten password, reset from the e-mailed link
        for kind, minutes in (
            (K.PASSWORD_RESET_REQUESTED, 40),
            (K.PASSWORD_RESET_DONE, 36),
            (K.LOGIN, 35),
        ):
            at = now - timedelta(days=3, minutes=minutes)
            events.append(_event(kind, user=finance, ip="203.0.113.90", agent=OFFICE, at=at))
    # someone tried an address nobody has
    events.append(
        _event(
            K.LOGIN_FAILED,
            email="satinalma@demo002.example.com",
            ip="198.51.100.200",
            agent="python-requests/2.32",
            detail="bad credentials",
            at=now - timedelta(days=1, hours=5),
        )
    )
    AuthEvent.objects.bulk_create(events)
    return [f"sign-ins: {len(events)} authentication events of the last week"]


def reset_sign_ins(options) -> None:
    """Authentication events stay (docs/demo.md): they are the record of who signed in."""


STEPS = [("sign-ins", seed_sign_ins, reset_sign_ins)]
