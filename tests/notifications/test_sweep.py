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


def test_an_email_whose_retries_ran_out_on_a_mail_server_that_is_down_is_sent_later(
    settings, time_machine, monkeypatch
):
    """The task's six attempts span ~30 s: a mail server down for longer left the e-mail
    failed for good (a registration link, a reset link, an order's status) and the sweep
    looked at queued ones only. It sends those again after NOTIFICATION_RESEND_SECONDS, then
    after twice as long each time; one that failed for another reason is left failed."""
    from config.celery import app as celery_app  # here: the tasks run as a worker runs them
    from tests.conftest import closed_port  # here: only this test takes a mail server down

    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)
    settings.NOTIFICATION_RESEND_SECONDS = 300
    time_machine.move_to(timezone.now(), tick=False)
    locmem = settings.EMAIL_BACKEND
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = False, 2
    down = _queued("down@example.com", age=timedelta(0))
    broken = Notification.objects.create(channel="email", to="b@example.com", template="nope/x")
    for notification in (down, broken):
        notification_send.apply(args=[notification.pk])
    down.refresh_from_db()
    broken.refresh_from_db()
    assert (down.status, down.attempts) == ("failed", 6)  # one round: the first and 5 retries
    assert (broken.status, broken.attempts) == ("failed", 1)  # not a server that is down

    assert notifications_sweep.apply().get() == 0  # not yet
    time_machine.shift(timedelta(seconds=301))
    assert notifications_sweep.apply().get() == 1  # sent again: the server is still down
    down.refresh_from_db()
    assert (down.status, down.attempts) == ("failed", 12)
    time_machine.shift(timedelta(seconds=400))
    assert notifications_sweep.apply().get() == 0  # now it waits twice as long
    time_machine.shift(timedelta(seconds=201))

    settings.EMAIL_BACKEND = locmem  # the mail server is back
    assert notifications_sweep.apply().get() == 1
    down.refresh_from_db()
    assert down.status == "sent" and [m.to for m in mail.outbox] == [["down@example.com"]]
    assert notifications_sweep.apply().get() == 0
    broken.refresh_from_db()
    assert broken.status == "failed" and broken.attempts == 1
