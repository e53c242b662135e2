"""Integration API: the ERP's catalog and stock feeds."""

from django.urls import path

from apps.integrations.api import feeds

urlpatterns = [
    path("products", feeds.ProductBatchView.as_view(), name="products"),
    path("stock", feeds.StockBatchView.as_view(), name="stock"),
]
