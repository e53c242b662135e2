from django.urls import path

from apps.returns.api import views

urlpatterns = [
    path("returns", views.ReturnListView.as_view(), name="returns"),
    path("returns/<str:number>", views.ReturnDetailView.as_view(), name="return-detail"),
    path(
        "returns/<str:number>/photos/<int:photo_id>",
        views.ReturnPhotoView.as_view(),
        name="return-photo",
    ),
    path("returns/<str:number>/cancel", views.ReturnCancelView.as_view(), name="return-cancel"),
]
