from django.urls import path

from apps.core.api.views import DealerApiRootView

urlpatterns = [
    path("", DealerApiRootView.as_view(), name="root"),
]
