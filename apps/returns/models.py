"""Return requests (RMA): a dealer asks to send back part of a delivered order.

``requested -> approved | rejected`` (customer service or the ERP), ``requested ->
cancelled`` (the dealer), ``approved -> received`` (the goods are back: stock returns, per
line the quantity received), ``received -> credited`` (a credit note on the dealer's ledger
at the order's prices, VAT included). ``apps.returns.states`` is the one table of who may
move a return where; ``apps.returns.services`` makes every move.
"""

from __future__ import annotations

import uuid

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import ApiKey, Customer
from apps.core.models import AuditedModel, YearlySequence, status_label
from apps.core.money import number_text
from apps.orders.models import Order, OrderLine


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", _("requested")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")
    CANCELLED = "cancelled", _("cancelled")
    RECEIVED = "received", _("received")
    CREDITED = "credited", _("credited")


class ReturnReason(models.TextChoices):
    DAMAGED = "damaged", _("damaged in transit")
    WRONG_ITEM = "wrong_item", _("wrong item")
    DEFECTIVE = "defective", _("defective")
    NOT_NEEDED = "not_needed", _("not needed")
    OTHER = "other", _("other")


class ReturnNumberSequence(YearlySequence):
    """The last return number given out per year (``RMA-2026-000123``)."""

    class Meta:
        verbose_name = _("return number sequence")


class ReturnRequest(AuditedModel):
    number = models.CharField(_("number"), max_length=32, unique=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="returns", verbose_name=_("dealer")
    )
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="returns", verbose_name=_("order")
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ReturnStatus.choices,
        default=ReturnStatus.REQUESTED,
        db_index=True,
    )
    note = models.TextField(_("note"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    decision_note = models.TextField(_("decision note"), blank=True)
    credit_note = models.OneToOneField(
        "finance.LedgerEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="return_request",
        verbose_name=_("credit note"),
    )
    credit_net = models.DecimalField(
        _("credit (net)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    credit_vat = models.DecimalField(
        _("credit (VAT)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    credit_total = models.DecimalField(
        _("credit (gross)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    created_at = models.DateTimeField(_("requested at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    credited_at = models.DateTimeField(_("credited at"), null=True, blank=True)

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="returns_customer"),
            models.Index(fields=["updated_at", "id"], name="returns_updated"),
        ]
        permissions = [
            ("decide_returnrequest", "Can approve or reject returns"),
            ("receive_returnrequest", "Can record returned goods"),
            ("credit_returnrequest", "Can credit returns"),
        ]

    def __str__(self) -> str:
        return self.number


class ReturnLine(models.Model):
    request = models.ForeignKey(
        ReturnRequest, on_delete=models.CASCADE, related_name="lines", verbose_name=_("return")
    )
    order_line = models.ForeignKey(
        OrderLine, on_delete=models.PROTECT, related_name="+", verbose_name=_("order line")
    )
    sku = models.CharField(_("SKU"), max_length=64)
    quantity = models.PositiveIntegerField(_("quantity"))
    reason = models.CharField(_("reason"), max_length=16, choices=ReturnReason.choices)
    reason_text = models.CharField(_("reason (text)"), max_length=500, blank=True)
    serial_numbers = models.JSONField(_("serial numbers"), default=list, blank=True)
    received_quantity = models.PositiveIntegerField(_("received"), null=True, blank=True)
    quarantined_quantity = models.PositiveIntegerField(_("quarantined"), default=0)
    received_serials = models.JSONField(_("received serial numbers"), default=list, blank=True)

    class Meta:
        verbose_name = _("return line")
        verbose_name_plural = _("return lines")
        ordering = ["request", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="returns_line_qty_gte_1"),
            models.CheckConstraint(
                condition=Q(received_quantity__isnull=True)
                | Q(received_quantity__lte=models.F("quantity")),
                name="returns_received_within_requested",
            ),
            models.UniqueConstraint(
                fields=["request", "order_line"], name="returns_one_line_per_order_line"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} × {number_text(self.quantity)}"


def photo_path(instance, filename: str) -> str:
    """Private, unguessable: the dealer API serves photos after checking the company. The
    extension is the file's format (a few ASCII letters), else ``bin``."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if not (extension.isascii() and extension.isalnum() and len(extension) <= 8):
        extension = "bin"
    return f"returns/{uuid.uuid4().hex}.{extension}"


class ReturnPhoto(models.Model):
    request = models.ForeignKey(
        ReturnRequest, on_delete=models.CASCADE, related_name="photos", verbose_name=_("return")
    )
    file = models.FileField(_("file"), upload_to=photo_path, max_length=255)
    content_type = models.CharField(_("content type"), max_length=32)
    size = models.PositiveIntegerField(_("size (bytes)"))
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("return photo")
        verbose_name_plural = _("return photos")

    def __str__(self) -> str:
        return self.file.name

    @property
    def download_name(self) -> str:
        """The name a download gives it: the return's number, the photo's id, its format."""
        extension = self.file.name.rsplit(".", 1)[-1]
        return f"{self.request.number}-{self.pk}.{extension}"


class ReturnStatusChange(models.Model):
    request = models.ForeignKey(
        ReturnRequest,
        on_delete=models.CASCADE,
        related_name="status_history",
        verbose_name=_("return"),
    )
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    api_key = models.ForeignKey(
        ApiKey,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("API key"),
        help_text=_("The ERP connector's key that asked for the change."),
    )
    actor = models.CharField(_("actor"), max_length=16)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("return status change")
        verbose_name_plural = _("return status changes")
        ordering = ["request", "created_at", "id"]

    def __str__(self) -> str:
        before = status_label(ReturnStatus, self.from_status)
        after = status_label(ReturnStatus, self.to_status)
        return f"{before} → {after}"


auditlog.register(ReturnRequest, exclude_fields=["updated_at"])
auditlog.register(ReturnLine)
