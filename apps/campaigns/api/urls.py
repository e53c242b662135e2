from django.urls import path

from apps.campaigns.api import views

urlpatterns = [
    path("campaigns", views.CampaignListView.as_view(), name="campaigns"),
    path("banners", views.BannerListView.as_view(), name="banners"),
    path("collections", views.CollectionListView.as_view(), name="collections"),
]
