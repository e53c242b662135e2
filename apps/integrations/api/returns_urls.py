"""Integration API: returns for the ERP (pick-up and decisions)."""

from django.urls import path

from apps.integrations.api import returns as integration

urlpatterns = [
    path("returns", integration.ErpReturnListView.as_view(), name="returns"),
    path(
        "returns/<str:number>/photos/<int:photo_id>",
        integration.ErpReturnPhotoView.as_view(),
        name="return-photo",
    ),
    path(
        "returns/<str:number>/status",
        integration.ErpReturnStatusView.as_view(),
        name="return-status",
    ),
]
