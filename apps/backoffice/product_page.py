"""The product page's read-only panels in the back office: the product's prices per price list
(quantity breaks), its dealer special prices (a count, linked to their list), the campaigns live
now that reach it, and its stock per warehouse.

The catalog is the lowest domain app and imports none of pricing, campaigns or inventory; this
top-layer app reads them for the catalog's product page (``templates/admin/catalog/product/
change_form.html`` loads the ``backoffice_product`` template tags). Each panel shows only to
those who may view its rows, in a constant number of queries whatever the number of prices or
warehouses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext

from apps.campaigns.models import Audience, Campaign
from apps.campaigns.rules import active_campaign_rules
from apps.catalog.models import Product
from apps.core.money import money_text, number_text
from apps.inventory.models import StockLevel
from apps.pricing.models import Price, SpecialPrice


@dataclass
class ProductPanels:
    prices: list[dict] | None = None  # None: not for this staff member
    special_prices: dict | None = None
    campaigns: list[dict] | None = None
    stock: list[dict] | None = None
    stock_total: dict = field(default_factory=dict)


def _day(moment) -> str:
    return date_format(timezone.localtime(moment), "SHORT_DATE_FORMAT")


def _live(row, now) -> bool:
    return (row.valid_from is None or row.valid_from <= now) and (
        row.valid_to is None or row.valid_to > now
    )


def _validity(row, now) -> str:
    if row.valid_from and row.valid_from > now:
        return gettext("from %(date)s") % {"date": _day(row.valid_from)}
    if row.valid_to and row.valid_to <= now:
        return gettext("expired %(date)s") % {"date": _day(row.valid_to)}
    if row.valid_to:
        return gettext("until %(date)s") % {"date": _day(row.valid_to)}
    return gettext("valid now")


def _prices(product: Product, now) -> list[dict]:
    rows = (
        Price.objects.filter(product=product)
        .select_related("price_list")
        .order_by("price_list__code", "min_quantity", "valid_from")
    )
    return [
        {
            "price_list": row.price_list.code,
            "price_list_name": row.price_list.name,
            "min_quantity": number_text(row.min_quantity),
            "amount": money_text(row.amount),
            "validity": _validity(row, now),
            "live": _live(row, now),
            "url": reverse("admin:pricing_price_change", args=[row.pk]),
        }
        for row in rows
    ]


def _special_prices(request, product: Product) -> dict | None:
    """How many special prices of the dealers this staff member sees name the product (through
    the special-price screen's own scoped queryset), with the link to them."""
    special_admin = admin.site._registry.get(SpecialPrice)
    if special_admin is None or not special_admin.has_view_permission(request):
        return None
    count = special_admin.get_queryset(request).filter(product=product).count()
    url = reverse("admin:pricing_specialprice_changelist")
    return {
        "count": count,
        "label": gettext("Special prices of dealers (%(count)d)") % {"count": count},
        "url": f"{url}?{urlencode({'product__id__exact': product.pk})}",
    }


def _campaign_discount(rule) -> str:
    if rule.discount_type == "percentage":
        return f"%{rule.discount_value.normalize():f}"
    return gettext("%(amount)s off per unit") % {"amount": money_text(rule.discount_value)}


def _campaign_audience(rule) -> str:
    if rule.audience == Audience.EVERYONE:
        return gettext("every dealer")
    if rule.audience == Audience.TIERS:
        return gettext("tiers %(tiers)s") % {"tiers": ", ".join(sorted(rule.tiers))}
    return gettext("%(count)s chosen dealers") % {"count": len(rule.customer_ids)}


def _campaigns(request, product: Product, now) -> list[dict]:
    """The campaigns live now whose scope covers the product (the engine's cached rules: no
    query when they are cached) and which this staff member sees (the campaign admin's scope:
    a campaign naming dealers outside theirs is not shown); who they reach is shown, not
    checked for one dealer."""
    path = product.category.path
    campaign_admin = admin.site._registry.get(Campaign)
    visible = (
        set(campaign_admin.get_queryset(request).values_list("pk", flat=True))
        if campaign_admin is not None
        else set()
    )
    return [
        {
            "name": rule.name,
            "discount": _campaign_discount(rule),
            "min_quantity": number_text(rule.min_quantity),
            "audience": _campaign_audience(rule),
            "special_prices": rule.applies_to_special_prices,
            "url": reverse("admin:campaigns_campaign_change", args=[rule.id]),
        }
        for rule in sorted(active_campaign_rules(), key=lambda r: (-r.priority, r.name))
        if rule.id in visible and rule.live_at(now) and rule.covers(product, path)
    ]


def _stock(product: Product) -> tuple[list[dict], dict]:
    levels = list(
        StockLevel.objects.filter(product=product)
        .select_related("warehouse")
        .order_by("warehouse__code")
    )
    rows = [
        {
            "warehouse": level.warehouse.name,
            "code": level.warehouse.code,
            "on_hand": number_text(level.on_hand),
            "reserved": number_text(level.reserved),
            "available": number_text(level.available),
        }
        for level in levels
    ]
    total = {
        "on_hand": number_text(sum(level.on_hand for level in levels)),
        "reserved": number_text(sum(level.reserved for level in levels)),
        "available": number_text(sum(level.available for level in levels)),
    }
    return rows, total


def product_panels(*, request, product: Product) -> ProductPanels:
    """The panels this staff member may see for ``product``."""
    user = request.user
    now = timezone.now()
    panels = ProductPanels()
    if user.has_perm("pricing.view_price"):
        panels.prices = _prices(product, now)
    panels.special_prices = _special_prices(request, product)
    if user.has_perm("campaigns.view_campaign"):
        panels.campaigns = _campaigns(request, product, now)
    if user.has_perm("inventory.view_stocklevel"):
        panels.stock, panels.stock_total = _stock(product)
    return panels
