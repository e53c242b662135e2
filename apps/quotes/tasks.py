"""The quote job celery beat runs: sent quotes past their validity expire."""

from __future__ import annotations

from celery import shared_task

from apps.quotes.services import quotes_expire


@shared_task(name="quotes.expire")
def quotes_expire_task() -> int:
    return quotes_expire()
