from django.urls import path

from apps.core.api.views import IntegrationApiRootView

urlpatterns = [
    path("", IntegrationApiRootView.as_view(), name="root"),
]
