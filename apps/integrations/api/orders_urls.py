"""Integration API: orders for the ERP (pick-up and fulfilment status)."""

from django.urls import path

from apps.integrations.api import orders as integration

urlpatterns = [
    path("orders", integration.ErpOrderListView.as_view(), name="orders"),
    path(
        "orders/<str:number>/status",
        integration.ErpOrderStatusView.as_view(),
        name="order-status",
    ),
]
