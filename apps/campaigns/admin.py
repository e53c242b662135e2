"""The back office of marketing: campaigns (discount rules), banners and collections.

Sales Managers run campaigns; Content Managers banners and collections (apps/accounts/roles.py).
Campaign changes reach the price engine at once: its cached campaigns are dropped by the
signals in ``apps.campaigns.signals`` (and by ``campaigns_bump`` for the bulk actions here).

"Preview a price" (on the campaign list and on each campaign) asks ``price_explain`` (the
pricing app's, through the hook in ``apps.campaigns.previews``) what a
dealer pays for a quantity of a product, and why: the base price and each campaign considered.

An audience names dealers: staff see and edit only what names no dealer outside the ones they
see, and a posted dealer outside them is a form error (``DealerScopedAdminMixin``).
"""

from __future__ import annotations

import re

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from apps.accounts.admin.common import AuditHistoryMixin, _domain_message
from apps.accounts.admin.scoping import DealerScopedAdminMixin
from apps.accounts.models import Customer, Tier
from apps.accounts.selectors import customer_list_for_staff
from apps.campaigns.models import (
    Audience,
    Banner,
    Campaign,
    Collection,
    CollectionItem,
    banner_link_safe,
)
from apps.campaigns.previews import price_explain
from apps.campaigns.rules import campaigns_bump
from apps.catalog.models import PATH_STEP, Category, Product
from apps.core.clock import planned_moment_problem
from apps.core.exceptions import DomainError
from apps.core.money import MAX_LINE_QUANTITY, money_text
from apps.core.text import capfirst

PREVIEW_TEMPLATE = "admin/campaigns/campaign/price_preview.html"
WINDOW_AND_AUDIENCE = ("is_active", "starts_at", "ends_at", "audience", "tiers", "customers")


# --- shared form pieces -------------------------------------------------------------------------


class TierField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("choices", Tier.choices)
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("tiers"))
        super().__init__(**kwargs)

    def clean(self, value):
        return sorted(set(super().clean(value)))


class CustomerCodesField(forms.Field):
    """Dealers by code, separated by commas or new lines (no customer permission needed, and
    no list of thousands of dealers). A code outside ``queryset`` (which the admin scopes to the
    dealers the user sees) is unknown."""

    widget = forms.Textarea(attrs={"rows": 2, "cols": 60})

    def __init__(self, *, queryset=None, **kwargs):
        super().__init__(**kwargs)
        self.queryset = queryset if queryset is not None else Customer.objects.all()

    def prepare_value(self, value):
        if value is None or isinstance(value, str):
            return value or ""
        items = list(value)
        if items and not isinstance(items[0], Customer):
            items = list(Customer.objects.filter(pk__in=items))
        return ", ".join(sorted(customer.code for customer in items))

    def to_python(self, value):
        codes = list(dict.fromkeys(c for c in re.split(r"[\s,;]+", value or "") if c))
        if not codes:
            return []
        found = {c.code: c for c in self.queryset.filter(code__in=codes)}
        missing = [code for code in codes if code not in found]
        if missing:
            raise forms.ValidationError(
                gettext("No customer with the code: %(codes)s.") % {"codes": ", ".join(missing)}
            )
        return [found[code] for code in codes]

    def has_changed(self, initial, data):
        before = {c for c in re.split(r"[\s,;]+", self.prepare_value(initial)) if c}
        after = {c for c in re.split(r"[\s,;]+", data or "") if c}
        return before != after


class AudienceFormMixin:
    """Audience and window: tiers need tiers, chosen dealers need dealers, the end comes after
    the start."""

    def clean(self):
        cleaned = super().clean()
        audience = cleaned.get("audience")
        if audience == Audience.TIERS and not cleaned.get("tiers"):
            self.add_error("tiers", gettext("Choose at least one tier for this audience."))
        missing_dealers = "customers" not in self.errors and not cleaned.get("customers")
        if audience == Audience.DEALERS and missing_dealers:
            self.add_error("customers", gettext("Choose at least one dealer."))
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        for name, moment in (("starts_at", starts), ("ends_at", ends)):
            problem = moment and planned_moment_problem(moment)
            if problem:
                self.add_error(name, problem)
                cleaned[name] = None
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", gettext("The end must be after the start."))
        return cleaned


# --- campaigns ----------------------------------------------------------------------------------


class CampaignAdminForm(AudienceFormMixin, forms.ModelForm):
    tiers = TierField()
    # the model's least is 1; its field type would offer 0 in the browser (min="0")
    min_quantity = forms.IntegerField(label=_("from quantity"), min_value=1, initial=1)

    class Meta:
        model = Campaign
        fields = (
            "name",
            "description",
            "priority",
            "discount_type",
            "discount_value",
            "min_quantity",
            "applies_to_special_prices",
            *WINDOW_AND_AUDIENCE,
            "scope",
            "categories",
            "brands",
            "products",
        )

    SCOPE_FIELDS = {
        Campaign.Scope.CATEGORIES: ("categories", _("Choose at least one category.")),
        Campaign.Scope.BRANDS: ("brands", _("Choose at least one brand.")),
        Campaign.Scope.PRODUCTS: ("products", _("Choose at least one product.")),
    }

    def clean(self):
        cleaned = super().clean()
        value = cleaned.get("discount_value")
        percentage = cleaned.get("discount_type") == Campaign.DiscountType.PERCENTAGE
        if percentage and value is not None and value > 100:
            self.add_error("discount_value", gettext("A percentage is at most 100."))
        needed = self.SCOPE_FIELDS.get(cleaned.get("scope"))
        if needed and needed[0] not in self.errors and not cleaned.get(needed[0]):
            self.add_error(needed[0], str(needed[1]))
        return cleaned


class LiveFilter(admin.SimpleListFilter):
    title = _("running")
    parameter_name = "running"

    def lookups(self, request, model_admin):
        return (("live", _("live now")), ("later", _("starts later")), ("ended", _("ended")))

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "live":
            return queryset.live(now)
        if self.value() == "later":
            return queryset.filter(starts_at__gt=now)
        if self.value() == "ended":
            return queryset.filter(ends_at__lte=now)
        return queryset


class PricePreviewForm(forms.Form):
    customer = forms.CharField(label=capfirst(_("customer code")), max_length=64)
    sku = forms.CharField(label=_("SKU"), max_length=64)
    quantity = forms.IntegerField(
        label=capfirst(_("quantity")), min_value=1, max_value=MAX_LINE_QUANTITY, initial=1
    )
    at = forms.DateTimeField(
        label=capfirst(_("at")),
        required=False,
        help_text=_("Empty: now. Otherwise e.g. 2026-05-01 09:00 (Istanbul time)."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_customer(self) -> Customer:
        code = self.cleaned_data["customer"].strip()
        customer = customer_list_for_staff(user=self.user).filter(code=code).first()
        if customer is None:
            raise forms.ValidationError(gettext("No customer with this code that you may see."))
        return customer

    def clean_sku(self) -> Product:
        product = Product.objects.filter(sku=self.cleaned_data["sku"].strip()).first()
        if product is None:
            raise forms.ValidationError(gettext("No product with this SKU."))
        return product


def _category_label_factory():
    names: dict[str, str] | None = None

    def label(category: Category) -> str:
        nonlocal names
        if names is None:
            names = dict(Category.objects.values_list("path", "name"))
        steps = range(PATH_STEP, len(category.path) + 1, PATH_STEP)
        return " › ".join(names.get(category.path[:end], "?") for end in steps)

    return label


@admin.register(Campaign)
class CampaignAdmin(DealerScopedAdminMixin, AuditHistoryMixin, admin.ModelAdmin):
    dealer_scope = "customers"  # the audience's dealers
    form = CampaignAdminForm
    change_form_template = "admin/campaigns/campaign/change_form.html"
    change_list_template = "admin/campaigns/campaign/change_list.html"
    list_display = (
        "name",
        "discount",
        "audience",
        "scope",
        "min_quantity",
        "priority",
        "starts_at",
        "ends_at",
        "is_active",
        "live_now",
    )
    list_filter = ("is_active", LiveFilter, "audience", "scope", "discount_type")
    search_fields = ("name", "description")
    autocomplete_fields = ("customers", "products")
    filter_horizontal = ("categories", "brands")
    actions = ("switch_on", "switch_off")
    fieldsets = (
        (None, {"fields": ("name", "description", "is_active", "priority")}),
        (
            _("Discount"),
            {
                "fields": (
                    "discount_type",
                    "discount_value",
                    "min_quantity",
                    "applies_to_special_prices",
                )
            },
        ),
        (_("When"), {"fields": ("starts_at", "ends_at")}),
        (_("Who (audience)"), {"fields": ("audience", "tiers", "customers")}),
        (_("What (scope)"), {"fields": ("scope", "categories", "brands", "products")}),
    )

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "categories" and field is not None:
            field.queryset = Category.objects.order_by("path")
            field.label_from_instance = _category_label_factory()
        return field

    @admin.display(description=_("discount"))
    def discount(self, obj: Campaign) -> str:
        if obj.discount_type == Campaign.DiscountType.PERCENTAGE:
            return f"{obj.discount_value.normalize():f} %"
        return money_text(obj.discount_value)

    @admin.display(description=_("live now"), boolean=True)
    def live_now(self, obj: Campaign) -> bool:
        return obj.is_live()

    def _switch(self, request, queryset, *, on: bool) -> None:
        count = queryset.update(is_active=on)  # bulk SQL: no signal, so drop the cache here
        campaigns_bump()
        if on:
            text = ngettext(
                "%(count)d campaign switched on.", "%(count)d campaigns switched on.", count
            )
        else:
            text = ngettext(
                "%(count)d campaign switched off.", "%(count)d campaigns switched off.", count
            )
        self.message_user(request, text % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Switch on selected campaigns"), permissions=["change"])
    def switch_on(self, request, queryset):
        self._switch(request, queryset, on=True)

    @admin.action(description=_("Switch off selected campaigns"), permissions=["change"])
    def switch_off(self, request, queryset):
        self._switch(request, queryset, on=False)

    # --- price preview ---

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("preview/", wrap(self.preview_view), name="campaigns_campaign_preview"),
            path(
                "<path:object_id>/preview/",
                wrap(self.preview_view),
                name="campaigns_campaign_preview_for",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request, object_id=None):
        """What a dealer pays for a product and quantity, and why (``price_explain``)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        campaign = None
        if object_id is not None:
            campaign = self.get_object(request, object_id)
            if campaign is None:
                return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        form = PricePreviewForm(
            request.GET if "customer" in request.GET else None,
            user=request.user,
            initial={"quantity": 1},
        )
        explanation = None
        if form.is_bound and form.is_valid():
            try:
                explanation = price_explain(
                    customer=form.cleaned_data["customer"],
                    product=form.cleaned_data["sku"],
                    quantity=form.cleaned_data["quantity"],
                    at=form.cleaned_data["at"],
                )
            except DomainError as exc:
                form.add_error(None, _domain_message(exc))
        if explanation:
            # a campaign this staff member does not see (it names dealers outside their
            # scope) is left out, unless it took part in the price it explains
            visible = set(self.get_queryset(request).values_list("pk", flat=True))
            explanation["campaigns"] = [
                c
                for c in explanation["campaigns"]
                if c["id"] in visible or c["status"] != "excluded"
            ]
        this_campaign = None
        if explanation and campaign is not None:
            this_campaign = next(
                (c for c in explanation["campaigns"] if c["id"] == campaign.pk), None
            )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Preview a price"),
            "subtitle": campaign.name if campaign else None,
            "opts": self.opts,
            "original": campaign,
            "form": form,
            "explanation": explanation,
            "campaign": campaign,
            "this_campaign": this_campaign,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, PREVIEW_TEMPLATE, context)


# --- banners and collections --------------------------------------------------------------------


class BannerAdminForm(AudienceFormMixin, forms.ModelForm):
    tiers = TierField()
    customers = CustomerCodesField(
        label=capfirst(_("dealers (customer codes)")),
        required=False,
        help_text=_("For the audience “chosen dealers”: codes separated by commas."),
    )

    class Meta:
        model = Banner
        fields = ("title", "image", "link_url", "placement", "sort_order", *WINDOW_AND_AUDIENCE)

    def clean_link_url(self) -> str:
        url = (self.cleaned_data.get("link_url") or "").strip()
        if not banner_link_safe(url):
            raise forms.ValidationError(
                gettext("Link to a page of ours (/portal/...) or to an http(s) address.")
            )
        return url


@admin.register(Banner)
class BannerAdmin(DealerScopedAdminMixin, AuditHistoryMixin, admin.ModelAdmin):
    dealer_scope = "customers"  # the audience's dealers
    form = BannerAdminForm
    list_display = (
        "title",
        "thumbnail",
        "placement",
        "sort_order",
        "audience",
        "starts_at",
        "ends_at",
        "is_active",
    )
    list_editable = ("sort_order", "is_active")
    list_filter = ("is_active", LiveFilter, "placement", "audience")
    search_fields = ("title", "link_url")
    fieldsets = (
        (None, {"fields": ("title", "image", "link_url", "placement", "sort_order", "is_active")}),
        (_("When"), {"fields": ("starts_at", "ends_at")}),
        (_("Who (audience)"), {"fields": ("audience", "tiers", "customers")}),
    )

    @admin.display(description=_("image"))
    def thumbnail(self, obj: Banner):
        if not obj.image:
            return "-"
        return format_html('<img src="{}" alt="" style="max-height: 40px">', obj.image.url)


class CollectionItemInline(admin.TabularInline):
    model = CollectionItem
    fields = ("product", "sort_order")
    autocomplete_fields = ("product",)
    extra = 1
    verbose_name = _("product")
    verbose_name_plural = _("products")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


class CollectionAdminForm(AudienceFormMixin, forms.ModelForm):
    tiers = TierField()
    customers = CustomerCodesField(
        label=capfirst(_("dealers (customer codes)")),
        required=False,
        help_text=_("For the audience “chosen dealers”: codes separated by commas."),
    )

    class Meta:
        model = Collection  # its products are edited as items, in their order
        fields = ("name", "slug", "description", "sort_order", *WINDOW_AND_AUDIENCE)


@admin.register(Collection)
class CollectionAdmin(DealerScopedAdminMixin, AuditHistoryMixin, admin.ModelAdmin):
    dealer_scope = "customers"  # the audience's dealers
    form = CollectionAdminForm
    list_display = ("name", "slug", "item_count", "sort_order", "audience", "is_active")
    list_editable = ("sort_order", "is_active")
    list_filter = ("is_active", LiveFilter, "audience")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (CollectionItemInline,)
    fieldsets = (
        (None, {"fields": ("name", "slug", "description", "sort_order", "is_active")}),
        (_("When"), {"fields": ("starts_at", "ends_at")}),
        (_("Who (audience)"), {"fields": ("audience", "tiers", "customers")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(items_total=Count("items"))

    @admin.display(description=_("products"), ordering="items_total")
    def item_count(self, obj: Collection) -> int:
        return obj.items_total
