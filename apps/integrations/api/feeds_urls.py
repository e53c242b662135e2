"""Integration API: the ERP's catalog and stock feeds."""

urlpatterns: list = []
