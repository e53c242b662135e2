from django.urls import path

from apps.pricing.api.views import QuoteView

urlpatterns = [
    path("prices/quote", QuoteView.as_view(), name="prices-quote"),
]
