"""Integration API: orders for the ERP (pick-up and fulfilment status)."""

from django.urls import path

from apps.orders.api import integration

urlpatterns = [
    path("orders", integration.ErpOrderListView.as_view(), name="orders"),
    path(
        "orders/<str:number>/status",
        integration.ErpOrderStatusView.as_view(),
        name="order-status",
    ),
]
