"""Sending notifications off the request path. Safe to run twice: a sent one is skipped, and
one being sent by another worker (its row is locked) is left to it."""

from __future__ import annotations

from datetime import timedelta
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.notifications.models import Notification
from apps.notifications.services import notification_deliver
from apps.notifications.sms import SmsError


@shared_task(
    name="notifications.send",
    ignore_result=True,  # one per e-mail or SMS; failures are still stored
    autoretry_for=(OSError, SMTPException, SmsError),
    max_retries=5,
    retry_backoff=True,
)
def notification_send(notification_id: int) -> str:
    failure: Exception | None = None
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user", "customer")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None or notification.status == Notification.Status.SENT:
            return "skipped"
        try:
            notification_deliver(notification)
        except Exception as exc:
            failure = exc  # the failure is recorded (committed) before the task retries
    if failure is not None:
        raise failure
    return "sent"


# one task's attempts: the first and its retries (a mail server down for ~30 s)
ROUND = 1 + notification_send.max_retries


def _due_again(notification: Notification, now) -> bool:
    """A failed notification whose last round of attempts ran out on a mail server or SMS
    gateway that was down (attempts a whole number of rounds: an error the task does not
    retry, a template that does not render, fails once and is left failed), and whose wait
    has passed: ``NOTIFICATION_RESEND_SECONDS`` after the first round, doubling after each."""
    rounds, rest = divmod(notification.attempts, ROUND)
    if rest or not rounds or notification.attempted_at is None:
        return False
    wait = settings.NOTIFICATION_RESEND_SECONDS * 2 ** (rounds - 1)
    return notification.attempted_at <= now - timedelta(seconds=wait)


@shared_task(name="notifications.sweep", ignore_result=True)
def notifications_sweep() -> int:
    """Run by celery beat: queue again the notifications whose sending was never queued (the
    broker was down when their transaction committed), older than
    NOTIFICATION_SWEEP_GRACE_SECONDS (a queued task has surely run by then); and those whose
    attempts ran out while the mail server or the SMS gateway was down (``_due_again``: an
    outage longer than the task's retries lost them). Only those younger than a day (an older
    reset link or code is of no use)."""
    now = timezone.now()
    young = Notification.objects.filter(created_at__gte=now - timedelta(days=1))
    stuck = young.filter(
        status=Notification.Status.QUEUED,
        attempts=0,
        created_at__lt=now - timedelta(seconds=settings.NOTIFICATION_SWEEP_GRACE_SECONDS),
    ).order_by("created_at")
    ids = list(stuck.values_list("pk", flat=True)[:500])
    failed = young.filter(status=Notification.Status.FAILED, attempts__gte=ROUND).only(
        "attempts", "attempted_at"
    )
    ids += [n.pk for n in failed.order_by("attempted_at")[:500] if _due_again(n, now)]
    for notification_id in ids:
        notification_send.delay(notification_id)
    return len(ids)
