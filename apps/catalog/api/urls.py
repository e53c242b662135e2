"""Dealer API: catalog endpoints (categories, brands, products)."""

urlpatterns: list = []
