"""Asking for a password reset: the request only queues the work, whatever the address."""

from __future__ import annotations

from apps.accounts.tasks import password_reset_send
from apps.core.task_queue import task_enqueue


def password_reset_request(*, email: str, ip: str | None, user_agent: str = "") -> None:
    """Queue ``accounts.password_reset_send`` durably (sent after the commit, or later by
    the sweep when the broker is down). The request does the same work for a known, an
    unknown and an over-limit address, so neither its answer (always 202) nor its timing
    says which it was; the lookup, the per-address limit and the e-mail happen in the task."""
    email = (email or "").strip().lower()[:254]
    task_enqueue(password_reset_send, email, ip, (user_agent or "")[:500])
