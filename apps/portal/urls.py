from django.urls import path, re_path

from apps.portal import company, confirmations, lists, profile, quotes, returns, views

app_name = "portal"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", views.LoginCodeView.as_view(), name="login-code"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/forgot/", views.PasswordForgotView.as_view(), name="password-forgot"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path("verify-email/", views.EmailVerifyView.as_view(), name="email-verify"),
    path("catalog/", views.CatalogView.as_view(), name="catalog"),
    # a SKU may hold "/" (KBL/001): the longer address first
    path("products/<path:sku>/why/", views.PriceWhyView.as_view(), name="price-why"),
    path("products/<path:sku>/", views.ProductView.as_view(), name="product"),
    path("cart/", views.CartView.as_view(), name="cart"),
    path("quick-order/", views.QuickOrderView.as_view(), name="quick-order"),
    path("quick-order/suggest/", views.SkuSuggestView.as_view(), name="sku-suggest"),
    path("checkout/", views.CheckoutView.as_view(), name="checkout"),
    path("orders/", views.OrderListView.as_view(), name="orders"),
    path("orders/<str:number>/", views.OrderView.as_view(), name="order"),
    path("orders/<str:number>/pay/", views.OrderPayView.as_view(), name="order-pay"),
    path("orders/<str:number>/reorder/", views.OrderReorderView.as_view(), name="order-reorder"),
    path("orders/<str:number>/return/", returns.ReturnCreateView.as_view(), name="return-new"),
    path("returns/", returns.ReturnListView.as_view(), name="returns"),
    path("returns/<str:number>/", returns.ReturnView.as_view(), name="return"),
    path(
        "returns/<str:number>/photos/<int:photo_id>/",
        returns.ReturnPhotoView.as_view(),
        name="return-photo",
    ),
    path("lists/", lists.ListIndexView.as_view(), name="lists"),
    path("lists/add/", lists.ListAddView.as_view(), name="list-add"),
    path("lists/<int:pk>/", lists.ListView.as_view(), name="list"),
    path("orders/<str:number>/to-list/", lists.OrderToListView.as_view(), name="order-to-list"),
    path("quotes/", quotes.QuoteListView.as_view(), name="quotes"),
    path("quotes/<str:number>/", quotes.QuoteView.as_view(), name="quote"),
    path("approvals/", views.ApprovalsView.as_view(), name="approvals"),
    path("invoices/", views.InvoiceListView.as_view(), name="invoices"),
    path(
        "invoices/<str:number>/<str:kind>/",
        views.InvoiceFileView.as_view(),
        name="invoice-file",
    ),
    path("confirmations/", confirmations.ConfirmationListView.as_view(), name="confirmations"),
    path(
        "confirmations/<int:pk>/",
        confirmations.ConfirmationView.as_view(),
        name="confirmation",
    ),
    path("company/users/", company.CompanyUsersView.as_view(), name="company-users"),
    path("company/users/<int:pk>/", company.CompanyUserView.as_view(), name="company-user"),
    path("company/addresses/", company.AddressesView.as_view(), name="addresses"),
    path("company/addresses/<int:pk>/", company.AddressView.as_view(), name="address"),
    path("profile/", profile.ProfileView.as_view(), name="profile"),
    path("profile/data/", profile.PersonalDataView.as_view(), name="personal-data"),
    path("statement/", views.StatementView.as_view(), name="statement"),
    re_path(r"^.*$", views.NotFoundView.as_view(), name="not-found"),  # last: the portal's 404
]
