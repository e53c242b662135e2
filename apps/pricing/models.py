"""Price lists with quantity breaks, dealer special prices and the history of every change.

Amounts are unit prices net of VAT with 4 decimals, in TRY. A price row is one quantity break
of one product in one list (or for one dealer), valid in an optional window.
"""

from __future__ import annotations

from decimal import Decimal

from auditlog.registry import auditlog
from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.accounts.models import Customer
from apps.catalog.models import Product
from apps.core.models import AuditedModel, related_label
from apps.core.money import money_text, number_text
from apps.core.text import key_text

LIST_CODE = "LIST"


class PriceList(AuditedModel):
    """``LIST`` is the public list price; ``A``, ``B``, ``C`` belong to the dealer tiers."""

    code = models.CharField(_("code"), max_length=16, unique=True, validators=[key_text])
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class ValidityQuerySet(models.QuerySet):
    def valid_at(self, at=None):
        at = at or timezone.now()
        return self.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=at),
            Q(valid_to__isnull=True) | Q(valid_to__gt=at),
        )


class PriceBase(AuditedModel):
    # no index of its own: each model's composite index or unique constraint covers it (a
    # redundant index is one more write per row of every ERP batch)
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        on_delete=models.CASCADE,
        related_name="%(class)s_rows",
        db_index=False,
    )
    min_quantity = models.PositiveIntegerField(
        _("from quantity"), default=1, validators=[MinValueValidator(1)]
    )
    amount = models.DecimalField(
        _("unit price (net)"),
        max_digits=14,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0"))],
    )
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_to = models.DateTimeField(_("valid until"), null=True, blank=True)

    objects = ValidityQuerySet.as_manager()

    class Meta:
        abstract = True


def break_label(owner: str, row: PriceBase) -> str:
    """``LIST · CAB-1, from 1 unit: 64.18 ₺``: whose price, from which quantity, how much."""
    return ngettext(
        "%(owner)s, from %(quantity)s unit: %(amount)s",
        "%(owner)s, from %(quantity)s units: %(amount)s",
        row.min_quantity,
    ) % {
        "owner": owner,
        "quantity": number_text(row.min_quantity),
        "amount": money_text(row.amount),
    }


class Price(PriceBase):
    # indexed as the first column of pricing_price_unique_break
    price_list = models.ForeignKey(
        PriceList,
        verbose_name=_("price list"),
        on_delete=models.PROTECT,
        related_name="prices",
        db_index=False,
    )

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        ordering = ["product", "price_list", "min_quantity"]
        constraints = [
            models.UniqueConstraint(
                fields=["price_list", "product", "min_quantity"], name="pricing_price_unique_break"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="pricing_price_amount_gte_0"),
            models.CheckConstraint(
                condition=Q(min_quantity__gte=1), name="pricing_price_min_quantity_gte_1"
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_to__isnull=True)
                | Q(valid_to__gt=F("valid_from")),
                name="pricing_price_window_order",
            ),
        ]
        indexes = [models.Index(fields=["product", "price_list"], name="pricing_price_product")]

    def __str__(self) -> str:
        owner = related_label(self, "price_list", "code")
        return break_label(f"{owner} · {related_label(self, 'product', 'sku')}", self)


class SpecialPrice(PriceBase):
    # indexed as the first column of pricing_special_unique_break
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("dealer"),
        on_delete=models.CASCADE,
        related_name="special_prices",
        db_index=False,
    )

    class Meta:
        verbose_name = _("special price")
        verbose_name_plural = _("special prices")
        ordering = ["customer", "product", "min_quantity"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "product", "min_quantity"],
                name="pricing_special_unique_break",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="pricing_special_amount_gte_0"),
            models.CheckConstraint(
                condition=Q(min_quantity__gte=1), name="pricing_special_min_quantity_gte_1"
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_to__isnull=True)
                | Q(valid_to__gt=F("valid_from")),
                name="pricing_special_window_order",
            ),
        ]
        # (customer, product) lookups use pricing_special_unique_break
        indexes = [models.Index(fields=["product"], name="pricing_special_product")]

    def __str__(self) -> str:
        owner = related_label(self, "customer", "code")
        return break_label(f"{owner} · {related_label(self, 'product', 'sku')}", self)


class PriceChange(models.Model):
    """Every change of a price or a special price: who, when, old, new, from where.

    A history table written by the thousand with every ERP batch: its references carry no
    database constraint (as django-simple-history's history tables), since checking four
    foreign keys per row at commit cost an ERP batch a fifth of its time. The rows are only
    ever written next to the price row they describe, in the same statement; deleting what
    they point to still cascades (or nulls ``changed_by``) through the ORM."""

    class Source(models.TextChoices):
        ADMIN = "admin", _("back office")
        ERP = "erp", _("ERP batch")
        SYSTEM = "system", _("system")

    # indexed as the first column of pricing_change_product
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    price_list = models.ForeignKey(
        PriceList,
        verbose_name=_("price list"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("dealer"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    min_quantity = models.PositiveIntegerField(_("from quantity"))
    old_amount = models.DecimalField(
        _("old price"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    new_amount = models.DecimalField(
        _("new price"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("price change")
        verbose_name_plural = _("price changes")
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["product", "-changed_at"], name="pricing_change_product"),
            *(
                models.Index(
                    fields=[field],
                    name=f"pricing_change_{field}",
                    condition=models.Q(**{f"{field}__isnull": False}),
                )
                for field in ("price_list", "customer", "changed_by")
            ),
        ]

    def __str__(self) -> str:
        old = "-" if self.old_amount is None else money_text(self.old_amount)
        new = "-" if self.new_amount is None else money_text(self.new_amount)
        return f"{related_label(self, 'product', 'sku')}: {old} → {new}"


auditlog.register(PriceList)
auditlog.register(Price, exclude_fields=["updated_at"])
auditlog.register(SpecialPrice, exclude_fields=["updated_at"])


class PriceIndex(models.Model):
    """The price index: each product's unit price at quantity 1 per price context (a dealer
    tier), as the price engine computes it for a dealer of that tier with no special prices and
    no campaign aimed at chosen dealers; campaigns for everyone and for the tier are included.

    Only for sorting and filtering the catalog by price (``apps.pricing.index``): the price a
    dealer is shown and charged always comes from the engine. A product without a price in a
    context has no row there. ``name`` is the product's, copied so that a page ordered by price
    (ties by name) is one index scan."""

    context = models.CharField(_("dealer tier"), max_length=8)
    # indexed as the first column of pricing_index_unique (a product's rows, in every context)
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    price = models.DecimalField(_("price"), max_digits=14, decimal_places=4)
    name = models.CharField(_("product name"), max_length=255)

    class Meta:
        verbose_name = _("price index row")
        verbose_name_plural = _("price index")
        # each index is written again for every changed row (the price is in two of them): an
        # ERP price batch rewrites three index rows per product, so there is no index more
        constraints = [
            models.UniqueConstraint(fields=["product", "context"], name="pricing_index_unique")
        ]
        indexes = [
            models.Index(
                fields=["context", "price", "name", "product"], name="pricing_index_price_asc"
            ),
            models.Index(
                fields=["context", "-price", "name", "product"], name="pricing_index_price_desc"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.context}:{self.product_id} = {self.price}"


class PriceIndexState(models.Model):
    """One row: what the index was last brought up to date with (``apps.pricing.index``)."""

    signature = models.CharField(_("signature"), max_length=64, blank=True)
    synced_at = models.DateTimeField(_("synced at"), null=True, blank=True)

    class Meta:
        verbose_name = _("price index state")
        verbose_name_plural = _("price index state")

    def __str__(self) -> str:
        return f"price index synced at {self.synced_at}"
