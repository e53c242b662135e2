"""What the integration API received: one row per batch (who, when, counts, errors)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import ApiKey


class BatchLog(models.Model):
    api_key = models.ForeignKey(
        ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="batches"
    )
    resource = models.CharField(_("resource"), max_length=50, db_index=True)
    idempotency_key = models.CharField(max_length=200, blank=True)
    received = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text=_("The first 100 errors."))
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("integration batch")
        verbose_name_plural = _("integration batches")

    def __str__(self) -> str:
        return f"{self.resource} {self.started_at:%Y-%m-%d %H:%M:%S} ({self.received})"
