"""The dealer API router, mounted at ``/api/v1/``. Each domain app contributes its urls here."""

from django.urls import include, path

app_name = "api-v1"

urlpatterns = [
    path("", include("apps.core.api.urls")),
    path("", include("apps.accounts.api.urls")),
    # pricing's products/<sku>/price-explanation before catalog's products/<sku>: a SKU may
    # hold "/" (KBL/001), so the product's own address would take the explanation's too
    path("", include("apps.pricing.api.urls")),
    path("", include("apps.catalog.api.urls")),
    path("", include("apps.campaigns.api.urls")),
    path("", include("apps.orders.api.urls")),
    path("", include("apps.finance.api.urls")),
    path("", include("apps.returns.api.urls")),
    path("", include("apps.quotes.api.urls")),
]
