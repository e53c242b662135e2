"""Asking for a password reset: the request only queues the work, whatever the address."""

from __future__ import annotations

from functools import partial

from apps.accounts.tasks import password_reset_send
from apps.core.transactions import after_commit


def password_reset_request(*, email: str, ip: str | None, user_agent: str = "") -> None:
    """Queue ``accounts.password_reset_send`` after the transaction commits. The request does
    the same work for a known, an unknown and an over-limit address, so neither its answer
    (always 202) nor its timing says which it was; the lookup, the per-address limit and the
    e-mail happen in the task."""
    email = (email or "").strip().lower()[:254]
    after_commit(
        partial(password_reset_send.delay, email, ip, (user_agent or "")[:500]),
        name="queue accounts.password_reset_send",
    )
