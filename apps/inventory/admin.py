"""The inventory back office: warehouses, stock levels, the movement ledger, serial numbers.

Stock numbers are never edited directly: the "adjust stock" page (per stock level, for a
product by SKU, or as an action on several rows) asks for the new quantity and a reason and
calls ``stock_adjust``, which writes the ledger row. Movements are read-only.
"""

from __future__ import annotations

from collections import Counter

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from apps.accounts.admin.common import AuditHistoryMixin, _domain_message
from apps.accounts.admin.scoping import WHOLE_BOOK, DealerScopedAdminMixin
from apps.catalog.models import Product
from apps.core.admin_mixins import ReadOnlyAdminMixin
from apps.core.exceptions import DomainError
from apps.inventory.models import (
    SerialNumber,
    StockLevel,
    StockMovement,
    Warehouse,
    available_expression,
)
from apps.inventory.services import stock_adjust, stock_receive
from apps.inventory.services.adjustments import MAX_ON_HAND

ADJUST_PERMISSION = "inventory.adjust_stock"
ADMIN_REFERENCE = "admin"

# Rendered from a string so the page lives with its admin; the words come translated from the
# view (``gettext``), so there is nothing to translate in the template itself.
ADJUST_TEMPLATE = engines["django"].from_string(
    """{% extends "admin/base_site.html" %}{% load admin_urls l10n %}
{% block bodyclass %}{{ block.super }} app-{{ opts.app_label }}
 model-{{ opts.model_name }}{% endblock %}
{% block breadcrumbs %}<div class="breadcrumbs">
<a href="{% url 'admin:index' %}">{{ words.home }}</a>
&rsaquo; <a href="{% url 'admin:app_list' app_label=opts.app_label %}">
{{ opts.app_config.verbose_name }}</a>
&rsaquo; <a href="{% url opts|admin_urlname:'changelist' %}">
{{ opts.verbose_name_plural|capfirst }}</a>
&rsaquo; {{ title }}</div>{% endblock %}
{% block content %}
{% if intro %}<p>{{ intro }}</p>{% endif %}
{% if levels %}<table class="adjust-levels"><thead><tr>
<th>{{ words.sku }}</th><th>{{ words.product|capfirst }}</th><th>{{ words.warehouse|capfirst }}</th>
<th>{{ words.on_hand|capfirst }}</th><th>{{ words.reserved|capfirst }}</th>
<th>{{ words.available|capfirst }}</th>
</tr></thead><tbody>{% for level in levels %}<tr>
<td>{{ level.product.sku }}</td><td>{{ level.product.name }}</td><td>{{ level.warehouse }}</td>
<td>{{ level.on_hand }}</td><td>{{ level.reserved }}</td><td>{{ level.available }}</td>
</tr>{% endfor %}</tbody></table>{% endif %}
<form method="post" novalidate>{% csrf_token %}
{{ form.non_field_errors }}
<fieldset class="module aligned">{% for field in form %}
<div class="form-row{% if field.errors %} errors{% endif %}">{{ field.errors }}
<div class="flex-container">
<label{% if field.field.required %} class="required"{% endif %} for="{{ field.id_for_label }}">
{{ field.label|capfirst }}:</label>{{ field }}</div>
{% if field.help_text %}<div class="help">{{ field.help_text }}</div>{% endif %}
</div>{% endfor %}</fieldset>
{% if action %}{% for level in levels %}
<input type="hidden" name="{{ action_checkbox_name }}" value="{{ level.pk|unlocalize }}">
{% endfor %}
<input type="hidden" name="action" value="{{ action }}">
<input type="hidden" name="post" value="yes">{% endif %}
<div class="submit-row"><input type="submit" class="default" value="{{ words.submit }}">
<a href="{{ cancel_url }}" class="button cancel-link">{{ words.cancel }}</a></div>
</form>
{% endblock %}"""
)


class AdjustStockForm(forms.Form):
    """New on-hand quantity (or a change) and a reason; with ``choose_level`` also the product
    (by SKU) and the warehouse, for a product that has no stock level there yet."""

    sku = forms.CharField(label=_("SKU"), max_length=64)
    warehouse = forms.ModelChoiceField(label=_("warehouse"), queryset=Warehouse.objects.all())
    new_on_hand = forms.IntegerField(
        label=_("new quantity on hand"),
        required=False,
        min_value=0,
        max_value=MAX_ON_HAND,
        help_text=_("The counted quantity. Leave empty to give a change instead."),
    )
    delta = forms.IntegerField(
        label=_("or change by"),
        required=False,
        min_value=-MAX_ON_HAND,
        max_value=MAX_ON_HAND,
        help_text=_("A positive or negative number of units, e.g. -2 for two broken units."),
    )
    serials = forms.CharField(
        label=_("serial numbers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
        help_text=_(
            "Serial-tracked products only: one serial number per line, one per unit that "
            "comes in (new in stock here) or leaves (written off from this warehouse)."
        ),
    )
    reason = forms.CharField(
        label=_("reason"),
        max_length=StockMovement._meta.get_field("reason").max_length,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Kept in the stock movement ledger."),
    )

    def __init__(self, *args, choose_level: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.product = None
        if not choose_level:
            del self.fields["sku"]
            del self.fields["warehouse"]

    def clean_sku(self) -> str:
        sku = self.cleaned_data["sku"].strip()
        self.product = Product.objects.filter(sku=sku).first()
        if self.product is None:
            raise forms.ValidationError(gettext("No product has this SKU."))
        return sku

    def clean_serials(self) -> list[str] | None:
        names = [line.strip() for line in self.cleaned_data["serials"].splitlines()]
        return [name for name in names if name] or None

    def clean(self):
        cleaned = super().clean()
        given = [name for name in ("new_on_hand", "delta") if cleaned.get(name) is not None]
        if len(given) != 1 and not self.has_error("new_on_hand") and not self.has_error("delta"):
            raise forms.ValidationError(
                gettext("Give either the new quantity on hand or a change, not both.")
            )
        return cleaned

    def add_service_errors(self, exc: DomainError) -> None:
        for field, words in (exc.errors or {}).items():
            self.add_error(field if field in self.fields else None, list(words))
        if not exc.errors:
            self.add_error(None, str(exc.detail))


# --- Warehouses ---------------------------------------------------------------------------------


@admin.register(Warehouse)
class WarehouseAdmin(AuditHistoryMixin, admin.ModelAdmin):
    list_display = ("code", "name", "is_active", "sort_order")
    list_editable = ("is_active", "sort_order")
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    ordering = ("sort_order", "code")
    fields = ("code", "name", "is_active", "sort_order", "created_at", "updated_at")
    readonly_fields = ("created_at", "updated_at")


# --- Stock levels -------------------------------------------------------------------------------


@admin.register(StockLevel)
class StockLevelAdmin(admin.ModelAdmin):
    list_display = (
        "product_sku",
        "product_name",
        "warehouse",
        "on_hand",
        "reserved",
        "available",
        "updated_at",
        "adjust_link",
    )
    list_filter = ("warehouse",)
    search_fields = ("product__sku",)
    list_select_related = ("product", "warehouse")
    ordering = ("product__sku", "warehouse__sort_order", "warehouse__code")
    fields = (
        "product",
        "warehouse",
        "on_hand",
        "reserved",
        "available",
        "updated_at",
        "adjust_link",
    )
    readonly_fields = fields
    actions = ("adjust_selected",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("product", "warehouse")
            .annotate(available_units=available_expression())
        )

    # On hand and reserved change only through the services: no plain add, change or delete.
    # "Add" opens the adjust page for a product by SKU (it creates the stock level).
    def has_add_permission(self, request):
        return self.has_adjust_permission(request)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_adjust_permission(self, request) -> bool:
        return request.user.has_perm(ADJUST_PERMISSION)

    @admin.display(description=_("SKU"), ordering="product__sku")
    def product_sku(self, obj: StockLevel) -> str:
        return obj.product.sku

    @admin.display(description=_("product"), ordering="product__name")
    def product_name(self, obj: StockLevel) -> str:
        return obj.product.name

    @admin.display(description=_("available"), ordering="available_units")
    def available(self, obj: StockLevel) -> int:
        return obj.available

    @admin.display(description=_("adjust"))
    def adjust_link(self, obj: StockLevel) -> str:
        if obj.pk is None:
            return "-"
        url = reverse("admin:inventory_stocklevel_adjust", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Adjust stock…"))

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        if not self.has_adjust_permission(request):
            shown = tuple(name for name in shown if name != "adjust_link")
        return shown

    def get_urls(self):
        own = [
            path(
                "<path:object_id>/adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="inventory_stocklevel_adjust",
            ),
        ]
        return own + super().get_urls()

    def add_view(self, request, form_url="", extra_context=None):
        return self.adjust_view(request, None)

    def _words(self) -> dict[str, str]:
        return {
            "home": gettext("Home"),
            "sku": gettext("SKU"),
            "product": gettext("product"),
            "warehouse": gettext("warehouse"),
            "on_hand": gettext("on hand"),
            "reserved": gettext("reserved"),
            "available": gettext("available"),
            "submit": gettext("Adjust stock"),
            "cancel": gettext("Cancel"),
        }

    def _render(self, request, *, form, title, intro, levels, action=None):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "intro": intro,
            "opts": self.model._meta,
            "form": form,
            "levels": levels,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "cancel_url": reverse("admin:inventory_stocklevel_changelist"),
            "words": self._words(),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, ADJUST_TEMPLATE, context)

    def _adjust(self, request, *, product, warehouse, form) -> StockMovement | None:
        data = form.cleaned_data
        movement = stock_adjust(
            product=product,
            warehouse=warehouse,
            new_on_hand=data.get("new_on_hand"),
            delta=data.get("delta"),
            reason=data["reason"],
            actor=request.user,
            reference=ADMIN_REFERENCE,
            serials=data.get("serials"),
        )
        if movement is not None:
            level = StockLevel.objects.select_related("product", "warehouse").get(
                product=product, warehouse=warehouse
            )
            self.log_change(
                request,
                level,
                gettext("Stock adjusted from %(before)d to %(after)d: %(reason)s")
                % {
                    "before": movement.on_hand_before,
                    "after": movement.on_hand_after,
                    "reason": movement.reason,
                },
            )
        return movement

    def _report(self, request, level_name: str, movement: StockMovement | None) -> None:
        if movement is None:
            self.message_user(
                request,
                gettext("%(level)s: on hand unchanged, nothing recorded.") % {"level": level_name},
                messages.WARNING,
            )
        else:
            self.message_user(
                request,
                gettext("%(level)s: on hand %(before)d → %(after)d.")
                % {
                    "level": level_name,
                    "before": movement.on_hand_before,
                    "after": movement.on_hand_after,
                },
                messages.SUCCESS,
            )

    def adjust_view(self, request, object_id):
        """One stock level (``object_id``), or a product by SKU in a chosen warehouse."""
        if not self.has_adjust_permission(request):
            raise PermissionDenied
        level = None
        if object_id is not None:
            level = self.get_object(request, unquote(object_id))
            if level is None:
                raise Http404
        form = AdjustStockForm(
            request.POST if request.method == "POST" else None, choose_level=level is None
        )
        if form.is_bound and form.is_valid():
            product = level.product if level else form.product
            warehouse = level.warehouse if level else form.cleaned_data["warehouse"]
            try:
                movement = self._adjust(request, product=product, warehouse=warehouse, form=form)
            except DomainError as exc:
                form.add_service_errors(exc)
            else:
                self._report(request, f"{product.sku} @ {warehouse.code}", movement)
                return HttpResponseRedirect(reverse("admin:inventory_stocklevel_changelist"))
        if level is not None:
            title = gettext("Adjust stock of %(sku)s in %(warehouse)s") % {
                "sku": level.product.sku,
                "warehouse": level.warehouse.code,
            }
        else:
            title = gettext("Set the stock of a product")
        intro = gettext(
            "Enter the counted quantity on hand (or a change) and say why. On hand cannot go "
            "below zero or below what orders hold reserved; the change is kept in the stock "
            "movement ledger."
        )
        return self._render(
            request, form=form, title=title, intro=intro, levels=[level] if level else []
        )

    @admin.action(description=_("Adjust stock of selected rows…"), permissions=["adjust"])
    def adjust_selected(self, request, queryset):
        levels = list(queryset.select_related("product", "warehouse"))
        form = AdjustStockForm(request.POST if request.POST.get("post") else None)
        if form.is_bound and form.is_valid():
            done, unchanged = 0, 0
            for level in levels:
                name = f"{level.product.sku} @ {level.warehouse.code}"
                try:
                    movement = self._adjust(
                        request, product=level.product, warehouse=level.warehouse, form=form
                    )
                except DomainError as exc:
                    self.message_user(request, f"{name}: {_domain_message(exc)}", messages.ERROR)
                else:
                    done += movement is not None
                    unchanged += movement is None
            if done:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d stock level adjusted.", "%(count)d stock levels adjusted.", done
                    )
                    % {"count": done},
                    messages.SUCCESS,
                )
            if unchanged:  # each selected row is accounted for, as the order actions do
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d stock level already had that quantity: nothing recorded.",
                        "%(count)d stock levels already had that quantity: nothing recorded.",
                        unchanged,
                    )
                    % {"count": unchanged},
                    messages.INFO,
                )
            return None
        return self._render(
            request,
            form=form,
            title=gettext("Adjust stock"),
            intro=gettext(
                "Set the quantity on hand of every selected row, or change each by the same "
                "number of units, and say why."
            ),
            levels=levels,
            action="adjust_selected",
        )


# --- Movements (the ledger, read-only) ------------------------------------------------------------


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdminMixin, DealerScopedAdminMixin, admin.ModelAdmin):
    dealer_scope = WHOLE_BOOK  # references name the orders and returns of every dealer
    list_display = (
        "created_at",
        "kind",
        "product_sku",
        "warehouse",
        "quantity",
        "on_hand_change",
        "reserved_change",
        "reference",
        "reason",
        "actor",
    )
    list_filter = ("kind", "warehouse", "created_at")
    search_fields = ("product__sku", "reference")
    list_select_related = ("product", "warehouse", "actor")
    date_hierarchy = "created_at"
    readonly_fields = (
        "created_at",
        "kind",
        "product",
        "warehouse",
        "quantity",
        "on_hand_before",
        "on_hand_after",
        "reserved_before",
        "reserved_after",
        "reference",
        "reason",
        "actor",
    )
    fields = readonly_fields
    show_full_result_count = False  # the ledger grows without end: no COUNT(*) per page

    @admin.display(description=_("SKU"), ordering="product__sku")
    def product_sku(self, obj: StockMovement) -> str:
        return obj.product.sku

    @admin.display(description=_("on hand"))
    def on_hand_change(self, obj: StockMovement) -> str:
        return f"{obj.on_hand_before} → {obj.on_hand_after}"

    @admin.display(description=_("reserved"))
    def reserved_change(self, obj: StockMovement) -> str:
        return f"{obj.reserved_before} → {obj.reserved_after}"


# --- Serial numbers -----------------------------------------------------------------------------

# the change list with a "Receive serial numbers" button beside the others
SERIALS_CHANGELIST_TEMPLATE = engines["django"].from_string(
    """{% extends "admin/change_list.html" %}
{% block object-tools-items %}{% if receive_url %}
<li><a href="{{ receive_url }}" class="addlink">{{ receive_label }}</a></li>
{% endif %}{{ block.super }}{% endblock %}"""
)


class ReceiveSerialsForm(forms.Form):
    """Goods in for a serial-tracked product: one serial number per line, one unit each."""

    sku = forms.CharField(label=_("SKU"), max_length=64)
    warehouse = forms.ModelChoiceField(
        label=_("warehouse"), queryset=Warehouse.objects.filter(is_active=True)
    )
    serials = forms.CharField(
        label=_("serial numbers"),
        widget=forms.Textarea(attrs={"rows": 12, "cols": 40}),
        help_text=_("One per line; on hand grows by one unit for each."),
    )
    reference = forms.CharField(
        label=_("reference"),
        max_length=StockMovement._meta.get_field("reference").max_length,
        required=False,
        help_text=_("E.g. the delivery note number; empty: admin."),
    )
    reason = forms.CharField(
        label=_("reason"),
        max_length=StockMovement._meta.get_field("reason").max_length,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_("Kept in the stock movement ledger."),
    )

    # the service's field names -> this form's
    SERVICE_FIELDS = {"product": "sku", "quantity": "serials", "serials": "serials"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.product = None

    def clean_sku(self) -> str:
        sku = self.cleaned_data["sku"].strip()
        self.product = Product.objects.filter(sku=sku).first()
        if self.product is None:
            raise forms.ValidationError(gettext("No product has this SKU."))
        if not self.product.serial_tracked:
            raise forms.ValidationError(gettext("This product is not serial-tracked."))
        return sku

    def clean_serials(self) -> list[str]:
        limit = SerialNumber._meta.get_field("serial").max_length
        names = [line.strip() for line in self.cleaned_data["serials"].splitlines()]
        names = [name for name in names if name]
        if not names:
            raise forms.ValidationError(gettext("Enter at least one serial number."))
        too_long = [name for name in names if len(name) > limit]
        if too_long:
            raise forms.ValidationError(
                gettext("At most %(max)d characters: %(serials)s.")
                % {"max": limit, "serials": ", ".join(too_long)}
            )
        twice = sorted(name for name, count in Counter(names).items() if count > 1)
        if twice:
            raise forms.ValidationError(
                gettext("Named twice: %(serials)s.") % {"serials": ", ".join(twice)}
            )
        return names

    def add_service_errors(self, exc: DomainError) -> None:
        for field, words in (exc.errors or {}).items():
            name = self.SERVICE_FIELDS.get(field, field)
            self.add_error(name if name in self.fields else None, list(words))
        if not exc.errors:
            self.add_error(None, str(exc.detail))


@admin.register(SerialNumber)
class SerialNumberAdmin(
    ReadOnlyAdminMixin, DealerScopedAdminMixin, AuditHistoryMixin, admin.ModelAdmin
):
    """Serial numbers come in with receipts and change status through sales and returns."""

    dealer_scope = WHOLE_BOOK  # a sold serial's reference names the dealer's order

    list_display = ("serial", "product_sku", "warehouse", "status", "reference", "updated_at")
    list_filter = ("status", "warehouse")
    search_fields = ("serial", "product__sku", "reference")
    list_select_related = ("product", "warehouse")
    readonly_fields = (
        "product",
        "serial",
        "warehouse",
        "status",
        "reference",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields

    @admin.display(description=_("SKU"), ordering="product__sku")
    def product_sku(self, obj: SerialNumber) -> str:
        return obj.product.sku

    # --- receiving serial numbers (goods in, through ``stock_receive``) ---

    change_list_template = SERIALS_CHANGELIST_TEMPLATE

    def has_receive_permission(self, request) -> bool:
        return self.has_view_permission(request) and request.user.has_perm(ADJUST_PERMISSION)

    def get_urls(self):
        own = [
            path(
                "receive/",
                self.admin_site.admin_view(self.receive_view),
                name="inventory_serialnumber_receive",
            ),
        ]
        return own + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        if self.has_receive_permission(request):
            extra_context["receive_url"] = reverse("admin:inventory_serialnumber_receive")
            extra_context["receive_label"] = gettext("Receive serial numbers")
        return super().changelist_view(request, extra_context)

    def receive_view(self, request):
        """Serial numbers in, one unit each: a ``receipt`` movement with this staff member as
        the actor and the reason given; a serial already in stock is a form error."""
        if not self.has_receive_permission(request):
            raise PermissionDenied
        form = ReceiveSerialsForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                movement = stock_receive(
                    product=form.product,
                    warehouse=data["warehouse"],
                    quantity=len(data["serials"]),
                    serials=data["serials"],
                    reference=data["reference"] or ADMIN_REFERENCE,
                    reason=data["reason"],
                    actor=request.user,
                )
            except DomainError as exc:
                form.add_service_errors(exc)
            else:
                level = StockLevel.objects.select_related("product", "warehouse").get(
                    product=form.product, warehouse=data["warehouse"]
                )
                message = ngettext(
                    "%(count)d serial number received: on hand %(before)d → %(after)d.",
                    "%(count)d serial numbers received: on hand %(before)d → %(after)d.",
                    movement.quantity,
                ) % {
                    "count": movement.quantity,
                    "before": movement.on_hand_before,
                    "after": movement.on_hand_after,
                }
                self.log_change(request, level, message)
                self.message_user(
                    request, f"{form.product.sku} @ {level.warehouse.code}: {message}"
                )
                return HttpResponseRedirect(reverse("admin:inventory_serialnumber_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Receive serial numbers"),
            "intro": gettext(
                "Goods in for a serial-tracked product: on hand in the warehouse grows by one "
                "unit per serial number, recorded as a receipt in the stock movement ledger. "
                "A serial number already in stock is refused."
            ),
            "opts": self.model._meta,
            "form": form,
            "levels": [],
            "action": None,
            "cancel_url": reverse("admin:inventory_serialnumber_changelist"),
            "words": {
                "home": gettext("Home"),
                "submit": gettext("Receive"),
                "cancel": gettext("Cancel"),
            },
            "media": self.media + form.media,
        }
        return TemplateResponse(request, ADJUST_TEMPLATE, context)
