"""Finance jobs celery beat runs: the morning's payment reminders, the balance confirmations
left unanswered (deemed accepted), the quarter's confirmations, and the card payments the
gateway's silence left pending (with the card orders nobody paid)."""

from __future__ import annotations

from celery import shared_task

from apps.finance.services.card_payments import card_payments_reconcile
from apps.finance.services.confirmations import (
    confirmations_deem_accepted,
    confirmations_send_quarterly,
)
from apps.finance.services.reminders import payment_reminders_send


@shared_task(name="finance.payment_reminders")
def payment_reminders() -> dict[str, int]:
    return payment_reminders_send()


@shared_task(name="finance.confirmations_deem_accepted")
def balance_confirmations_deem_accepted() -> int:
    return confirmations_deem_accepted()


@shared_task(name="finance.confirmations_quarterly")
def balance_confirmations_quarterly() -> int:
    return confirmations_send_quarterly()


@shared_task(name="finance.card_payments_reconcile")
def card_payments_reconcile_task() -> dict[str, int]:
    return card_payments_reconcile()
