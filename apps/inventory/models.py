"""Warehouses, stock levels that the database keeps non-negative, the movement ledger and
serial numbers."""

from __future__ import annotations

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import Product
from apps.core.models import AuditedModel, TimeStampedModel, related_label
from apps.core.money import number_text
from apps.core.text import key_text


class Warehouse(AuditedModel):
    code = models.CharField(_("code"), max_length=32, unique=True, validators=[key_text])
    name = models.CharField(_("name"), max_length=150)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.IntegerField(
        _("sort order"), default=0, help_text=_("Reservations draw from lower numbers first.")
    )

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


def units_available(on_hand, reserved):
    """The one rule for available stock: on hand less reserved. It takes numbers (a loaded
    stock level) and query expressions (``available_expression``) alike, so Python and SQL
    count available units the same way: change the rule here and every reader follows."""
    return on_hand - reserved


def available_expression(prefix: str = ""):
    """``units_available`` as a query expression over a stock level's columns (``prefix``:
    the path to the stock level, e.g. ``"stock_levels__"``)."""
    return units_available(F(f"{prefix}on_hand"), F(f"{prefix}reserved"))


class StockLevel(models.Model):
    """On hand and reserved of one product in one warehouse; available: ``units_available``.
    The database refuses a negative or oversold row whatever the code does."""

    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="stock_levels"
    )
    warehouse = models.ForeignKey(
        Warehouse,
        verbose_name=_("warehouse"),
        on_delete=models.PROTECT,
        related_name="stock_levels",
    )
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        permissions = [("adjust_stock", _("Can adjust stock"))]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "warehouse"], name="inventory_stock_unique_product_warehouse"
            ),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="inventory_on_hand_gte_0"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="inventory_reserved_gte_0"),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("on_hand")), name="inventory_reserved_lte_on_hand"
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(warehouse)s: %(on_hand)s on hand, %(reserved)s reserved") % {
            "warehouse": related_label(self, "warehouse", "name"),
            "on_hand": number_text(self.on_hand),
            "reserved": number_text(self.reserved),
        }

    @property
    def available(self) -> int:
        return units_available(self.on_hand, self.reserved)


class StockMovement(models.Model):
    """One change of a stock level. ``quantity`` is signed: the change of ``on_hand`` for
    receipts, adjustments, sales, returns and ERP syncs; the change of ``reserved`` for
    reservations and releases. ``*_before``/``*_after`` record both numbers around it."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("receipt")
        ADJUSTMENT = "adjustment", _("adjustment")
        RESERVATION = "reservation", _("reservation")
        RELEASE = "release", _("release")
        SALE = "sale", _("sale")
        RETURN = "return", _("return")
        ERP_SYNC = "erp_sync", _("ERP sync")

    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="movements"
    )
    warehouse = models.ForeignKey(
        Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="movements"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, db_index=True)
    quantity = models.IntegerField(_("quantity"))
    on_hand_before = models.IntegerField(_("on hand before"))
    on_hand_after = models.IntegerField(_("on hand after"))
    reserved_before = models.IntegerField(_("reserved before"))
    reserved_after = models.IntegerField(_("reserved after"))
    # what caused it: "order:SO-2026-000123", "return:RMA-...", "batch:<id>", "admin"
    reference = models.CharField(_("reference"), max_length=100, blank=True, db_index=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["product", "-created_at"], name="inventory_mov_product")]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity:+d} {self.product_id}@{self.warehouse_id}"


class SerialNumber(TimeStampedModel):
    class Status(models.TextChoices):
        IN_STOCK = "in_stock", _("in stock")
        RESERVED = "reserved", _("reserved")
        SOLD = "sold", _("sold")
        RETURNED = "returned", _("returned")
        # came back on a return and set aside (not on hand, not sellable) until inspected
        QUARANTINE = "quarantine", _("quarantine")
        # left stock other than by our own sale (the ERP's count went down)
        WRITTEN_OFF = "written_off", _("written off")

    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="serial_numbers"
    )
    warehouse = models.ForeignKey(
        Warehouse,
        verbose_name=_("warehouse"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="serial_numbers",
    )
    serial = models.CharField(_("serial number"), max_length=100, validators=[key_text])
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.IN_STOCK, db_index=True
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("serial number")
        verbose_name_plural = _("serial numbers")
        constraints = [
            models.UniqueConstraint(
                fields=["product", "serial"], name="inventory_serial_unique_per_product"
            )
        ]

    def __str__(self) -> str:
        return self.serial


# Stock levels and movements are not registered: the movement ledger is their audit trail
# (who, when, before and after of every change), written by the services themselves.
auditlog.register(Warehouse, exclude_fields=["updated_at"])
auditlog.register(SerialNumber, exclude_fields=["updated_at"])
