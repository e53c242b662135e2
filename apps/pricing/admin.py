"""The back office of pricing: price lists and their quantity breaks, dealer special prices, the
price history, and CSV / Excel import and export of prices.

Every price write goes through ``apps.pricing.services`` (``price_set``, ``price_update``,
``price_delete`` and the special-price twins), so each change leaves a ``PriceChange`` row (who,
when, old, new, from where). Inline rows are saved by their formset through the services. A
dealer's special prices are a paginated, filterable list of their own (the customer page links to
it, filtered by the dealer), not an inline. Only holders of ``pricing.change_price`` /
``pricing.change_specialprice`` (Sales Manager, Super Admin) change prices.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX

from apps.accounts.admin.common import AuditHistoryMixin
from apps.accounts.admin.customers import customer_admin_link_add
from apps.accounts.admin.scoping import DealerScopedAdminMixin
from apps.catalog.models import Product
from apps.core.admin_mixins import DealerColumn, NamedRelationsMixin
from apps.core.exceptions import DomainError
from apps.core.exports import SpreadsheetImportMixin
from apps.core.money import money_text
from apps.pricing.models import LIST_CODE, Price, PriceChange, PriceList, SpecialPrice
from apps.pricing.resources import PriceResource
from apps.pricing.services import (
    price_break_validate,
    price_delete,
    price_set,
    price_update,
    special_price_delete,
    special_price_set,
    special_price_update,
)

INLINE_ROW_LIMIT = 50  # rows of an inline per page (the rest: the search box or the lists)
BREAK_FIELDS = ("product", "min_quantity", "amount", "valid_from", "valid_to")
SYSTEM_LISTS = {LIST_CODE, "A", "B", "C"}


# --- forms and formsets ---------------------------------------------------------------------------


class PriceBreakForm(forms.ModelForm):
    """A quantity break, checked by the same rules the services apply."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("product")
        product_id = getattr(self.instance, "product_id", None)
        if field is not None and product_id is not None:
            # a soft-deleted product is still priced (the ERP keeps its prices in step): its
            # rows keep their product, or the page they are on could not be saved at all
            field.queryset = Product.all_objects.filter(
                Q(pk__in=field.queryset.values("pk")) | Q(pk=product_id)
            )

    def clean(self):
        cleaned = super().clean()
        if any(name in self.errors for name in ("min_quantity", "amount")):
            return cleaned
        if cleaned.get("DELETE") or cleaned.get("amount") is None:
            return cleaned
        try:
            price_break_validate(
                min_quantity=cleaned.get("min_quantity"),
                amount=cleaned.get("amount"),
                valid_from=cleaned.get("valid_from"),
                valid_to=cleaned.get("valid_to"),
            )
        except DomainError as exc:
            for field, messages in exc.errors.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
        return cleaned


class ServiceSavedFormSet(forms.BaseInlineFormSet):
    """Inline quantity breaks saved through the pricing services (so with history).

    ``by`` (who saves) and ``sku`` (a filter of the rows shown) are set per request by the
    inline's ``get_formset``. At most ``INLINE_ROW_LIMIT`` rows are shown and posted. A page
    posted without this inline's management form (a screen older than the inline) changes none
    of its rows instead of failing the whole page.
    """

    by = None
    sku = ""

    def __init__(self, *args, **kwargs):
        data = kwargs.get("data")
        if data is not None:
            prefix = kwargs.get("prefix") or self.get_default_prefix()
            if f"{prefix}-TOTAL_FORMS" not in data:
                data = data.copy()
                for name in ("TOTAL_FORMS", "INITIAL_FORMS"):
                    data[f"{prefix}-{name}"] = "0"
                kwargs["data"] = data
        super().__init__(*args, **kwargs)
        rows = self.queryset
        if self.sku:
            rows = rows.filter(product__sku__icontains=self.sku)
        shown = rows.order_by("product__sku", "min_quantity").values("pk")[:INLINE_ROW_LIMIT]
        self.queryset = (
            self.queryset.filter(pk__in=shown)
            .select_related(self.fk.name, "product")  # for the rows' labels
            .order_by("product__sku", "min_quantity")
        )

    def break_values(self, row) -> dict:
        return {name: getattr(row, name) for name in BREAK_FIELDS}

    def save_new(self, form, commit=True):
        setattr(form.instance, self.fk.name, self.instance)
        if not commit:
            return super().save_new(form, commit=False)
        saved = self.write_new(form.instance)
        form.instance.pk = saved.pk
        return saved

    def save_existing(self, form, obj, commit=True):
        if not commit:
            return super().save_existing(form, obj, commit=False)
        return self.write_existing(obj)

    def delete_existing(self, obj, commit=True):
        if commit:
            self.write_delete(obj)

    def write_new(self, row):
        raise NotImplementedError

    def write_existing(self, row):
        raise NotImplementedError

    def write_delete(self, row):
        raise NotImplementedError


class PriceFormSet(ServiceSavedFormSet):
    def write_new(self, row):
        return price_set(price_list=self.instance, by=self.by, **self.break_values(row))

    def write_existing(self, row):
        return price_update(price=row, by=self.by, **self.break_values(row))

    def write_delete(self, row):
        price_delete(price=row, by=self.by)


class BreakInlineMixin:
    form = PriceBreakForm
    fields = BREAK_FIELDS
    autocomplete_fields = ("product",)
    extra = 1
    show_change_link = False

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        attrs = {"by": request.user, "sku": request.GET.get("sku", "").strip()[:64]}
        return type(formset.__name__, (formset,), attrs)


class PriceInline(BreakInlineMixin, admin.TabularInline):
    model = Price
    formset = PriceFormSet
    verbose_name = _("price (quantity break)")
    verbose_name_plural = format_lazy(
        _("prices (the first {n} by SKU; search by SKU above the form)"), n=INLINE_ROW_LIMIT
    )


def special_prices_link(request, customer) -> tuple[str, str] | None:
    """The customer page's link to the dealer's special prices: the list filtered by them."""
    special_admin = admin.site._registry.get(SpecialPrice)
    if special_admin is None or not special_admin.has_view_permission(request):
        return None
    count = SpecialPrice.objects.filter(customer=customer).count()
    label = gettext("Special prices (%(count)d)") % {"count": count}
    url = reverse("admin:pricing_specialprice_changelist")
    return label, f"{url}?{urlencode({'customer__id__exact': customer.pk})}"


customer_admin_link_add(special_prices_link)


# --- list filters -------------------------------------------------------------------------------


class DealerFilter(admin.RelatedOnlyFieldListFilter):
    """The dealers of the rows the staff member sees. Applied even when it lists one dealer or
    none (Django drops a filter without choices, and with it the customer page's
    ``?customer__id__exact=`` link: another dealer's rows would show)."""

    def has_output(self) -> bool:
        return True


class ValidityFilter(admin.SimpleListFilter):
    title = _("validity")
    parameter_name = "validity"

    def lookups(self, request, model_admin):
        return (
            ("now", _("valid now")),
            ("scheduled", _("starts later")),
            ("expired", _("expired")),
        )

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "now":
            return queryset.valid_at(now)
        if self.value() == "scheduled":
            return queryset.filter(valid_from__gt=now)
        if self.value() == "expired":
            return queryset.filter(valid_to__lte=now)
        return queryset


# --- price lists ----------------------------------------------------------------------------------


@admin.register(PriceList)
class PriceListAdmin(AuditHistoryMixin, admin.ModelAdmin):
    """A price list and its quantity breaks. Holders of ``pricing.change_price`` edit the
    breaks here even when they may not rename the list itself."""

    list_display = ("code", "name", "is_active", "price_count")
    search_fields = ("code", "name")
    inlines = (PriceInline,)
    change_form_template = "admin/pricing/pricelist/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(prices_total=Count("prices"))

    @admin.display(description=_("prices"), ordering="prices_total")
    def price_count(self, obj: PriceList) -> int:
        return obj.prices_total

    def _may_edit_list(self, request) -> bool:
        return request.user.has_perm("pricing.change_pricelist")

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) or request.user.has_perm(
            "pricing.change_price"
        )

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.code in SYSTEM_LISTS:
            return False  # the engine needs LIST and the tier lists
        return super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        record = tuple(super().get_readonly_fields(request, obj))  # the audit fields
        if obj is not None and not self._may_edit_list(request):
            return ("code", "name", "is_active", *record)
        if obj is not None and obj.code in SYSTEM_LISTS:
            return ("code", *record)
        return record

    def save_model(self, request, obj, form, change):
        if not change or self._may_edit_list(request):
            super().save_model(request, obj, form, change)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "sku_filter": request.GET.get("sku", ""),
            "row_limit": INLINE_ROW_LIMIT,
        }
        return super().change_view(request, object_id, form_url, extra_context)


# --- prices -------------------------------------------------------------------------------------


class PriceAdminForm(PriceBreakForm):
    class Meta:
        model = Price
        fields = ("price_list", *BREAK_FIELDS)


@admin.register(Price)
class PriceAdmin(
    NamedRelationsMixin, AuditHistoryMixin, SpreadsheetImportMixin, ImportExportModelAdmin
):
    form = PriceAdminForm
    resource_classes = [PriceResource]
    formats = [CSV, XLSX]
    list_display = (
        "sku",
        "product_name",
        "price_list",
        "min_quantity",
        "amount",
        "valid_from",
        "valid_to",
        "updated_at",
    )
    list_display_links = ("sku",)
    list_editable = ("amount",)
    list_filter = ("price_list", ValidityFilter)
    list_select_related = ("product", "price_list")
    search_fields = ("product__sku", "product__name")
    search_help_text = _("SKU or product name.")
    autocomplete_fields = ("product",)
    ordering = ("product__sku", "price_list__code", "min_quantity")
    readonly_fields = ("history",)
    show_full_result_count = False

    def get_fields(self, request, obj=None):
        fields = ["price_list", *BREAK_FIELDS]
        return [*fields, "history"] if obj is not None else fields

    @admin.display(description=_("SKU"), ordering="product__sku")
    def sku(self, obj: Price) -> str:
        return obj.product.sku

    @admin.display(description=_("product"), ordering="product__name")
    def product_name(self, obj: Price) -> str:
        return obj.product.name

    @admin.display(description=_("history"))
    def history(self, obj: Price):
        changes = PriceChange.objects.filter(
            product_id=obj.product_id, price_list_id=obj.price_list_id
        ).select_related("changed_by")[:20]
        return _history_table(changes) if obj.pk else "-"

    def has_import_permission(self, request) -> bool:
        user = request.user
        return user.has_perm("pricing.add_price") and user.has_perm("pricing.change_price")

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm("pricing.view_price")

    def save_model(self, request, obj: Price, form, change):
        values = {name: getattr(obj, name) for name in BREAK_FIELDS}
        if change:
            saved = price_update(price=obj, price_list=obj.price_list, by=request.user, **values)
        else:
            saved = price_set(price_list=obj.price_list, by=request.user, **values)
        obj.pk = saved.pk

    def delete_model(self, request, obj: Price):
        price_delete(price=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for price in queryset:
            price_delete(price=price, by=request.user)


# --- special prices -------------------------------------------------------------------------------


class SpecialPriceAdminForm(PriceBreakForm):
    class Meta:
        model = SpecialPrice
        fields = ("customer", *BREAK_FIELDS)


@admin.register(SpecialPrice)
class SpecialPriceAdmin(
    NamedRelationsMixin, DealerScopedAdminMixin, DealerColumn, AuditHistoryMixin, admin.ModelAdmin
):
    """Dealer special prices; a sales manager sees those of the dealers assigned to them. The
    customer page links here filtered by its dealer (``?customer__id__exact=``), the product
    page by its product (``?product__id__exact=``)."""

    dealer_scope = "customer"

    form = SpecialPriceAdminForm
    list_display = (
        "dealer",
        "sku",
        "product_name",
        "min_quantity",
        "unit_price",
        "valid_from",
        "valid_to",
    )
    list_display_links = ("dealer", "sku")
    list_filter = (
        ("customer", DealerFilter),
        ValidityFilter,
        "customer__tier",
    )
    list_per_page = 50
    show_full_result_count = False
    list_select_related = ("customer", "product")
    search_fields = ("customer__code", "customer__name", "product__sku", "product__name")
    search_help_text = _("Customer code or name, SKU or product name.")
    autocomplete_fields = ("customer", "product")
    ordering = ("customer__code", "product__sku", "min_quantity")
    readonly_fields = ("history",)

    def get_fields(self, request, obj=None):
        fields = ["customer", *BREAK_FIELDS]
        return [*fields, "history"] if obj is not None else fields

    @admin.display(description=_("SKU"), ordering="product__sku")
    def sku(self, obj: SpecialPrice) -> str:
        return obj.product.sku

    @admin.display(description=_("product"), ordering="product__name")
    def product_name(self, obj: SpecialPrice) -> str:
        return obj.product.name

    @admin.display(description=_("unit price (net)"), ordering="amount")
    def unit_price(self, obj: SpecialPrice) -> str:
        return money_text(obj.amount)

    @admin.display(description=_("history"))
    def history(self, obj: SpecialPrice):
        changes = PriceChange.objects.filter(
            product_id=obj.product_id, customer_id=obj.customer_id
        ).select_related("changed_by")[:20]
        return _history_table(changes) if obj.pk else "-"

    def save_model(self, request, obj: SpecialPrice, form, change):
        values = {name: getattr(obj, name) for name in BREAK_FIELDS}
        if change:
            saved = special_price_update(
                special_price=obj, customer=obj.customer, by=request.user, **values
            )
        else:
            saved = special_price_set(customer=obj.customer, by=request.user, **values)
        obj.pk = saved.pk

    def delete_model(self, request, obj: SpecialPrice):
        special_price_delete(special_price=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for special in queryset:
            special_price_delete(special_price=special, by=request.user)


# --- history --------------------------------------------------------------------------------------


def _history_table(changes):
    rows = [
        (
            timezone.localtime(c.changed_at).strftime("%Y-%m-%d %H:%M"),
            c.min_quantity,
            "-" if c.old_amount is None else c.old_amount,
            "-" if c.new_amount is None else c.new_amount,
            c.get_source_display(),
            c.changed_by or "-",
        )
        for c in changes
    ]
    if not rows:
        return gettext("No changes recorded yet.")
    header = format_html(
        "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        gettext("when"),
        gettext("from quantity"),
        gettext("old"),
        gettext("new"),
        gettext("source"),
        gettext("by"),
    )
    body = format_html_join(
        "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows
    )
    return format_html("<table>{}{}</table>", header, body)


@admin.register(PriceChange)
class PriceChangeAdmin(DealerScopedAdminMixin, admin.ModelAdmin):
    """The price history, read only: every change of a price or a special price (those of
    special prices: of the dealers the staff member sees)."""

    dealer_scope = "customer"
    dealer_scope_shared_when_null = True  # a list price's history belongs to no dealer

    list_display = (
        "changed_at",
        "sku",
        "target",
        "min_quantity",
        "old_amount",
        "new_amount",
        "change",
        "source",
        "reference",
        "changed_by",
    )
    list_filter = ("source", "price_list", ("changed_by", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("product", "price_list", "customer", "changed_by")
    search_fields = ("product__sku", "customer__code", "reference")
    search_help_text = _("SKU, customer code or reference (e.g. an import file).")
    date_hierarchy = "changed_at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("SKU"), ordering="product__sku")
    def sku(self, obj: PriceChange) -> str:
        return obj.product.sku

    @admin.display(description=_("list or dealer"))
    def target(self, obj: PriceChange):
        if obj.customer_id:
            url = reverse("admin:accounts_customer_change", args=[obj.customer_id])
            return format_html('<a href="{}">{}</a>', url, obj.customer.code)
        return obj.price_list.code if obj.price_list_id else "-"

    @admin.display(description=_("change"))
    def change(self, obj: PriceChange) -> str:
        if obj.old_amount is None:
            return gettext("new")
        if obj.new_amount is None:
            return gettext("deleted")
        delta = obj.new_amount - obj.old_amount
        if obj.old_amount:
            return f"{delta:+.4f} ({delta / obj.old_amount * 100:+.1f}%)"
        return f"{delta:+.4f}"
