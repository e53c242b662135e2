"""Integration API: product images."""

urlpatterns: list = []
