from django.urls import path

from apps.finance.api import views

urlpatterns = [
    path("account/summary", views.AccountSummaryView.as_view(), name="account-summary"),
    path("account/statement", views.AccountStatementView.as_view(), name="account-statement"),
    path("account/aging", views.AccountAgingView.as_view(), name="account-aging"),
    path("invoices", views.InvoiceListView.as_view(), name="invoices"),
    path("invoices/<str:number>", views.InvoiceDetailView.as_view(), name="invoice-detail"),
    path("invoices/<str:number>/pdf", views.InvoicePdfView.as_view(), name="invoice-pdf"),
    path("invoices/<str:number>/xml", views.InvoiceXmlView.as_view(), name="invoice-xml"),
    path("payments", views.CardPaymentListView.as_view(), name="payments"),
    path("payments/<int:pk>", views.CardPaymentDetailView.as_view(), name="payment-detail"),
    path(
        "payments/callback/<str:provider>",
        views.CardPaymentCallbackView.as_view(),
        name="payment-callback",
    ),
    path("account/confirmations", views.ConfirmationListView.as_view(), name="confirmations"),
    path(
        "account/confirmations/<int:pk>",
        views.ConfirmationDetailView.as_view(),
        name="confirmation-detail",
    ),
    path(
        "account/confirmations/<int:pk>/confirm",
        views.ConfirmationConfirmView.as_view(),
        name="confirmation-confirm",
    ),
    path(
        "account/confirmations/<int:pk>/dispute",
        views.ConfirmationDisputeView.as_view(),
        name="confirmation-dispute",
    ),
]
