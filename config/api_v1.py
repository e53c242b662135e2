"""The dealer API router, mounted at ``/api/v1/``. Each domain app contributes its urls here."""

from django.urls import include, path

app_name = "api-v1"

urlpatterns = [
    path("", include("apps.core.api.urls")),
    path("", include("apps.accounts.api.urls")),
    path("", include("apps.catalog.api.urls")),
    path("", include("apps.pricing.api.urls")),
    path("", include("apps.campaigns.api.urls")),
    path("", include("apps.orders.api.urls")),
    path("", include("apps.finance.api.urls")),
    path("", include("apps.returns.api.urls")),
    path("", include("apps.quotes.api.urls")),
]
