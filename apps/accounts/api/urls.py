from django.urls import path

from apps.accounts.api import views

urlpatterns = [
    path("auth/token", views.TokenObtainView.as_view(), name="auth-token"),
    path("auth/token/refresh", views.TokenRefreshView.as_view(), name="auth-token-refresh"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/register", views.RegisterView.as_view(), name="auth-register"),
    path("auth/register/verify", views.RegisterVerifyView.as_view(), name="auth-register-verify"),
    path("auth/password-reset", views.PasswordResetView.as_view(), name="auth-password-reset"),
    path(
        "auth/password-reset/confirm",
        views.PasswordResetConfirmView.as_view(),
        name="auth-password-reset-confirm",
    ),
    path("me", views.MeView.as_view(), name="me"),
    path("me/export", views.MeExportView.as_view(), name="me-export"),
    path("company", views.CompanyView.as_view(), name="company"),
    path("company/users", views.CompanyUserListView.as_view(), name="company-users"),
    path("company/users/<int:pk>", views.CompanyUserDetailView.as_view(), name="company-user"),
    path("company/addresses", views.CompanyAddressListView.as_view(), name="company-addresses"),
    path(
        "company/addresses/<int:pk>",
        views.CompanyAddressDetailView.as_view(),
        name="company-address",
    ),
]
