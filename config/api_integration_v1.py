"""The integration (ERP) API router, mounted at ``/api/integration/v1/`` (header ``X-API-Key``)."""

from django.urls import include, path

app_name = "api-integration-v1"

urlpatterns = [
    path("", include("apps.core.api.integration_urls")),
    path("", include("apps.integrations.api.urls")),
    path("", include("apps.integrations.api.feeds_urls")),
    path("", include("apps.integrations.api.images_urls")),
    path("", include("apps.integrations.api.webhooks_urls")),
    path("", include("apps.integrations.api.orders_urls")),
    path("", include("apps.integrations.api.returns_urls")),
]
