"""/admin/two-factor/: the back office's two-factor pages (included before the admin's own
URLs in ``config/urls.py``)."""

from django.urls import path

from apps.accounts.admin import two_factor as views
from apps.accounts.middleware import TWO_FACTOR_NAMESPACE

app_name = TWO_FACTOR_NAMESPACE

urlpatterns = [
    path("", views.manage, name="manage"),
    path("verify/", views.verify, name="verify"),
    path("setup/", views.setup, name="setup"),
    path("recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("disable/", views.disable, name="disable"),
]
