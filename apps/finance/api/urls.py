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
]
