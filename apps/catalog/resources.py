"""CSV / Excel import and export of products (django-import-export), keyed by SKU.

Columns: ``sku, name, description, brand, category, unit, vat_rate, min_order_quantity,
order_multiple, barcodes, attributes, is_active, serial_tracked``.

* ``brand`` is the brand's name; an unknown name creates the brand (like the ERP feed).
* ``category`` is the path of names from the root, ``"Lighting > LED > Panels"``; missing
  levels are created through ``category_get_or_create_path``.
* ``barcodes`` are separated by commas; ``attributes`` is a JSON object checked against the
  category's attribute definitions.
* An empty ``is_active`` / ``serial_tracked`` / ``vat_rate`` ... cell keeps the current value
  (the default for a new product).

Each row is validated on its own: a bad row is reported by import-export (row number, column
and message) and never turns into a server error. A deleted product whose SKU is imported again
comes back.
"""

from __future__ import annotations

import json
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from import_export import fields, widgets
from import_export.instance_loaders import CachedInstanceLoader

from apps.catalog.cache import catalog_cache_bump
from apps.catalog.models import PATH_STEP, Brand, Category, Product
from apps.catalog.names import name_is
from apps.catalog.services.admin_products import product_prepare, product_save
from apps.catalog.services.categories import SEPARATOR, category_get_or_create_path
from apps.core.api.parsers import json_body_loads
from apps.core.exceptions import DomainError
from apps.core.exports import SafeExportResource, restore_cell
from apps.core.text import check_text, control_problem

COLUMNS = (
    "sku",
    "name",
    "description",
    "brand",
    "category",
    "unit",
    "vat_rate",
    "min_order_quantity",
    "order_multiple",
    "barcodes",
    "attributes",
    "is_active",
    "serial_tracked",
)


def _domain_words(exc: DomainError) -> str:
    words = [str(m) for msgs in exc.errors.values() for m in (msgs or [])]
    return " ".join(words) or str(exc.detail)


def category_path_text(category: Category, names_by_path: dict[str, str] | None = None) -> str:
    """``"Lighting > LED > Panels"`` for a category (ancestors from their path prefixes)."""
    prefixes = [category.path[:end] for end in range(PATH_STEP, len(category.path) + 1, PATH_STEP)]
    if names_by_path is None:
        names_by_path = dict(Category.objects.filter(path__in=prefixes).values_list("path", "name"))
    return f" {SEPARATOR} ".join(names_by_path.get(prefix, "?") for prefix in prefixes)


def brand_get_or_create(name: str) -> Brand:
    """The brand of this name (case-insensitive), created when missing."""
    name = " ".join(name.split())
    if len(name) > 150:
        raise DomainError(errors={"brand": [_("A brand name has at most 150 characters.")]})
    try:  # as the brand form says of a name typed there
        check_text(name, single_line=True)
    except ValueError as exc:
        raise DomainError(errors={"brand": [str(exc)]}) from exc
    brand = Brand.objects.filter(name_is(name)).first()
    if brand is not None:
        return brand
    base = slugify(name.replace("ı", "i").replace("İ", "I"))[:170] or "brand"
    slug, n = base, 1
    while Brand.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    with transaction.atomic():
        brand = Brand.objects.create(name=name, slug=slug)
    catalog_cache_bump()
    return brand


class BrandNameWidget(widgets.Widget):
    """A brand by name; unknown names create the brand."""

    def __init__(self):
        super().__init__()
        self._cache: dict[str, Brand] = {}

    def clean(self, value, row=None, **kwargs):
        name = "" if value is None else " ".join(str(value).split())
        if not name:
            return None
        key = name.casefold()
        if key not in self._cache:
            try:
                self._cache[key] = brand_get_or_create(name)
            except DomainError as exc:
                raise ValueError(_domain_words(exc)) from exc
        return self._cache[key]

    def render(self, value, obj=None, **kwargs):
        return value.name if value is not None else ""


class CategoryPathWidget(widgets.Widget):
    """A category by its path of names, ``"A > B > C"``; missing levels are created."""

    def __init__(self):
        super().__init__()
        self._cache: dict[str, Category] = {}
        self._names: dict[str, str] | None = None

    def clean(self, value, row=None, **kwargs):
        text = "" if value is None else str(value).strip()
        if not text:
            raise ValueError(_('A product needs a category, like "Lighting > LED > Panels".'))
        key = " > ".join(part.strip().casefold() for part in text.split(SEPARATOR))
        if key not in self._cache:
            try:
                self._cache[key] = category_get_or_create_path(text)
            except DomainError as exc:
                raise ValueError(_domain_words(exc)) from exc
        return self._cache[key]

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        if self._names is None:  # the whole tree once per export, not a query per row
            self._names = dict(Category.objects.values_list("path", "name"))
        return category_path_text(value, self._names)


class BarcodesWidget(widgets.Widget):
    """Barcodes separated by commas (semicolons and spaces work too)."""

    def clean(self, value, row=None, **kwargs):
        if value is None:
            return []
        if isinstance(value, float) and value.is_integer():  # Excel turned a barcode into a number
            value = int(value)
        return [code for code in re.split(r"[,;|\s]+", str(value).strip()) if code]

    def render(self, value, obj=None, **kwargs):
        return ", ".join(value or [])


class JSONObjectWidget(widgets.Widget):
    """A JSON object in one cell, e.g. ``{"power_w": 40, "ip_rating": "IP44"}``."""

    def clean(self, value, row=None, **kwargs):
        if value is None or (isinstance(value, str) and not value.strip()):
            return {}
        if isinstance(value, dict):
            return value
        try:
            data = json_body_loads(str(value))  # nesting, NaN, duplicate keys refused
        except (ValueError, RecursionError) as exc:
            raise ValueError(
                _('Write the attributes as a JSON object, e.g. {"power_w": 40}.')
            ) from exc
        if not isinstance(data, dict):
            raise ValueError(_('Write the attributes as a JSON object, e.g. {"power_w": 40}.'))
        return data

    def render(self, value, obj=None, **kwargs):
        return json.dumps(value or {}, ensure_ascii=False, sort_keys=True)


class StrictBooleanWidget(widgets.Widget):
    """Yes/no: 1/0, true/false, yes/no, evet/hayır; an empty cell gives None (kept as is)."""

    TRUE = {"1", "true", "yes", "y", "evet", "e", "x"}
    FALSE = {"0", "false", "no", "n", "hayır", "hayir", "h"}

    def clean(self, value, row=None, **kwargs):
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            value = str(int(value)) if float(value).is_integer() else str(value)
        text = str(value).strip().casefold()
        if text in ("", "none", "null"):
            return None
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(_("Write 1 or 0 (yes or no)."))

    def render(self, value, obj=None, **kwargs):
        return "1" if value else "0"


class WholeNumberWidget(widgets.Widget):
    """A whole number (Excel's 20.0 is 20); empty gives None (kept as is)."""

    def clean(self, value, row=None, **kwargs):
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            number = Decimal(str(value).strip())
        except (InvalidOperation, ValueError) as exc:
            raise ValueError(_("Must be a whole number.")) from exc
        if not number.is_finite() or number != number.to_integral_value():
            raise ValueError(_("Must be a whole number."))
        if abs(number) > 2**31 - 1:
            raise ValueError(_("The number is too large."))
        return int(number)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class TextWidget(widgets.CharWidget):
    """A text cell, trimmed; unless not ``checked``, no control character (in a one-line cell
    no tab or line break either), as the admin's forms and the API refuse them."""

    def __init__(self, *, multiline: bool = False, checked: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.multiline, self.checked = multiline, checked

    def clean(self, value, row=None, **kwargs):
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():  # a numeric SKU read from Excel
            value = int(value)
        # our own export escaped formula-like text; composed, as the forms and feeds take it
        text = unicodedata.normalize("NFC", restore_cell(str(value).strip()))
        problem = self.checked and control_problem(text, single_line=not self.multiline)
        if problem:
            raise ValueError(problem)
        return text


def _keep_when_empty(attribute: str, widget: widgets.Widget) -> fields.Field:
    return fields.Field(
        attribute=attribute, column_name=attribute, widget=widget, saves_null_values=False
    )


class ProductResource(SafeExportResource):
    # the SKU is checked by the model's ``key_text`` in each row's validation: the instance
    # loader reads every row's SKU first, where a widget's error is no row's error
    sku = fields.Field(attribute="sku", column_name="sku", widget=TextWidget(checked=False))
    name = fields.Field(attribute="name", column_name="name", widget=TextWidget())
    description = fields.Field(
        attribute="description", column_name="description", widget=TextWidget(multiline=True)
    )
    brand = fields.Field(attribute="brand", column_name="brand", widget=BrandNameWidget())
    category = fields.Field(
        attribute="category", column_name="category", widget=CategoryPathWidget()
    )
    unit = _keep_when_empty("unit", widgets.CharWidget())
    vat_rate = _keep_when_empty("vat_rate", WholeNumberWidget())
    min_order_quantity = _keep_when_empty("min_order_quantity", WholeNumberWidget())
    order_multiple = _keep_when_empty("order_multiple", WholeNumberWidget())
    barcodes = fields.Field(attribute="barcodes", column_name="barcodes", widget=BarcodesWidget())
    attributes = fields.Field(
        attribute="attributes", column_name="attributes", widget=JSONObjectWidget()
    )
    is_active = _keep_when_empty("is_active", StrictBooleanWidget())
    serial_tracked = _keep_when_empty("serial_tracked", StrictBooleanWidget())

    class Meta:
        model = Product
        fields = COLUMNS
        import_order = COLUMNS
        export_order = COLUMNS
        import_id_fields = ("sku",)
        instance_loader_class = CachedInstanceLoader  # one query for the SKUs of the file
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        use_transactions = True
        skip_html_diff = False

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.user = None

    # deleted products are found too: their SKU is taken, so importing it brings them back
    def get_queryset(self):
        return Product.all_objects.select_related("brand", "category")

    def export(self, queryset=None, **kwargs):
        if queryset is None:
            queryset = Product.objects.select_related("brand", "category").order_by("sku")
        return super().export(queryset=queryset, **kwargs)

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)  # the key columns are there
        self.user = kwargs.get("user")  # the admin passes who imports

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if original is not None and original.is_deleted:
            return False  # bringing it back is a change
        return super().skip_row(instance, original, row, import_validation_errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors: dict[str, Any] = dict(import_validation_errors or {})
        try:
            super().validate_instance(instance, errors, validate_unique)
        except DjangoValidationError as exc:
            errors = exc.update_error_dict({})
        if "category" not in errors and "attributes" not in errors and instance.category_id:
            try:
                product_prepare(product=instance)
            except DomainError as exc:
                for key, messages in exc.errors.items():
                    field, _dot, code = key.partition(".")
                    target = field if field in COLUMNS else "attributes"
                    words = [f"{code}: {m}" if code else str(m) for m in messages]
                    errors.setdefault(target, []).extend(words)
        if errors:
            raise DjangoValidationError(errors)

    def save_instance(self, instance, is_create, row, **kwargs):
        instance.is_deleted = False
        instance.deleted_at = None
        super().save_instance(instance, is_create, row, **kwargs)

    def do_instance_save(self, instance, is_create):
        # a savepoint per row: a database refusal fails this row, not the whole file
        with transaction.atomic():
            product_save(product=instance, by=self.user)
