from django.urls import path

from apps.pricing.api.views import PriceExplanationView, QuoteView

urlpatterns = [
    path("prices/quote", QuoteView.as_view(), name="prices-quote"),
    path(
        "products/<path:sku>/price-explanation",  # a SKU may hold "/"
        PriceExplanationView.as_view(),
        name="price-explanation",
    ),
]
