"""CSV / Excel import and export of list prices (django-import-export).

Columns: ``sku, price_list, min_quantity, amount, valid_from, valid_to`` (export adds
``product_name``, ignored on import). A row is keyed by SKU + price list code + min_quantity
(an empty ``min_quantity`` is 1) and saved through ``apps.pricing.services.price_upsert``, so
every change is in the price history (source ``admin``, reference ``import <file name>``); a row
equal to the stored one is skipped and writes nothing. Dates are ``YYYY-MM-DD HH:MM[:SS]`` or
ISO 8601, in Europe/Istanbul unless they carry an offset; amounts take a dot or a comma.

Each row is validated on its own and a bad row is reported (row number, column, message) by
import-export; nothing is imported until the whole file is clean, and no row makes a 500.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from import_export import fields, widgets

from apps.catalog.models import Product
from apps.core.exceptions import DomainError
from apps.core.exports import SafeExportResource
from apps.core.text import PLAIN_DECIMAL
from apps.pricing.models import Price, PriceChange, PriceList
from apps.pricing.services import price_break_validate, price_upsert

COLUMNS = ("sku", "price_list", "min_quantity", "amount", "valid_from", "valid_to")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():  # Excel turned a code into a number
        value = int(value)
    # composed, as the feeds, the forms and the product import take a SKU
    return unicodedata.normalize("NFC", str(value).strip())


def _field_errors(exc: DomainError) -> dict[str, list[str]]:
    return {field: [str(m) for m in messages] for field, messages in exc.errors.items()}


class ProductSkuWidget(widgets.Widget):
    """A product by SKU, from the SKUs of the file loaded once (``preload``)."""

    def __init__(self):
        super().__init__()
        self.products: dict[str, Product] = {}

    def preload(self, skus) -> None:
        wanted = {_text(sku) for sku in skus} - set(self.products) - {""}
        for product in Product.objects.filter(sku__in=wanted):
            self.products[product.sku] = product

    def clean(self, value, row=None, **kwargs):
        sku = _text(value)
        if not sku:
            raise ValueError(_("Every row needs a SKU."))
        if sku not in self.products:
            self.preload([sku])
        if sku not in self.products:
            raise ValueError(_("No product with the SKU “%(sku)s”.") % {"sku": sku})
        return self.products[sku]

    def render(self, value, obj=None, **kwargs):
        return value.sku if value is not None else ""


class PriceListCodeWidget(widgets.Widget):
    def __init__(self):
        super().__init__()
        self._lists: dict[str, PriceList] | None = None

    def clean(self, value, row=None, **kwargs):
        if self._lists is None:
            self._lists = {p.code.upper(): p for p in PriceList.objects.all()}
        code = _text(value).upper()
        if code not in self._lists:
            known = ", ".join(sorted(self._lists))
            raise ValueError(
                _("No price list “%(code)s” (there are: %(known)s).")
                % {"code": code, "known": known}
            )
        return self._lists[code]

    def render(self, value, obj=None, **kwargs):
        return value.code if value is not None else ""


class QuantityWidget(widgets.Widget):
    """A whole number of at least 1 (Excel's 10.0 is 10); empty is 1."""

    def clean(self, value, row=None, **kwargs):
        text = _text(value)
        if not text:
            return 1
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise ValueError(_("Enter a whole number of at least 1.")) from exc
        if not number.is_finite() or number != number.to_integral_value() or number < 1:
            raise ValueError(_("Enter a whole number of at least 1."))
        if number > 2_147_483_647:
            raise ValueError(_("The number is too large."))
        return int(number)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class AmountWidget(widgets.Widget):
    """A unit price: ``12.5``, ``12,5000``; checked (>= 0, 4 places) by the service."""

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = repr(value)
        text = _text(value).replace(" ", "")
        if not text:
            raise ValueError(_("Every row needs an amount."))
        if "," in text and "." not in text:
            text = text.replace(",", ".")
        # digits and a point as the API's amounts: Decimal() also reads 1e25, 1_000 and other
        # scripts' digits (١٢٣)
        if not PLAIN_DECIMAL.fullmatch(text):
            raise ValueError(_("Enter the unit price as a number, e.g. 12.5000."))
        try:
            amount = Decimal(text)
        except InvalidOperation as exc:
            raise ValueError(_("Enter the unit price as a number, e.g. 12.5000.")) from exc
        return amount

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else f"{value:.4f}"


class LenientDateTimeWidget(widgets.DateTimeWidget):
    """``2026-01-31 08:00``, ``2026-01-31`` (midnight) or ISO 8601 with an offset; naive times
    are Europe/Istanbul (the admin's time zone)."""

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return None
            try:
                moment = parse_datetime(text)
                day = None if moment else parse_date(text)
            except ValueError:
                moment = day = None
            if day is not None:
                moment = datetime(day.year, day.month, day.day)
            if moment is not None:
                return timezone.make_aware(moment) if timezone.is_naive(moment) else moment
        try:
            return super().clean(value, row=row, **kwargs)
        except ValueError as exc:
            raise ValueError(_("Write a date and time like 2026-01-31 08:00.")) from exc


class PriceResource(SafeExportResource):
    sku = fields.Field(attribute="product", column_name="sku", widget=ProductSkuWidget())
    price_list = fields.Field(
        attribute="price_list", column_name="price_list", widget=PriceListCodeWidget()
    )
    min_quantity = fields.Field(
        attribute="min_quantity", column_name="min_quantity", widget=QuantityWidget()
    )
    amount = fields.Field(attribute="amount", column_name="amount", widget=AmountWidget())
    valid_from = fields.Field(
        attribute="valid_from", column_name="valid_from", widget=LenientDateTimeWidget()
    )
    valid_to = fields.Field(
        attribute="valid_to", column_name="valid_to", widget=LenientDateTimeWidget()
    )
    product_name = fields.Field(
        attribute="product__name", column_name="product_name", readonly=True
    )

    class Meta:
        model = Price
        fields = (*COLUMNS, "product_name")
        import_order = COLUMNS
        export_order = (*COLUMNS, "product_name")
        import_id_fields = ("sku", "price_list", "min_quantity")
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.user = None
        self.reference = ""
        self._stored: dict[tuple[int, int, int], Price] = {}

    def get_queryset(self):
        return Price.objects.select_related("product", "price_list")

    def export(self, queryset=None, **kwargs):
        if queryset is None:
            queryset = self.get_queryset()
        queryset = queryset.select_related("product", "price_list").order_by(
            "product__sku", "price_list__code", "min_quantity"
        )
        return super().export(queryset=queryset, **kwargs)

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)  # the key columns are there
        self.user = kwargs.get("user")
        file_name = kwargs.get("file_name") or ""
        self.reference = f"import {file_name}".strip()[:100]
        # the products of the file and their stored prices: two queries for the whole file
        if "sku" in (dataset.headers or []):
            sku_widget = self.fields["sku"].widget
            sku_widget.preload(dataset["sku"])
            products = list(sku_widget.products.values())
            for price in Price.objects.filter(product__in=products).select_related(
                "product", "price_list"
            ):
                self._stored[(price.price_list_id, price.product_id, price.min_quantity)] = price

    def get_instance(self, instance_loader, row):
        try:
            product = self.fields["sku"].clean(row)
            price_list = self.fields["price_list"].clean(row)
            min_quantity = self.fields["min_quantity"].clean(row)
        except (KeyError, ValueError):
            return None  # a new row; import_instance reports the bad cells as field errors
        return self._stored.get((price_list.pk, product.pk, min_quantity))

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """The service's own checks, as row errors; the key is the upsert's, never a clash."""
        errors = dict(import_validation_errors or {})
        if not errors:
            try:
                price_break_validate(
                    min_quantity=instance.min_quantity,
                    amount=instance.amount,
                    valid_from=instance.valid_from,
                    valid_to=instance.valid_to,
                )
            except DomainError as exc:
                errors.update(_field_errors(exc))
        if errors:
            raise DjangoValidationError(errors)

    def do_instance_save(self, instance, is_create):
        try:
            price, _outcome = price_upsert(
                price_list=instance.price_list,
                product=instance.product,
                min_quantity=instance.min_quantity,
                amount=instance.amount,
                valid_from=instance.valid_from,
                valid_to=instance.valid_to,
                by=self.user,
                source=PriceChange.Source.ADMIN,
                reference=self.reference,
            )
        except DomainError as exc:
            raise DjangoValidationError(_field_errors(exc)) from exc
        instance.pk = price.pk
        self._stored[(price.price_list_id, price.product_id, price.min_quantity)] = price
