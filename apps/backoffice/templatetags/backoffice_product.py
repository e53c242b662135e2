"""The product page's panels (prices, special prices, campaigns, stock), for the catalog's
product change page, which cannot import the apps above it (``apps.backoffice.product_page``)."""

from __future__ import annotations

from django import template

from apps.backoffice.product_page import product_panels

register = template.Library()


@register.inclusion_tag("admin/backoffice/product_panels.html", takes_context=True)
def backoffice_product_panels(context, product):
    request = context.get("request")
    user = getattr(request, "user", None)
    if product is None or product.pk is None or user is None or not user.is_staff:
        return {"panels": None}
    return {"panels": product_panels(request=request, product=product)}
