"""What the back office keeps of its own: the failed Celery tasks staff sent again (the job
dashboard, ``apps.backoffice.jobs``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class JobRetry(models.Model):
    """A failed task (its django-celery-results ``task_id``) sent again with its stored
    arguments as ``new_task_id``: by whom and when. One retry per failed run; the new run, if
    it fails too, is retried on its own."""

    task_id = models.CharField(_("failed task id"), max_length=255, unique=True)
    task_name = models.CharField(_("task name"), max_length=255)
    new_task_id = models.CharField(_("new task id"), max_length=255, unique=True)
    retried_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("retried by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    retried_at = models.DateTimeField(_("retried at"), default=timezone.now)

    class Meta:
        verbose_name = _("job retry")
        verbose_name_plural = _("job retries")
        ordering = ["-retried_at"]

    def __str__(self) -> str:
        return f"{self.task_name} {self.task_id} -> {self.new_task_id}"
