from django.urls import path

from apps.pricing.api.views import PriceExplanationView, QuoteView

urlpatterns = [
    path("prices/quote", QuoteView.as_view(), name="prices-quote"),
    path(
        "products/<str:sku>/price-explanation",
        PriceExplanationView.as_view(),
        name="price-explanation",
    ),
]
