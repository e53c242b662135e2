"""Celery tasks of the accounts domain: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from apps.accounts.services import auth as auth_services
from apps.accounts.services import registration as registration_services


@shared_task(name="accounts.password_reset_send", ignore_result=True)
def password_reset_send(email: str, ip: str | None = None, user_agent: str = "") -> bool:
    """Look the address up and e-mail a reset link if it is an active user's (and under the
    per-address limit). Run off the request, so the answer and its timing are the same for
    every address. Run twice, it may send a second link (counted against the limit)."""
    return auth_services.password_reset_deliver(email=email, ip=ip, user_agent=user_agent)


@shared_task(name="accounts.registrations_expired_remove", ignore_result=True)
def registrations_expired_remove() -> int:
    """Daily: drop self-registrations never verified within REGISTRATION_VERIFY_TIMEOUT."""
    return registration_services.registrations_expired_remove()
