"""Isolation: a dealer sees only its own company's data; another company's object answers
404 (never 403, never 200) and nothing changes.

Two nets catch endpoints added later:
- every view under /api/v1/ must be company-scoped (CompanyScopedMixin) or be listed in
  COMPANY_FREE_VIEWS with the reason it holds no company data;
- every /api/v1/ URL with a parameter must have a case in OTHER_COMPANY_OBJECTS, which builds
  another company's object for it; the matrix then requests it with every method. A route of a
  company-free view (the shared catalog) is listed in COMPANY_FREE_ROUTES with its reason
  instead: there is no other company's object to reach through it.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from apps.accounts.models import Address, User
from tests.factories import AddressFactory, CustomerFactory, DealerUserFactory

pytestmark = [pytest.mark.django_db]

# view class name -> why it is not company-scoped
COMPANY_FREE_VIEWS = {
    "DealerApiRootView": "public index of the API",
    "TokenObtainView": "login",
    "TokenRefreshView": "token rotation",
    "LogoutView": "token revocation",
    "RegisterView": "creates a new company",
    "RegisterVerifyView": "public, token-protected",
    "PasswordResetView": "public, answers the same for every e-mail",
    "PasswordResetConfirmView": "public, token-protected",
    "MeView": "the caller themself",
    "MeExportView": "the caller themself",
    "CategoryTreeView": "the shared catalog: the same category tree for every dealer",
    "BrandListView": "the shared catalog: the same brands for every dealer",
    "ProductListView": "the shared catalog; prices are attached for the caller's company only",
    "ProductDetailView": "the shared catalog; prices are attached for the caller's company only",
    "PriceExplanationView": "the shared catalog; explained for the caller's company only",
    "CardPaymentCallbackView": "public: the bank's return; the payment is found by the gateway's "
    "session id and only the gateway's answer changes it",
}

# parametrised route of a company-free view -> why it needs no cross-company case
COMPANY_FREE_ROUTES = {
    "api/v1/products/<path:sku>": "a product is the same for every dealer (no company owns it); "
    "its price and quantity breaks are computed for the caller's own company",
    "api/v1/products/<path:sku>/price-explanation": "a product is the same for every dealer; "
    "the explanation is computed for the caller's own company (its special prices, its tier, "
    "the campaigns that reach it)",
    "api/v1/payments/callback/<str:provider>": "no company's object: the provider's name; "
    "tests/finance/test_card_payments.py posts forged and real sessions",
}


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def dealer_api_routes():
    routes = []
    for route, callback in _walk(get_resolver().url_patterns):
        if route.startswith("api/v1/"):
            view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
            routes.append((route, view_class))
    return routes


def test_every_dealer_endpoint_is_company_scoped_or_declared_company_free():
    offenders = [
        (route, cls.__name__)
        for route, cls in dealer_api_routes()
        if not getattr(cls, "company_scoped", False) and cls.__name__ not in COMPANY_FREE_VIEWS
    ]
    assert offenders == [], "scope these views with CompanyScopedMixin (apps/accounts/api/base.py)"


# route (as Django writes it) -> builds an object of `other` company, returns the URL values
def _other_user(other):
    return {"pk": DealerUserFactory(customer=other, role="purchasing").pk}


def _other_address(other):
    return {"pk": AddressFactory(customer=other).pk}


def _other_order(other):
    from apps.orders.models import Order

    order = Order.objects.create(
        number=f"SO-2026-9{other.pk:05d}",
        customer=other,
        status="awaiting_approval",
        payment_method="on_account",
        subtotal_net=0,
        vat_total=0,
        grand_total=0,
    )
    return {"number": order.number}


def _other_cart_item(other):
    from apps.orders.models import Cart, CartItem
    from tests.catalog.factories import ProductFactory

    user = DealerUserFactory(customer=other, role="purchasing")
    cart = Cart.objects.create(user=user, customer=other)
    return {"pk": CartItem.objects.create(cart=cart, product=ProductFactory(), quantity=3).pk}


def _other_invoice(other):
    """An invoice of ``other`` through the ERP feed, with its XML and PDF."""
    from apps.finance.services.invoices import invoice_create_many
    from tests.finance.helpers import invoice

    record = invoice(number=f"XYZ2026{other.pk:09d}", customer_code=other.code)
    from apps.integrations.api.feeds import INVOICE_RECORD

    record["xml"] = "PEludm9pY2UvPg=="
    record["pdf"] = "JVBERi0xLjQ="
    data, errors = INVOICE_RECORD.validate(record)
    assert not errors, errors
    outcomes, errors = invoice_create_many(records={0: data})
    assert outcomes == {0: "created"}, errors
    return {"number": record["number"]}


def _other_confirmation(other):
    from django.utils import timezone

    from apps.finance.services.confirmations import confirmation_send

    return {"pk": confirmation_send(customer=other, as_of=timezone.localdate()).pk}


def _other_card_payment(other):
    from apps.finance.models import CardPayment

    payment = CardPayment.objects.create(
        customer=other, provider="paynet", reference=f"CP{other.pk:018d}", amount="10.00"
    )
    return {"pk": payment.pk}


def _other_return(other):
    from apps.returns.models import ReturnRequest

    order = _other_order(other)["number"]
    from apps.orders.models import Order

    request = ReturnRequest.objects.create(
        number=f"RMA-2026-9{other.pk:05d}",
        customer=other,
        order=Order.objects.get(number=order),
    )
    return {"number": request.number}


def _other_return_photo(other):
    from django.core.files.base import ContentFile

    from apps.returns.models import ReturnPhoto, ReturnRequest

    number = _other_return(other)["number"]
    photo = ReturnPhoto(
        request=ReturnRequest.objects.get(number=number), content_type="image/png", size=3
    )
    photo.file.save("box.png", ContentFile(b"png"), save=True)
    return {"number": number, "photo_id": photo.pk}


def _other_quote(other):
    from apps.quotes.models import Quote, QuoteLine
    from tests.catalog.factories import ProductFactory

    quote = Quote.objects.create(
        number=f"QT-2026-9{other.pk:05d}", customer=other, status="sent", version=1
    )
    product = ProductFactory()
    QuoteLine.objects.create(
        quote=quote,
        product=product,
        sku=product.sku,
        name=product.name,
        quantity=2,
        unit_net="10.0000",
        vat_rate=20,
    )
    quote.valid_until = quote.created_at.date()
    quote.save(update_fields=["valid_until"])
    return {"number": quote.number}


def _other_requisition_list(other):
    """A shared list of ``other`` with one line: shared, so only the company scoping keeps it
    from a caller who is an owner elsewhere."""
    from apps.orders.models import RequisitionList, RequisitionListItem
    from tests.catalog.factories import ProductFactory

    owner = DealerUserFactory(customer=other, role="owner")
    reqlist = RequisitionList.objects.create(
        customer=other, owner=owner, name="Their list", shared=True
    )
    item = RequisitionListItem.objects.create(list=reqlist, product=ProductFactory(), quantity=3)
    return {"pk": reqlist.pk, "item_id": item.pk}


OTHER_COMPANY_OBJECTS = {
    "api/v1/quotes/<str:number>": _other_quote,
    "api/v1/quotes/<str:number>/accept": _other_quote,
    "api/v1/quotes/<str:number>/reject": _other_quote,
    "api/v1/returns/<str:number>": _other_return,
    "api/v1/returns/<str:number>/cancel": _other_return,
    "api/v1/returns/<str:number>/photos/<int:photo_id>": _other_return_photo,
    "api/v1/payments/<int:pk>": _other_card_payment,
    "api/v1/account/confirmations/<int:pk>": _other_confirmation,
    "api/v1/account/confirmations/<int:pk>/confirm": _other_confirmation,
    "api/v1/account/confirmations/<int:pk>/dispute": _other_confirmation,
    "api/v1/invoices/<str:number>": _other_invoice,
    "api/v1/invoices/<str:number>/pdf": _other_invoice,
    "api/v1/invoices/<str:number>/xml": _other_invoice,
    "api/v1/company/users/<int:pk>": _other_user,
    "api/v1/company/addresses/<int:pk>": _other_address,
    "api/v1/cart/items/<int:pk>": _other_cart_item,
    "api/v1/lists/<int:pk>": _other_requisition_list,
    "api/v1/lists/<int:pk>/items": _other_requisition_list,
    "api/v1/lists/<int:pk>/items/<int:item_id>": _other_requisition_list,
    "api/v1/lists/<int:pk>/to-cart": _other_requisition_list,
    "api/v1/lists/<int:pk>/export": _other_requisition_list,
    "api/v1/lists/<int:pk>/import": _other_requisition_list,
    "api/v1/orders/<str:number>": _other_order,
    "api/v1/orders/<str:number>/cancel": _other_order,
    "api/v1/orders/<str:number>/approve": _other_order,
    "api/v1/orders/<str:number>/reject": _other_order,
    "api/v1/orders/<str:number>/reorder": _other_order,
}


def test_every_dealer_url_with_a_parameter_has_an_isolation_case():
    parametrised = {route for route, _ in dealer_api_routes() if "<" in route}
    assert parametrised - set(OTHER_COMPANY_OBJECTS) - set(COMPANY_FREE_ROUTES) == set()


def test_only_routes_of_company_free_views_are_excused_from_the_isolation_matrix():
    views = dict(dealer_api_routes())
    for route in COMPANY_FREE_ROUTES:
        assert route in views, f"{route} is no longer routed: drop it from COMPANY_FREE_ROUTES"
        view = views[route]
        assert not getattr(view, "company_scoped", False), route
        assert view.__name__ in COMPANY_FREE_VIEWS, route


def _snapshot():
    from apps.finance.models import BalanceConfirmation
    from apps.orders.models import (
        CartItem,
        Order,
        OrderStatusChange,
        RequisitionList,
        RequisitionListItem,
    )
    from apps.quotes.models import Quote

    return (
        list(BalanceConfirmation.objects.order_by("pk").values()),
        list(User.objects.order_by("pk").values()),
        list(Address.all_objects.order_by("pk").values()),
        list(Order.objects.order_by("pk").values()),
        list(OrderStatusChange.objects.order_by("pk").values()),
        list(CartItem.objects.order_by("pk").values()),
        list(RequisitionList.objects.order_by("pk").values()),
        list(RequisitionListItem.objects.order_by("pk").values()),
        list(Quote.objects.order_by("pk").values()),
    )


@pytest.mark.parametrize("route", sorted(OTHER_COMPANY_OBJECTS))
@pytest.mark.parametrize("method", ["get", "patch", "put", "delete", "post", "options", "head"])
@pytest.mark.parametrize("role", ["owner", "purchasing", "finance", "viewer"])
def test_another_companys_object_answers_404_and_nothing_changes(
    dealer_client, route, method, role
):
    """Whatever the caller's role: one that may not do what the URL asks hears 403 only about
    its own company's objects."""
    client = dealer_client(role)
    other = CustomerFactory()
    values = OTHER_COMPANY_OBJECTS[route](other)
    url = "/" + route
    for name, value in values.items():
        url = url.replace(f"<int:{name}>", str(value)).replace(f"<str:{name}>", str(value))
    before = _snapshot()

    response = getattr(client, method)(
        url, {"role": "owner", "title": "hijacked", "is_active": False}, format="json"
    )

    assert response.status_code in (404, 405), response.content
    view = dict(dealer_api_routes())[route]
    if hasattr(view, method):  # a method the route serves: the object is simply not found
        assert response.status_code == 404, (method, response.content)
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("role", "method", "route", "make"),
    [
        ("viewer", "post", "api/v1/orders/<str:number>/cancel", _other_order),
        ("finance", "post", "api/v1/orders/<str:number>/approve", _other_order),
        ("purchasing", "get", "api/v1/invoices/<str:number>", _other_invoice),
        ("finance", "patch", "api/v1/company/users/<int:pk>", _other_user),
        ("viewer", "delete", "api/v1/company/addresses/<int:pk>", _other_address),
    ],
)
def test_a_role_refused_an_action_on_its_own_companys_object_hears_403(
    dealer_client, role, method, route, make
):
    """The 404 above is about the company, not the role: on the caller's own object a role
    that may not act is told so, and nothing changes."""
    client = dealer_client(role)
    values = make(client.user.customer)
    url = "/" + route
    for name, value in values.items():
        url = url.replace(f"<int:{name}>", str(value)).replace(f"<str:{name}>", str(value))
    before = _snapshot()

    response = getattr(client, method)(url, {"reason": "x", "role": "owner"}, format="json")

    assert response.status_code == 403, response.content
    assert _snapshot() == before


def test_a_refused_documents_lookup_asks_the_objects_page_not_the_document(
    dealer_client, monkeypatch
):
    """A purchasing user may not read invoices: its 403 for an invoice's PDF looks the invoice
    up by ``invoices/{number}``, without building the PDF it may not have."""
    from apps.finance import documents

    client = dealer_client("purchasing")
    number = _other_invoice(client.user.customer)["number"]

    def built(*args, **kwargs):
        raise AssertionError("the PDF was built for a refused request")

    monkeypatch.setattr(documents, "stored_bytes", built)
    assert client.get(f"/api/v1/invoices/{number}/pdf").status_code == 403
    assert client.get(f"/api/v1/invoices/{number}/xml").status_code == 403


def test_another_companys_item_through_the_callers_own_list_is_not_found(dealer_client):
    """The lookup asks for the item itself, not only the list its URL names."""
    from apps.orders.models import RequisitionList

    client = dealer_client("viewer")
    owner = DealerUserFactory(customer=client.user.customer, role="owner")
    own = RequisitionList.objects.create(
        customer=client.user.customer, owner=owner, name="Ours", shared=True
    )
    theirs = _other_requisition_list(CustomerFactory())["item_id"]
    before = _snapshot()

    for method in ("patch", "delete"):  # the URL serves no GET
        url = f"/api/v1/lists/{own.pk}/items/{theirs}"
        response = getattr(client, method)(url, {"quantity": 1}, format="json")
        assert response.status_code == 404, (method, response.content)
    assert _snapshot() == before


@pytest.mark.parametrize("role", ["owner", "purchasing", "finance", "viewer"])
def test_a_method_a_url_does_not_serve_is_405_for_every_role(dealer_client, role):
    client = dealer_client(role)
    number = _other_order(CustomerFactory())["number"]
    assert client.post(f"/api/v1/orders/{number}", {}, format="json").status_code == 405
    assert client.put("/api/v1/invoices/XYZ", {}, format="json").status_code == 405


def test_options_describes_the_callers_own_objects_only(dealer_client):
    """OPTIONS answers as GET would about the object: the caller's own order, and an action
    on it, are described; another company's or an absent one is 404 (above: the matrix)."""
    client = dealer_client("owner")
    own = _other_order(client.user.customer)["number"]
    item = _other_cart_item(client.user.customer)["pk"]
    for url in (
        f"/api/v1/orders/{own}",
        f"/api/v1/orders/{own}/cancel",
        "/api/v1/orders",
        f"/api/v1/lists/{_other_requisition_list(client.user.customer)['pk']}/items",
    ):
        response = client.options(url)
        assert response.status_code == 200, (url, response.content)
        assert "name" in response.json()
    for url in ("/api/v1/orders/SO-2099-999999", "/api/v1/orders/SO-2099-999999/cancel"):
        assert client.options(url).status_code == 404
    # a cart item is its user's: a colleague's is not found, for OPTIONS too
    assert client.options(f"/api/v1/cart/items/{item}").status_code == 404


def test_lists_show_only_the_callers_company(dealer_client):
    client = dealer_client("owner")
    other = CustomerFactory()
    DealerUserFactory(customer=other)
    AddressFactory(customer=other)
    AddressFactory(customer=client.user.customer)
    users = client.get("/api/v1/company/users").json()["results"]
    addresses = client.get("/api/v1/company/addresses").json()["results"]
    assert {u["id"] for u in users} == {client.user.pk}
    assert {a["id"] for a in addresses} == set(
        Address.objects.filter(customer=client.user.customer).values_list("pk", flat=True)
    )


def test_company_endpoint_shows_the_callers_own_company(dealer_client):
    first, second = dealer_client("viewer"), dealer_client("viewer")
    assert first.get("/api/v1/company").json()["code"] == first.user.customer.code
    assert second.get("/api/v1/company").json()["code"] == second.user.customer.code
    assert first.user.customer != second.user.customer
