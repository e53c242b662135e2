"""Sending notifications off the request path. Safe to run twice: a sent one is skipped."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from apps.notifications.models import Notification
from apps.notifications.services import notification_deliver
from apps.notifications.sms import SmsError


@shared_task(
    name="notifications.send",
    autoretry_for=(OSError, SMTPException, SmsError),
    max_retries=5,
    retry_backoff=True,
)
def notification_send(notification_id: int) -> str:
    notification = (
        Notification.objects.select_related("user", "customer").filter(pk=notification_id).first()
    )
    if notification is None or notification.status == Notification.Status.SENT:
        return "skipped"
    notification_deliver(notification)
    return "sent"
