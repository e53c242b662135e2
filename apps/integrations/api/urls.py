from django.urls import path

from apps.integrations.api import views

urlpatterns = [
    path("customers", views.CustomerBatchView.as_view(), name="customers"),
]
