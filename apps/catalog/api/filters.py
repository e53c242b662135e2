"""Filters of ``GET products``. Every value is validated: a bad one answers 400 naming the
parameter (DjangoFilterBackend raises the form errors), never a 500 or a silently ignored
filter."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.db.models.fields.json import KeyTransform
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from apps.catalog import selectors
from apps.catalog.hooks import price_filter
from apps.catalog.models import AttributeDefinition, Product
from apps.core.forms import SearchTextField
from apps.core.text import PLAIN_DECIMAL

ATTRIBUTE_PREFIX = "attr_"
ORDERING_CHOICES = [
    ("name", "name"),
    ("-name", "-name"),
    ("-created_at", "-created_at"),
    ("price", "price"),
    ("-price", "-price"),
]


class StrictBooleanField(forms.Field):
    """``true``/``false`` (also ``1``/``0``); anything else is an error, not "no filter"."""

    default_error_messages = {"invalid": _("Must be true or false.")}

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class StrictBooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        # the default BooleanWidget turns anything unknown into "no filter"
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class AttributeValueField(forms.CharField):
    """The value of ``attr_<code>``, checked against the type of the filterable attribute
    definitions with that code; cleans to the JSON values to compare with. Numbers compare as
    numbers, yes/no attributes take ``true``/``false``, choices one of their choices, text
    case-insensitively."""

    def __init__(self, *, definitions: list[AttributeDefinition], **kwargs):
        self.definitions = definitions
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        if not self.definitions:
            raise forms.ValidationError(
                _("Unknown attribute, or not one products can be filtered by."), code="invalid"
            )
        matches: list[tuple[str, Any]] = []
        errors: list[str] = []
        for definition in self.definitions:
            try:
                matches.append(_attribute_match(definition, value))
            except ValueError as exc:
                errors.append(str(exc))
        if not matches:
            raise forms.ValidationError(errors[0], code="invalid")
        unique: list[tuple[str, Any]] = []
        for match in matches:
            if match not in unique:
                unique.append(match)
        return unique


def _attribute_match(definition: AttributeDefinition, raw: str) -> tuple[str, Any]:
    """("exact", json value) or ("iexact", text); ValueError with a message when ``raw`` does
    not fit the definition."""
    kind = definition.type
    if kind == AttributeDefinition.Type.NUMBER:
        # plain digits with a point, as the other number filters: an exponent (``1e1000000``)
        # made ``int()`` build a million-digit number, a worker's CPU for tens of seconds
        text = raw.strip()
        if not PLAIN_DECIMAL.fullmatch(text):
            raise ValueError(_("Must be a number."))
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise ValueError(_("Must be a number.")) from exc
        if number.adjusted() > 15 or (number and number.adjusted() < -15):  # as stored values
            raise ValueError(_("The number is out of range."))
        return "exact", int(number) if number == number.to_integral_value() else float(number)
    if kind == AttributeDefinition.Type.BOOLEAN:
        text = raw.strip().lower()
        if text not in ("true", "false"):
            raise ValueError(_("Must be true or false."))
        return "exact", text == "true"
    if kind == AttributeDefinition.Type.CHOICE:
        for choice in definition.choices or []:
            if str(choice) == raw.strip():
                return "exact", choice
        raise ValueError(
            _("Must be one of: %(choices)s.")
            % {"choices": ", ".join(map(str, definition.choices or []))}
        )
    return "iexact", raw.strip()


class AttributeFilter(filters.Filter):
    field_class = AttributeValueField

    def __init__(self, *, code: str, alias: str, definitions: list[AttributeDefinition], **kwargs):
        self.code = code
        self.alias = alias
        super().__init__(definitions=definitions, **kwargs)

    def filter(self, qs: QuerySet, value):
        if not value:
            return qs
        # the code goes into the SQL as a JSON key parameter, never as a lookup path
        qs = qs.alias(**{self.alias: KeyTransform(self.code, "attributes")})
        condition = Q()
        for kind, json_value in value:
            condition |= Q(
                **{self.alias if kind == "exact" else f"{self.alias}__iexact": json_value}
            )
        return qs.filter(condition)


class ProductFilterForm(forms.Form):
    """Resolves ``category`` and ``brand`` (id or slug) to rows, one query each."""

    def clean_category(self):
        ref = self.cleaned_data.get("category")
        if not ref:
            return None
        category = selectors.category_get_visible(ref=ref)
        if category is None:
            raise forms.ValidationError(_("Unknown category."), code="invalid")
        return category

    def clean_brand(self):
        ref = self.cleaned_data.get("brand")
        if not ref:
            return None
        brand = selectors.brand_get(ref=ref)
        if brand is None:
            raise forms.ValidationError(_("Unknown brand."), code="invalid")
        return brand

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("price_min"), cleaned.get("price_max")
        if low is not None and high is not None and low > high:
            self.add_error("price_max", _("Must not be below the minimum price."))
        return cleaned


@extend_schema_field(
    {
        "type": "string",
        "format": "decimal",
        "pattern": r"^-?\d{1,10}(\.\d{1,4})?$",
    }
)
class MoneyFilter(filters.NumberFilter):
    """An amount of money in a query string: documented as the decimal string money is
    everywhere else in the API, read as a ``Decimal`` of at most 10 digits before the point
    and 4 after it (a price's own bounds)."""

    field_class = forms.DecimalField  # plain digits only (``form_numbers_plain``)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 4)
        kwargs.setdefault("min_value", 0)  # no price is below zero: -5 is a mistake, not "none"
        super().__init__(*args, **kwargs)


class SearchFilter(filters.CharFilter):
    field_class = SearchTextField


def _bounded(filter_class: type[filters.CharFilter], max_length: int, **kwargs):
    """``filter_class(max_length=...)`` whose schema states the bound the server keeps (a
    client generated from the schema sends nothing the server refuses)."""
    schema = {"type": "string", "maxLength": max_length}
    bounded = extend_schema_field(schema)(type(filter_class.__name__, (filter_class,), {}))
    return bounded(max_length=max_length, **kwargs)


class ProductFilter(filters.FilterSet):
    search = _bounded(
        SearchFilter,
        200,
        method="filter_search",
        help_text="Words of the name, SKU (or a fragment of it), brand, barcode or attribute "
        "values; tolerates small typos. Best matches first unless `ordering` is given.",
    )
    category = _bounded(
        filters.CharFilter,
        180,
        method="filter_category",
        help_text="Category id or slug; includes all its sub-categories.",
    )
    brand = _bounded(filters.CharFilter, 180, method="filter_brand", help_text="Brand id or slug.")
    in_stock = StrictBooleanFilter(
        method="filter_in_stock",
        help_text="`true`: only products with available units; `false`: only those without.",
    )
    price_min = MoneyFilter(
        method="filter_price",
        help_text="Lowest unit price (net) at quantity 1, a decimal string (`149.90`): the "
        "dealer's own price as in `price.unit_net` (special, tier or LIST price, with the best "
        "campaign).",
    )
    price_max = MoneyFilter(
        method="filter_price",
        help_text="Highest unit price (net) at quantity 1, a decimal string, as for `price_min`.",
    )
    ordering = filters.ChoiceFilter(
        choices=ORDERING_CHOICES,
        method="filter_ordering",
        help_text="`name` (default), `-name`, `-created_at`, `price`, `-price` (the dealer's "
        "unit price at quantity 1, campaigns included; unpriced products last). "
        "Searching without `ordering` puts the best matches first.",
    )

    class Meta:
        model = Product
        fields: list[str] = []
        form = ProductFilterForm

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        codes = sorted(
            key[len(ATTRIBUTE_PREFIX) :]
            for key in (data or {})
            if key.startswith(ATTRIBUTE_PREFIX)  # ``attr_=`` alone: no such attribute, 400
        )
        if not codes:
            return
        definitions: dict[str, list[AttributeDefinition]] = {code: [] for code in codes}
        for definition in AttributeDefinition.objects.filter(
            code__in=codes, is_filterable=True
        ).order_by("pk"):
            definitions[definition.code].append(definition)
        for index, code in enumerate(codes):
            name = ATTRIBUTE_PREFIX + code
            self.filters[name] = AttributeFilter(
                field_name=name,
                code=code,
                alias=f"_attribute_{index}",
                definitions=definitions[code],
                max_length=200,
            )

    def filter_search(self, queryset, name, value):
        return queryset  # applied last, in filter_queryset: it looks within the other filters

    def filter_category(self, queryset, name, value):
        return selectors.product_in_categories(queryset, category=value)

    def filter_brand(self, queryset, name, value):
        return queryset.filter(brand=value)

    def filter_in_stock(self, queryset, name, value):
        return selectors.product_in_stock(queryset, in_stock=value)

    def filter_price(self, queryset, name, value):
        return queryset  # both bounds at once, in filter_queryset

    def filter_ordering(self, queryset, name, value):
        return queryset  # the page source orders (``selectors.ProductPages``)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        low, high = data.get("price_min"), data.get("price_max")
        customer = getattr(getattr(self.request, "user", None), "customer", None)
        if customer is not None and (low is not None or high is not None):
            queryset = price_filter(queryset, customer=customer, low=low, high=high)
        term = data.get("search")
        if term:
            queryset = selectors.product_search(queryset, term=term)
        return queryset
