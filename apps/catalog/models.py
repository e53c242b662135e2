"""Products, the category tree, brands, attribute definitions and images."""

from __future__ import annotations

from auditlog.registry import auditlog
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.core.models import AuditedModel, SoftDeleteModel, TimeStampedModel
from apps.core.text import sku_text

# Each tree level adds PATH_STEP characters to Category.path, e.g. "0001" > "00010003".
PATH_STEP = 4


class CategoryQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def visible(self):
        """What dealers see: active, and every category above active too."""
        return self.filter(is_visible=True)

    def descendants_of(self, category: Category, *, include_self: bool = True):
        """The subtree below ``category`` in one indexed prefix query."""
        qs = self.filter(path__startswith=category.path)
        return qs if include_self else qs.exclude(pk=category.pk)


class Category(AuditedModel):
    """A node of the category tree, stored as a materialized path.

    ``path`` is the concatenation of fixed-width steps from the root; every descendant's path
    starts with its ancestor's, so "category X with its sub-categories" is one
    ``path LIKE 'X%'`` query on an index.
    """

    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    name = models.CharField(_("name"), max_length=150)
    slug = models.SlugField(_("slug"), max_length=180, unique=True, allow_unicode=False)
    path = models.CharField(_("tree path"), max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), default=1, editable=False)
    sort_order = models.IntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    # derived: active with every ancestor (``category_visibility_refresh`` after each change),
    # so that "in a visible category" stays one join, as cheap as "in an active category"
    is_visible = models.BooleanField(_("visible to dealers"), default=True, editable=False)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="catalog_category_unique_name_per_parent"
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(parent__isnull=True),
                name="catalog_category_unique_root_name",
            ),
        ]
        indexes = [
            models.Index(
                fields=["path"], name="catalog_cat_path_like", opclasses=["varchar_pattern_ops"]
            )
        ]

    def __str__(self) -> str:
        return self.name


class Brand(AuditedModel):
    name = models.CharField(_("name"), max_length=150, unique=True)
    slug = models.SlugField(_("slug"), max_length=180, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AttributeDefinition(AuditedModel):
    """An attribute products of a category (and its sub-categories) carry, e.g. "Power (W)"."""

    class Type(models.TextChoices):
        TEXT = "text", _("text")
        NUMBER = "number", pgettext_lazy("attribute type", "number")
        CHOICE = "choice", _("choice")
        BOOLEAN = "boolean", _("yes/no")

    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.CASCADE,
        related_name="attribute_definitions",
    )
    code = models.SlugField(_("code"), max_length=64, help_text=_("The key in product JSON."))
    name = models.CharField(_("name"), max_length=100)
    type = models.CharField(_("type"), max_length=16, choices=Type.choices, default=Type.TEXT)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    is_required = models.BooleanField(_("required"), default=False)
    is_filterable = models.BooleanField(_("filterable"), default=False)
    sort_order = models.IntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("attribute definition")
        verbose_name_plural = _("attribute definitions")
        ordering = ["category", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "code"], name="catalog_attribute_unique_code_per_category"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Unit(models.TextChoices):
    PIECE = "piece", _("piece")
    BOX = "box", _("box")
    PACK = "pack", _("pack")
    METER = "meter", _("meter")
    SQUARE_METER = "m2", _("square meter")
    KG = "kg", _("kilogram")
    LITER = "liter", _("liter")
    SET = "set", _("set")


class VatRate(models.IntegerChoices):
    ZERO = 0, "0%"
    ONE = 1, "1%"
    TEN = 10, "10%"
    TWENTY = 20, "20%"


class ProductQuerySet(models.QuerySet):
    def visible(self):
        """What dealers may see: active, not deleted, in a visible category (active, and so
        is every category above it)."""
        return self.filter(is_active=True, is_deleted=False, category__is_visible=True)


class ProductManager(models.Manager.from_queryset(ProductQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(is_deleted=False)


class Product(SoftDeleteModel, AuditedModel):
    sku = models.CharField(_("SKU"), max_length=64, unique=True, validators=[sku_text])
    name = models.CharField(_("name"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    brand = models.ForeignKey(
        Brand,
        verbose_name=_("brand"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="products",
    )
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="products"
    )
    unit = models.CharField(_("unit"), max_length=16, choices=Unit.choices, default=Unit.PIECE)
    vat_rate = models.PositiveSmallIntegerField(
        _("VAT rate (%)"), choices=VatRate.choices, default=VatRate.TWENTY
    )
    min_order_quantity = models.PositiveIntegerField(
        _("minimum order quantity"), default=1, validators=[MinValueValidator(1)]
    )
    order_multiple = models.PositiveIntegerField(
        _("order multiple"), default=1, validators=[MinValueValidator(1)]
    )
    barcodes = models.JSONField(_("barcodes"), default=list, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True, db_index=True)
    serial_tracked = models.BooleanField(_("serial-tracked"), default=False)
    # name, sku, brand, barcodes and attribute values in one text: what search looks at
    search_document = models.TextField(_("search text"), editable=False, blank=True, default="")

    objects = ProductManager()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(vat_rate__in=[0, 1, 10, 20]), name="catalog_product_vat_rate_valid"
            ),
            models.CheckConstraint(
                condition=Q(min_order_quantity__gte=1) & Q(order_multiple__gte=1),
                name="catalog_product_quantities_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["category", "is_active"], name="catalog_prod_cat_active"),
            models.Index(fields=["brand", "is_active"], name="catalog_prod_brand_active"),
            models.Index(fields=["-created_at"], name="catalog_prod_created"),
            # the default order of the dealer catalog: a page's ids are read off this index
            # alone (the visibility columns included), however deep the page
            models.Index(
                fields=["name", "id"],
                include=["category", "is_active", "is_deleted"],
                name="catalog_prod_name",
            ),
            # a SKU typed in another case (``lc1d09m7``) found by an index probe
            models.Index(Upper("sku"), name="catalog_prod_sku_upper"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


def product_image_path(instance: ProductImage, filename: str) -> str:
    return f"products/{instance.product.sku}/{filename}"


class ProductImage(TimeStampedModel):
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="images"
    )
    image = models.ImageField(_("image"), upload_to=product_image_path, max_length=255)
    thumbnail = models.ImageField(_("thumbnail"), blank=True, max_length=255, editable=False)
    alt_text = models.CharField(_("alternative text"), max_length=200, blank=True)
    sort_order = models.IntegerField(_("sort order"), default=0)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        verbose_name = _("product image")
        verbose_name_plural = _("product images")
        ordering = ["-is_primary", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product"],
                condition=Q(is_primary=True),
                name="catalog_image_one_primary_per_product",
            )
        ]

    def __str__(self) -> str:
        return self.image.name


auditlog.register(Category)
auditlog.register(Brand)
auditlog.register(AttributeDefinition)
auditlog.register(Product, exclude_fields=["updated_at", "search_document"])
