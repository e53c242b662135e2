"""E-mails whose sending could not be queued (the broker was down when their transaction
committed) are queued again by beat's sweep, once; one being sent is not sent twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from apps.notifications.models import Notification
from apps.notifications.tasks import notification_send, notifications_sweep

pytestmark = [pytest.mark.django_db]


def _queued(to: str, *, age: timedelta) -> Notification:
    notification = Notification.objects.create(
        channel=Notification.Channel.EMAIL,
        to=to,
        template="accounts/password_reset",
        context={"link": "http://x/", "minutes": 60},
    )
    Notification.objects.filter(pk=notification.pk).update(created_at=timezone.now() - age)
    return notification


def test_beat_sweeps_notifications_left_queued_and_sends_each_once():
    assert settings.CELERY_BEAT_SCHEDULE["notifications-sweep"]["task"] == "notifications.sweep"
    grace = timedelta(seconds=settings.NOTIFICATION_SWEEP_GRACE_SECONDS)
    stuck = _queued("stuck@example.com", age=grace + timedelta(minutes=1))
    _queued("fresh@example.com", age=timedelta(seconds=1))  # its task may still be queued
    _queued("ancient@example.com", age=timedelta(days=2))  # its link is long dead

    assert notifications_sweep.apply().get() == 1

    assert [m.to for m in mail.outbox] == [["stuck@example.com"]]
    stuck.refresh_from_db()
    assert stuck.status == Notification.Status.SENT
    # a second sweep, or the original task arriving late, sends nothing more
    assert notifications_sweep.apply().get() == 0
    assert notification_send.apply(args=[stuck.pk]).get() == "skipped"
    assert len(mail.outbox) == 1
