"""Isolation in the portal, as in the API (tests/accounts/test_isolation.py): every /portal/
URL with a parameter has a case that builds another company's object for it, and a user of
every dealer role asking for it with GET or POST gets 404 (a role that may not use the page is
told 403 only about its own company's objects), and nothing changes. A route added later
without a case fails the first test."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import get_resolver

from tests.accounts import test_isolation as api
from tests.factories import CustomerFactory
from tests.portal.test_portal import browser

pytestmark = [pytest.mark.django_db]


def _with(maker, **extra):
    return lambda other: {**maker(other), **extra}


OTHER_COMPANY_OBJECTS = {
    "portal/orders/<str:number>/": api._other_order,
    "portal/orders/<str:number>/pay/": api._other_order,
    "portal/orders/<str:number>/reorder/": api._other_order,
    "portal/orders/<str:number>/return/": api._other_order,
    "portal/returns/<str:number>/": api._other_return,
    "portal/returns/<str:number>/photos/<int:photo_id>/": api._other_return_photo,
    "portal/quotes/<str:number>/": api._other_quote,
    "portal/lists/<int:pk>/": api._other_requisition_list,
    "portal/orders/<str:number>/to-list/": api._other_order,
    "portal/confirmations/<int:pk>/": api._other_confirmation,
    "portal/company/users/<int:pk>/": api._other_user,
    "portal/company/addresses/<int:pk>/": api._other_address,
    "portal/invoices/<str:number>/<str:kind>/": _with(api._other_invoice, kind="pdf"),
}

SHARED_ROUTES = {
    "portal/products/<path:sku>/": "the shared catalog, priced for the caller's own company",
    "portal/products/<path:sku>/why/": "the shared catalog, explained for the caller's company",
}


def portal_routes() -> list[str]:
    return [route for route, _view in _routes()]


def _routes():
    return [
        (route, getattr(view, "view_class", None))
        for route, view in api._walk(get_resolver().url_patterns)
        if route.startswith("portal/")
    ]


def test_every_portal_url_with_a_parameter_has_an_isolation_case():
    parametrised = {route for route in portal_routes() if "<" in route}
    assert parametrised - set(OTHER_COMPANY_OBJECTS) - set(SHARED_ROUTES) == set()
    assert set(OTHER_COMPANY_OBJECTS) | set(SHARED_ROUTES) <= parametrised  # none stale


@pytest.mark.parametrize("route", sorted(OTHER_COMPANY_OBJECTS))
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("role", ["owner", "purchasing", "finance", "viewer"])
def test_another_companys_object_is_not_found_in_the_portal(route, method, role):
    other = CustomerFactory()
    values = OTHER_COMPANY_OBJECTS[route](other)
    url = "/" + route
    for name, value in values.items():
        url = url.replace(f"<str:{name}>", str(value)).replace(f"<int:{name}>", str(value))
    client, _user = browser(SimpleNamespace(customer=CustomerFactory()), role=role)
    before = api._snapshot()
    response = getattr(client, method)(url, {"reason": "x", "note": "x"})
    view = dict(_routes())[route]
    expected = 404 if method in view.http_method_names and hasattr(view, method) else 405
    assert response.status_code == expected, (url, response.status_code)
    assert api._snapshot() == before
