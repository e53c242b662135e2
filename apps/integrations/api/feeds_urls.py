"""Integration API: the ERP's catalog, stock, price, invoice and payment feeds."""

from django.urls import path

from apps.integrations.api import feeds

urlpatterns = [
    path("products", feeds.ProductBatchView.as_view(), name="products"),
    path("stock", feeds.StockBatchView.as_view(), name="stock"),
    path("prices", feeds.PriceBatchView.as_view(), name="prices"),
    path("special-prices", feeds.SpecialPriceBatchView.as_view(), name="special-prices"),
    path("invoices", feeds.InvoiceBatchView.as_view(), name="invoices"),
    path("payments", feeds.PaymentBatchView.as_view(), name="payments"),
]
