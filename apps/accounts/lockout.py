"""Login lockout, counted in Redis, and in the database while Redis is unreachable.

An account (by e-mail, whether it exists or not, so lockout reveals nothing) locks for
LOCKOUT_MINUTES after LOCKOUT_ACCOUNT_FAILURES failed logins within that time; an IP address
only after LOCKOUT_IP_FAILURES failures, so one user's typos never lock out the colleagues who
share the office's address. Staff unlock an account in the admin.

Redis down: lockout does not silently vanish. Every failed login is also an ``AuthEvent`` row
(``login_failed``), so the same rule is applied to those rows: an account is locked while the
last LOCKOUT_MINUTES hold LOCKOUT_ACCOUNT_FAILURES failures since its last successful login,
unlock or password reset (a sliding window; an address likewise with LOCKOUT_IP_FAILURES).
An account's rows are read when Redis answers too, so a lock earned during an outage lasts
after it.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import Max, Q
from django.utils import timezone

from apps.accounts.models import AuthEvent, User
from apps.core.counters import (
    CounterStoreDown,
    counter_delete,
    counter_get,
    counter_get_many,
    counter_incr,
    counter_set,
)
from apps.core.text import email_typed

# failed logins that count: the API's wrong passwords, the admin's failed session logins, the
# admin's wrong two-factor codes and the wrong SMS codes of a sign-in (an API login refused
# because of a lock does not extend it)
TWO_FACTOR_FAILURE = "bad two-factor code"
SMS_CODE_FAILURE = "bad SMS code"
_COUNTED_DETAILS = ("bad credentials", "session", TWO_FACTOR_FAILURE, SMS_CODE_FAILURE)
_RESETS = (AuthEvent.Kind.LOGIN, AuthEvent.Kind.UNLOCK, AuthEvent.Kind.PASSWORD_RESET_DONE)


def login_email(typed: str, user=None) -> str:
    """The e-mail a sign-in counts under: the stored address of the account the database
    matched (``user``; case-insensitively, by PostgreSQL's rules), else what was typed. Keyed
    by the typed text, ``fınance@`` (a dotless ı) or ``purchaſing@`` (a long s), which
    PostgreSQL matches to ``finance@`` and ``purchasing@``, counted apart from the account
    and got past its lock."""
    if user is not None and user.email:
        return user.email.strip().lower()
    return (typed or "").strip().lower()


def login_email_lookup(typed: str) -> str:
    """``login_email`` for a sign-in that has not loaded the account (the admin's)."""
    stored = (
        User.objects.filter(email__iexact=email_typed(typed))
        .order_by("is_deleted", "-pk")
        .values_list("email", flat=True)
    )
    return login_email(typed, User(email=stored[0]) if stored else None)


def _digest(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]


def _keys(kind: str, ident: str) -> tuple[str, str]:
    digest = _digest(ident)
    return f"lockout:{kind}:fail:{digest}", f"lockout:{kind}:until:{digest}"


def _window() -> int:
    return settings.LOCKOUT_MINUTES * 60


def _limit(kind: str) -> int:
    if kind == "account":
        return settings.LOCKOUT_ACCOUNT_FAILURES
    return settings.LOCKOUT_IP_FAILURES


# --- from the database (Redis down) ------------------------------------------------------------


def _recorded_failures(kind: str, ident: str) -> list:
    """The times of the counted failed logins of ``ident`` in the window, newest first."""
    since = timezone.now() - timedelta(seconds=_window())
    failures = AuthEvent.objects.filter(
        kind=AuthEvent.Kind.LOGIN_FAILED, detail__in=_COUNTED_DETAILS, at__gte=since
    )
    if kind == "account":
        email = ident.strip().lower()
        failures = failures.filter(email=email)
        reset = AuthEvent.objects.filter(kind__in=_RESETS, email=email, at__gte=since).aggregate(
            at=Max("at")
        )["at"]
        if reset is not None:
            failures = failures.filter(at__gt=reset)
    else:
        failures = failures.filter(ip_address=ident)
    return list(failures.order_by("-at").values_list("at", flat=True)[: _limit(kind)])


def _locked_from_records(kind: str, ident: str) -> int | None:
    failures = _recorded_failures(kind, ident)
    if len(failures) < _limit(kind):
        return None
    left = (failures[-1] + timedelta(seconds=_window()) - timezone.now()).total_seconds()
    return int(left) + 1 if left > 0 else None


# --- the rule ----------------------------------------------------------------------------------


def _locked(kind: str, ident: str) -> int | None:
    """Seconds ``ident`` stays locked, or None. An account or an address is also locked by
    its records when Redis says it is not: the failures counted while Redis was down (or
    written off with a flushed Redis) are only there, and forgetting them once Redis answers
    again gave an attacker 5 fresh tries; and the records hold every failure of the last
    LOCKOUT_MINUTES, where Redis's count starts afresh each window."""
    try:
        until = counter_get(_keys(kind, ident)[1])
    except CounterStoreDown:
        return _locked_from_records(kind, ident)
    now = time.time()
    if until and until > now:
        return int(until - now) + 1
    # the records are the rule's sliding window: Redis counts in windows that start at a
    # first failure, so 49 failures at the end of one and 49 at the start of the next (98 in
    # two minutes) locked nothing
    return _locked_from_records(kind, ident)


def locked_for(*, email: str, ip: str | None) -> tuple[str, int] | None:
    """("account"|"ip", seconds left) when a login must be refused now, else None."""
    for kind, ident in (("account", email), ("ip", ip)):
        if not ident:
            continue
        seconds = _locked(kind, ident)
        if seconds:
            return kind, seconds
    return None


def _count_failure(kind: str, ident: str) -> bool:
    """Count one failed login (called before its AuthEvent is written); True when it locks."""
    fail_key, until_key = _keys(kind, ident)
    try:
        count = counter_incr(fail_key, timeout=_window())
        if count >= _limit(kind):
            counter_set(until_key, time.time() + _window(), timeout=_window())
            counter_delete(fail_key)
            return True
        return False
    except CounterStoreDown:
        return len(_recorded_failures(kind, ident)) + 1 == _limit(kind)


def register_failure(*, email: str, ip: str | None) -> list[str]:
    """Count a failed login; returns what became locked by it ("account", "ip")."""
    locked = []
    if email and _count_failure("account", email):
        locked.append("account")
    if ip and _count_failure("ip", ip):
        locked.append("ip")
    return locked


def register_success(*, email: str) -> None:
    """A good login forgets the account's earlier failures (not the address's). Without
    Redis, the login's own AuthEvent does that."""
    with contextlib.suppress(CounterStoreDown):
        counter_delete(_keys("account", email)[0])


def is_account_locked(email: str) -> bool:
    return _locked("account", email) is not None


def accounts_locked(emails: list[str]) -> set[str]:
    """Which of ``emails`` are locked now (``is_account_locked`` of a page of accounts): one
    round trip to Redis and one query, whatever their number."""
    wanted = sorted({email.strip().lower() for email in emails if email})
    if not wanted:
        return set()
    locked = set()
    with contextlib.suppress(CounterStoreDown):  # the records say it without Redis
        now = time.time()
        untils = counter_get_many([_keys("account", email)[1] for email in wanted])
        locked = {
            email for email, until in zip(wanted, untils, strict=True) if until and until > now
        }
    since = timezone.now() - timedelta(seconds=_window())
    events = (
        AuthEvent.objects.filter(email__in=wanted, at__gte=since)
        .filter(
            Q(kind=AuthEvent.Kind.LOGIN_FAILED, detail__in=_COUNTED_DETAILS) | Q(kind__in=_RESETS)
        )
        .order_by("email", "-at", "-id")
        .values_list("email", "kind")
    )
    counts: dict[str, int] = {}
    reset: set[str] = set()
    for email, kind in events:  # newest first: the failures since the last reset
        if email in reset:
            continue
        if kind in _RESETS:
            reset.add(email)
        else:
            counts[email] = counts.get(email, 0) + 1
    return locked | {email for email, n in counts.items() if n >= _limit("account")}


def unlock_account(email: str) -> None:
    """Without Redis, the caller's ``unlock`` (or password reset) AuthEvent unlocks."""
    with contextlib.suppress(CounterStoreDown):
        counter_delete(*_keys("account", email))


def unlock_ip(ip: str) -> None:
    with contextlib.suppress(CounterStoreDown):
        counter_delete(*_keys("ip", ip))
