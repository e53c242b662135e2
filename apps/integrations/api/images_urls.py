"""Integration API: product images."""

from django.urls import path

from apps.integrations.api.images import ProductImagesView

urlpatterns = [
    path("products/<path:sku>/images", ProductImagesView.as_view(), name="product-images"),
]
