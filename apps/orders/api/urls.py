from django.urls import path

from apps.orders.api import views

urlpatterns = [
    path("cart", views.CartView.as_view(), name="cart"),
    path("cart/items", views.CartItemsView.as_view(), name="cart-items"),
    path("cart/items/<int:pk>", views.CartItemDetailView.as_view(), name="cart-item"),
    path("cart/import", views.CartImportView.as_view(), name="cart-import"),
    path("orders", views.OrderListView.as_view(), name="orders"),
    path("orders/<str:number>", views.OrderDetailView.as_view(), name="order"),
    path("orders/<str:number>/cancel", views.OrderCancelView.as_view(), name="order-cancel"),
    path("orders/<str:number>/approve", views.OrderApproveView.as_view(), name="order-approve"),
    path("orders/<str:number>/reject", views.OrderRejectView.as_view(), name="order-reject"),
    path("orders/<str:number>/reorder", views.OrderReorderView.as_view(), name="order-reorder"),
]
