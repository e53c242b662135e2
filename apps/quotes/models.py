"""Quotes (requests for quotation): a dealer asks for prices of some lines; sales staff answer
with a price per line and a validity date, possibly several times (each answer a version); the
dealer accepts (one order at exactly those prices), rejects, or lets it expire."""

from __future__ import annotations

from auditlog.registry import auditlog
from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Customer
from apps.catalog.models import Product
from apps.core.models import AuditedModel, YearlySequence
from apps.core.money import number_text

UNIT = {"max_digits": 14, "decimal_places": 4}


class QuoteStatus(models.TextChoices):
    REQUESTED = "requested", _("requested")
    DRAFT = "draft", _("being prepared")
    SENT = "sent", _("sent")
    ACCEPTED = "accepted", _("accepted")
    REJECTED = "rejected", _("rejected")
    DECLINED = "declined", _("declined")
    EXPIRED = "expired", _("expired")


class QuoteNumberSequence(YearlySequence):
    """The last quote number given out per year (``QT-2026-000123``)."""

    class Meta:
        verbose_name = _("quote number sequence")


class Quote(AuditedModel):
    number = models.CharField(_("number"), max_length=32, unique=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="quotes", verbose_name=_("dealer")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=QuoteStatus.choices,
        default=QuoteStatus.REQUESTED,
        db_index=True,
    )
    note = models.TextField(_("dealer's note"), blank=True)
    valid_until_wanted = models.DateField(_("wanted valid until"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    staff_note = models.TextField(_("our note to the dealer"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=0)
    reject_reason = models.TextField(_("reason"), blank=True)
    order = models.OneToOneField(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="quote",
        verbose_name=_("order"),
    )
    created_at = models.DateTimeField(_("requested at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["-created_at", "-id"]
        permissions = [("answer_quote", "Can answer quotes (prices, validity)")]
        indexes = [models.Index(fields=["customer", "-created_at"], name="quotes_customer_recent")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="accepted") | Q(order__isnull=False),
                name="quotes_accepted_has_order",
            )
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def priced(self) -> bool:
        """The dealer sees prices once a version was sent."""
        return self.version > 0 and self.status != QuoteStatus.DRAFT


class QuoteLine(models.Model):
    quote = models.ForeignKey(
        Quote, on_delete=models.CASCADE, related_name="lines", verbose_name=_("quote")
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=255)
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    target_price = models.DecimalField(
        _("dealer's target price (net)"), null=True, blank=True, **UNIT
    )
    unit_net = models.DecimalField(_("quoted unit price (net)"), null=True, blank=True, **UNIT)
    vat_rate = models.PositiveSmallIntegerField(_("VAT rate"))

    class Meta:
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["quote", "product"], name="quotes_line_unique_product")
        ]

    def __str__(self) -> str:
        return f"{self.sku} × {number_text(self.quantity)}"


class QuoteVersion(models.Model):
    """One answer as it was sent: the prices of each line, the validity and the note."""

    quote = models.ForeignKey(
        Quote, on_delete=models.CASCADE, related_name="versions", verbose_name=_("quote")
    )
    version = models.PositiveIntegerField(_("version"))
    lines = models.JSONField(_("lines"))  # [{sku, quantity, unit_net}]
    valid_until = models.DateField(_("valid until"))
    note = models.TextField(_("note"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
    )

    class Meta:
        verbose_name = _("quote version")
        verbose_name_plural = _("quote versions")
        ordering = ["version"]
        constraints = [
            models.UniqueConstraint(fields=["quote", "version"], name="quotes_version_unique")
        ]

    def __str__(self) -> str:
        return gettext("Version %(version)s") % {"version": self.version}


auditlog.register(Quote, exclude_fields=["updated_at"])
auditlog.register(QuoteLine)
