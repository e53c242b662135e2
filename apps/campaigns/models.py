"""Campaigns (discount rules), banners and product collections for the dealer portal."""

from __future__ import annotations

from decimal import Decimal

from auditlog.registry import auditlog
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Customer
from apps.campaigns.windows import is_live, live_q
from apps.catalog.models import Brand, Category, Product
from apps.core.models import AuditedModel, related_label


class Audience(models.TextChoices):
    EVERYONE = "everyone", _("every dealer")
    TIERS = "tiers", _("dealers of some tiers")
    DEALERS = "dealers", _("chosen dealers")


class WindowQuerySet(models.QuerySet):
    def live(self, at=None):
        """Live at ``at`` (default now): switched on and inside the window."""
        return self.filter(live_q(at or timezone.now()))

    def for_customer(self, customer):
        return self.filter(
            Q(audience=Audience.EVERYONE)
            # JSON text match works on PostgreSQL and SQLite alike
            | Q(audience=Audience.TIERS, tiers__icontains=f'"{customer.tier}"')
            | Q(audience=Audience.DEALERS, customers=customer)
        ).distinct()


class AudienceMixin(models.Model):
    audience = models.CharField(
        _("audience"), max_length=16, choices=Audience.choices, default=Audience.EVERYONE
    )
    tiers = models.JSONField(_("tiers"), default=list, blank=True, help_text=_('e.g. ["A", "B"]'))
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = WindowQuerySet.as_manager()

    class Meta:
        abstract = True

    def is_live(self, at=None) -> bool:
        """The row's answer to ``live()``."""
        return is_live(
            is_active=self.is_active,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            at=at or timezone.now(),
        )

    def reaches(self, customer) -> bool:
        if self.audience == Audience.EVERYONE:
            return True
        if self.audience == Audience.TIERS:
            return customer.tier in (self.tiers or [])
        return self.customers.filter(pk=customer.pk).exists()


class Campaign(AudienceMixin, AuditedModel):
    class Scope(models.TextChoices):
        EVERYTHING = "everything", _("every product")
        CATEGORIES = "categories", _("categories (with their sub-categories)")
        BRANDS = "brands", _("brands")
        PRODUCTS = "products", _("products")

    class DiscountType(models.TextChoices):
        PERCENTAGE = "percentage", _("percentage")
        FIXED = "fixed", _("fixed amount per unit")

    name = models.CharField(_("name"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    priority = models.IntegerField(_("priority"), default=0, help_text=_("Wins ties."))
    customers = models.ManyToManyField(
        Customer, blank=True, related_name="campaigns", verbose_name=_("dealers")
    )
    scope = models.CharField(
        _("scope"), max_length=16, choices=Scope.choices, default=Scope.EVERYTHING
    )
    categories = models.ManyToManyField(
        Category, blank=True, related_name="campaigns", verbose_name=_("categories")
    )
    brands = models.ManyToManyField(
        Brand, blank=True, related_name="campaigns", verbose_name=_("brands")
    )
    products = models.ManyToManyField(
        Product, blank=True, related_name="campaigns", verbose_name=_("products")
    )
    min_quantity = models.PositiveIntegerField(
        _("from quantity"), default=1, validators=[MinValueValidator(1)]
    )
    discount_type = models.CharField(
        _("discount type"), max_length=16, choices=DiscountType.choices
    )
    discount_value = models.DecimalField(
        _("discount"),
        max_digits=14,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Percent (0-100) or TRY per unit."),
    )
    applies_to_special_prices = models.BooleanField(_("applies to special prices"), default=False)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-priority", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(discount_value__gte=0), name="campaigns_discount_gte_0"
            ),
            models.CheckConstraint(
                condition=~Q(discount_type="percentage") | Q(discount_value__lte=100),
                name="campaigns_percentage_lte_100",
            ),
        ]

    def __str__(self) -> str:
        return self.name


def banner_image_path(instance: Banner, filename: str) -> str:
    return f"banners/{filename}"


def banner_link_safe(url: str) -> bool:
    """A banner's link: none, a page of ours (``/portal/...``, not ``//host`` nor ``/\\host``,
    which browsers read as another site) or a web address; never ``javascript:``."""
    if not url:
        return True
    if url.startswith("/"):
        return not url.startswith(("//", "/\\"))
    return url.lower().startswith(("https://", "http://"))


class Banner(AudienceMixin, AuditedModel):
    title = models.CharField(_("title"), max_length=150)
    image = models.ImageField(_("image"), upload_to=banner_image_path, max_length=255)
    link_url = models.CharField(_("link"), max_length=500, blank=True)
    placement = models.CharField(_("placement"), max_length=50, default="home")
    sort_order = models.IntegerField(_("sort order"), default=0)
    customers = models.ManyToManyField(
        Customer, blank=True, related_name="banners", verbose_name=_("dealers")
    )

    class Meta:
        verbose_name = _("banner")
        verbose_name_plural = _("banners")
        ordering = ["placement", "sort_order", "id"]

    def __str__(self) -> str:
        return self.title


class Collection(AudienceMixin, AuditedModel):
    name = models.CharField(_("name"), max_length=150)
    slug = models.SlugField(_("slug"), max_length=160, unique=True)
    description = models.TextField(_("description"), blank=True)
    sort_order = models.IntegerField(_("sort order"), default=0)
    customers = models.ManyToManyField(
        Customer, blank=True, related_name="collections", verbose_name=_("dealers")
    )
    products = models.ManyToManyField(
        Product,
        through="CollectionItem",
        related_name="collections",
        blank=True,
        verbose_name=_("products"),
    )

    class Meta:
        verbose_name = _("collection")
        verbose_name_plural = _("collections")
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class CollectionItem(models.Model):
    collection = models.ForeignKey(
        Collection, on_delete=models.CASCADE, related_name="items", verbose_name=_("collection")
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="+", verbose_name=_("product")
    )
    sort_order = models.IntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("collection item")
        verbose_name_plural = _("collection items")
        ordering = ["sort_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "product"], name="campaigns_collection_unique_product"
            )
        ]

    def __str__(self) -> str:
        return related_label(self, "product", "sku")


auditlog.register(Campaign, m2m_fields={"customers", "categories", "brands", "products"})
auditlog.register(Banner)
auditlog.register(Collection)
