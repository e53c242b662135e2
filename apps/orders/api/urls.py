from django.urls import path

from apps.orders.api import lists, views

urlpatterns = [
    path("cart", views.CartView.as_view(), name="cart"),
    path("cart/items", views.CartItemsView.as_view(), name="cart-items"),
    path("cart/items/<int:pk>", views.CartItemDetailView.as_view(), name="cart-item"),
    path("cart/import", views.CartImportView.as_view(), name="cart-import"),
    path("lists", lists.RequisitionListsView.as_view(), name="lists"),
    path("lists/<int:pk>", lists.RequisitionListDetailView.as_view(), name="list"),
    path("lists/<int:pk>/items", lists.RequisitionListItemsView.as_view(), name="list-items"),
    path(
        "lists/<int:pk>/items/<int:item_id>",
        lists.RequisitionListItemDetailView.as_view(),
        name="list-item",
    ),
    path("lists/<int:pk>/to-cart", lists.RequisitionListToCartView.as_view(), name="list-to-cart"),
    path("lists/<int:pk>/export", lists.RequisitionListExportView.as_view(), name="list-export"),
    path("lists/<int:pk>/import", lists.RequisitionListImportView.as_view(), name="list-import"),
    path("orders", views.OrderListView.as_view(), name="orders"),
    path("orders/<str:number>", views.OrderDetailView.as_view(), name="order"),
    path("orders/<str:number>/cancel", views.OrderCancelView.as_view(), name="order-cancel"),
    path("orders/<str:number>/approve", views.OrderApproveView.as_view(), name="order-approve"),
    path("orders/<str:number>/reject", views.OrderRejectView.as_view(), name="order-reject"),
    path("orders/<str:number>/reorder", views.OrderReorderView.as_view(), name="order-reorder"),
]
