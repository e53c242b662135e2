from django.urls import path

from apps.finance.api import views

urlpatterns = [
    path("account/summary", views.AccountSummaryView.as_view(), name="account-summary"),
]
