"""Carts, requisition lists, orders, order lines and the history of every status change.

An order keeps what was agreed when it was placed: the lines carry the engine's unit price,
discount, source and campaign of that moment and the rounded line amounts (DESIGN.md: line net
= round2(unit_net * q), line VAT = round2(line_net * vat_rate / 100)); the order totals are the
sums of its lines. Addresses are copied onto the order, so editing or deleting an address later
does not change where an order went.
"""

from __future__ import annotations

from auditlog.registry import auditlog
from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import ApiKey, Customer, DealerRole
from apps.catalog.models import Product
from apps.core.models import AuditedModel, YearlySequence, status_label
from apps.core.money import money_text, number_text

MONEY = {"max_digits": 14, "decimal_places": 2}
UNIT = {"max_digits": 14, "decimal_places": 4}


class OrderStatus(models.TextChoices):
    AWAITING_APPROVAL = "awaiting_approval", _("awaiting approval")
    AWAITING_CREDIT_APPROVAL = "awaiting_credit_approval", _("awaiting credit approval")
    AWAITING_PAYMENT = "awaiting_payment", _("awaiting payment")
    CONFIRMED = "confirmed", _("confirmed")
    PROCESSING = "processing", _("processing")
    SHIPPED = "shipped", _("shipped")
    DELIVERED = "delivered", _("delivered")
    CANCELLED = "cancelled", _("cancelled")
    REJECTED = "rejected", _("rejected")


class PaymentMethod(models.TextChoices):
    ON_ACCOUNT = "on_account", _("on account")
    CARD = "card", _("card")
    BANK_TRANSFER = "bank_transfer", _("bank transfer")


class Cart(models.Model):
    """One cart per user (of a dealer company)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="cart",
        verbose_name=_("user"),
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="carts", verbose_name=_("dealer")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("cart")
        verbose_name_plural = _("carts")

    def __str__(self) -> str:
        return f"cart of {self.user_id}"


class CartItem(models.Model):
    cart = models.ForeignKey(
        Cart, on_delete=models.CASCADE, related_name="items", verbose_name=_("cart")
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="+", verbose_name=_("product")
    )
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    added_at = models.DateTimeField(_("added at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("cart line")
        verbose_name_plural = _("cart lines")
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "product"], name="orders_cart_one_line"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orders_cart_qty_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} x{self.quantity}"


class RequisitionList(AuditedModel):
    """A named list of products and quantities a user keeps to order again (a requisition
    list). Seen by its owner, and by every user of the company when ``shared``; changed by its
    owner, and when shared also by the company's owners. Like the cart it holds no prices."""

    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="requisition_lists",
        verbose_name=_("dealer"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="requisition_lists",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=100)
    shared = models.BooleanField(
        _("shared"),
        default=False,
        help_text=_("Every user of the company who may order sees and uses the list."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("requisition list")
        verbose_name_plural = _("requisition lists")
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "owner"], name="orders_reqlist_customer_owner"),
        ]

    def __str__(self) -> str:
        return self.name

    def can_use(self, *, by) -> bool:
        """Whether ``by`` sees the list (``selectors.requisition_list_visible`` for many)."""
        return by.customer_id == self.customer_id and (self.shared or by.pk == self.owner_id)

    def can_edit(self, *, by) -> bool:
        """Whether ``by`` may rename, share, delete the list or change its items: its owner;
        for a shared list also an owner of the company."""
        if by.pk == self.owner_id:
            return True
        return self.shared and by.customer_id == self.customer_id and by.role == DealerRole.OWNER


class RequisitionListItem(models.Model):
    list = models.ForeignKey(
        RequisitionList,
        on_delete=models.CASCADE,
        related_name="items",
        verbose_name=_("requisition list"),
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    quantity = models.PositiveIntegerField(
        _("quantity"), default=1, validators=[MinValueValidator(1)]
    )
    added_at = models.DateTimeField(_("added at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("requisition list line")
        verbose_name_plural = _("requisition list lines")
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["list", "product"], name="orders_reqlist_one_line"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orders_reqlist_qty_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} x{self.quantity}"


class OrderNumberSequence(YearlySequence):
    """The last order number given out per year (``SO-2026-000123``), taken under a row lock."""

    class Meta:
        verbose_name = _("order number sequence")


class Order(AuditedModel):
    number = models.CharField(_("number"), max_length=20, unique=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="orders", verbose_name=_("dealer")
    )
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("placed by"),
    )
    status = models.CharField(
        _("status"), max_length=32, choices=OrderStatus.choices, db_index=True
    )
    payment_method = models.CharField(
        _("payment method"), max_length=16, choices=PaymentMethod.choices
    )
    currency = models.CharField(_("currency"), max_length=3, default="TRY")
    subtotal_net = models.DecimalField(_("subtotal (net)"), **MONEY)
    vat_total = models.DecimalField(_("VAT"), **MONEY)
    grand_total = models.DecimalField(_("grand total"), **MONEY)
    shipping_address_id = models.BigIntegerField(_("shipping address id"), null=True, blank=True)
    billing_address_id = models.BigIntegerField(_("billing address id"), null=True, blank=True)
    shipping_address = models.JSONField(_("shipping address"), default=dict)
    billing_address = models.JSONField(_("billing address"), default=dict)
    po_number = models.CharField(_("PO number"), max_length=64, blank=True)
    note = models.TextField(_("note"), blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=64, blank=True)
    carrier = models.CharField(_("carrier"), max_length=64, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by (owner)"),
    )
    # the dealer owner's approval of an order over a user's limit (``confirmed_at``: confirmed)
    approved_at = models.DateTimeField(_("approved by the owner at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    invoiced_at = models.DateTimeField(
        _("invoiced at"),
        null=True,
        blank=True,
        help_text=_("Set when the ERP's first invoice naming the order arrives."),
    )
    invoiced_total = models.DecimalField(
        _("invoiced (gross)"),
        **MONEY,
        default=0,
        help_text=_(
            "The gross of the ERP's invoices naming the order: what is not invoiced yet of a "
            "confirmed, processing, shipped or delivered order counts against the credit limit."
        ),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="orders_customer_created"),
            models.Index(fields=["customer", "status"], name="orders_customer_status"),
            # the orders whose rest counts against the credit limit (``open_orders_total``)
            models.Index(
                fields=["customer"],
                name="orders_not_invoiced",
                condition=Q(
                    status__in=["confirmed", "processing", "shipped", "delivered"],
                    invoiced_total__lt=F("grand_total"),
                ),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(grand_total__gte=0), name="orders_total_gte_0"),
        ]
        permissions = [
            ("place_order", "Can place orders (dealer)"),
            ("approve_order", "Can approve orders over a user's limit (dealer owner)"),
            ("cancel_order", "Can cancel orders"),
            ("approve_credit", "Can approve or reject orders over the credit limit"),
            ("manage_fulfilment", "Can move orders through processing, shipping, delivery"),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order")
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=255)
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    list_price = models.DecimalField(_("list price"), null=True, blank=True, **UNIT)
    unit_net = models.DecimalField(_("unit price (net)"), **UNIT)
    discount = models.DecimalField(_("discount per unit"), **UNIT)
    price_source = models.CharField(_("price source"), max_length=16)
    campaign_id = models.BigIntegerField(_("campaign id"), null=True, blank=True)
    campaign_name = models.CharField(_("campaign"), max_length=200, blank=True)
    quote_number = models.CharField(
        _("quote"),
        max_length=32,
        blank=True,
        help_text=_("The accepted quote whose price this line carries (price source: quote)."),
    )
    vat_rate = models.PositiveSmallIntegerField(_("VAT rate"))
    line_net = models.DecimalField(_("line net"), **MONEY)
    line_vat = models.DecimalField(_("line VAT"), **MONEY)
    line_gross = models.DecimalField(_("line gross"), **MONEY)
    serial_numbers = models.JSONField(_("serial numbers"), default=list, blank=True)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orders_line_qty_gte_1"),
        ]

    def __str__(self) -> str:
        return gettext("%(sku)s: %(quantity)s × %(price)s") % {
            "sku": self.sku,
            "quantity": number_text(self.quantity),
            "price": money_text(self.unit_net),
        }


class OrderStatusChange(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="status_history", verbose_name=_("order")
    )
    from_status = models.CharField(_("from"), max_length=32, blank=True)
    to_status = models.CharField(_("to"), max_length=32)
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
    actor = models.CharField(_("actor"), max_length=16)  # dealer | staff | erp | system
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status history")
        ordering = ["order", "created_at", "id"]

    def __str__(self) -> str:
        before = status_label(OrderStatus, self.from_status)
        after = status_label(OrderStatus, self.to_status)
        return f"{before} → {after}"


auditlog.register(Order, exclude_fields=["updated_at"])
auditlog.register(RequisitionList, exclude_fields=["updated_at"])
auditlog.register(RequisitionListItem)
