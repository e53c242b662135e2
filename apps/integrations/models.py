"""What the integration API received (one row per batch), and what it sends out: the webhook
endpoints subscribed to the events of core's outbox, each delivery and each attempt of it."""

from __future__ import annotations

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import ApiKey
from apps.core.events import EVENT_TYPES
from apps.core.models import OutboxEvent, SoftDeleteModel, TimeStampedModel


class BatchLog(models.Model):
    api_key = models.ForeignKey(
        ApiKey,
        verbose_name=_("API key"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="batches",
    )
    resource = models.CharField(_("resource"), max_length=50, db_index=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, blank=True)
    received = models.PositiveIntegerField(_("records received"), default=0)
    created = models.PositiveIntegerField(_("records created"), default=0)
    updated = models.PositiveIntegerField(_("records updated"), default=0)
    unchanged = models.PositiveIntegerField(_("records unchanged"), default=0)
    failed = models.PositiveIntegerField(_("records failed"), default=0)
    errors = models.JSONField(
        _("errors"), default=list, blank=True, help_text=_("The first 100 errors.")
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), default=timezone.now, db_index=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("integration batch")
        verbose_name_plural = _("integration batches")

    def __str__(self) -> str:
        return f"{self.resource} {self.started_at:%Y-%m-%d %H:%M:%S} ({self.received})"


# --- outbound events (the outbox itself, ``OutboxEvent``, is core's) --------------------------


class WebhookEndpoint(TimeStampedModel, SoftDeleteModel):
    """A subscriber: where events of ``event_types`` (``"*"``: all) are POSTed, signed with
    ``secret`` (Standard Webhooks). Created in the admin or by an API key for itself."""

    url = models.URLField(_("URL"), max_length=2000)
    secret = models.CharField(_("signing secret"), max_length=100, editable=False)
    event_types = models.JSONField(_("event types"), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    api_key = models.ForeignKey(
        ApiKey,
        verbose_name=_("API key"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="webhook_endpoints",
        help_text=_("The integration API key that manages this endpoint (none: the admin only)."),
    )
    disabled_reason = models.CharField(_("disabled because"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.description or self.url

    def subscribes_to(self, event_type: str) -> bool:
        return "*" in self.event_types or event_type in self.event_types

    def receives(self, event_type: str) -> bool:
        """Subscribed to ``event_type``, and its key (if any) holds the scope the type needs:
        ``"*"`` is every event the key may see."""
        if not self.subscribes_to(event_type):
            return False
        kind = EVENT_TYPES.get(event_type)
        scope = kind.scope if kind is not None else ""
        return not scope or self.api_key is None or self.api_key.has_scope(scope)


class WebhookDelivery(models.Model):
    """One event for one endpoint, with its ``webhook_id`` (the same on every attempt and on a
    manual retry, so receivers can deduplicate).

    ``pending`` deliveries are due at ``next_attempt_at``; while one is being sent that time is
    pushed to the end of a lease, so a crashed worker's attempt is picked up again after it
    and two workers never send the same attempt. ``cycle_attempts`` counts the attempts since
    the delivery was created or retried by hand; after the last one of the schedule it is
    ``dead``.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        DEAD = "dead", _("dead")

    event = models.ForeignKey(
        OutboxEvent, verbose_name=_("event"), on_delete=models.CASCADE, related_name="deliveries"
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=_("endpoint"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    webhook_id = models.CharField(_("webhook id"), max_length=64, unique=True)
    event_type = models.CharField(_("event type"), max_length=64)
    subject = models.CharField(_("subject"), max_length=200)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempt_count = models.PositiveIntegerField(_("attempts"), default=0)
    cycle_attempts = models.PositiveSmallIntegerField(_("attempts this round"), default=0)
    manual_retries = models.PositiveIntegerField(_("manual retries"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last status code"), null=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    dead_at = models.DateTimeField(_("dead-lettered at"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="integ_delivery_once"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="integ_delivery_due",
            ),
            models.Index(
                fields=["endpoint", "subject", "event"],
                condition=models.Q(status="pending"),
                name="integ_delivery_order",
            ),
            models.Index(fields=["endpoint", "-id"], name="integ_delivery_endpoint"),
            models.Index(fields=["status", "dead_at"], name="integ_delivery_status"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP attempt of a delivery. ``finished_at`` stays empty for an attempt whose worker
    died while sending (the next claim marks it interrupted)."""

    delivery = models.ForeignKey(
        WebhookDelivery,
        verbose_name=_("delivery"),
        on_delete=models.CASCADE,
        related_name="attempts",
    )
    number = models.PositiveIntegerField(_("number"))
    at = models.DateTimeField(_("at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    response_excerpt = models.TextField(_("response (excerpt)"), blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="integ_attempt_number"),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.status_code or self.error or '…'}"


auditlog.register(WebhookEndpoint, exclude_fields=["secret", "updated_at"])
