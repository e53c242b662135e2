"""Dealer API: catalog endpoints (categories, brands, products)."""

from django.urls import path

from apps.catalog.api import views

urlpatterns = [
    path("categories", views.CategoryTreeView.as_view(), name="categories"),
    path("brands", views.BrandListView.as_view(), name="brands"),
    path("products", views.ProductListView.as_view(), name="products"),
    path("products/<path:sku>", views.ProductDetailView.as_view(), name="product"),  # "/" too
]
