"""The Celery application. Settings come from Django settings under the ``CELERY_`` prefix."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("b2b")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

if not app.conf.broker_url and app.conf.task_always_eager:
    # no broker: tasks run in-process, and the producer celery still opens around an eager
    # call gets an in-memory transport instead of kombu's "no hostname" warning
    app.conf.broker_url = "memory://localhost//"
