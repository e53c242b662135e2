"""The one mechanism that scopes dealer endpoints to the caller's company.

Every dealer view that reads or writes company data derives from ``CompanyScopedMixin``
(directly or through ``DealerGenericAPIView``). Its ``get_queryset`` filters by the caller's
company through ``company_field``, so another company's object is simply not found (404).
``tests/accounts/test_isolation.py`` walks every URL of ``/api/v1/`` and fails for a view that
is neither company-scoped nor listed as company-free.
"""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import generics
from rest_framework.exceptions import MethodNotAllowed, NotFound

from apps.accounts.authentication import DealerJWTAuthentication
from apps.accounts.permissions import IsDealerUser
from apps.core.api.metadata import is_object_probe, object_answer


def scope_to_company(queryset: QuerySet, user, company_field: str = "customer") -> QuerySet:
    customer_id = getattr(user, "customer_id", None)
    if customer_id is None:
        return queryset.none()
    return queryset.filter(**{company_field: customer_id})


class CompanyScopedMixin:
    """``company_field``: the lookup from the view's model to the dealer company.

    Another company's (or an absent) object is a 404 whatever the caller's role: a role that
    may not do what the URL asks is told 403 only about its own company's objects. So a
    refused permission first asks whether the object is there for the caller's company
    (``object_answer``: the object's GET, by the company alone)."""

    company_field = "customer"
    company_scoped = True
    _probing = False

    def get_queryset(self):
        return scope_to_company(super().get_queryset(), self.request.user, self.company_field)

    def check_permissions(self, request):
        if is_object_probe(request) and request.user.is_authenticated:
            return  # only whether the company has the object is asked: no role needed
        super().check_permissions(request)

    def check_throttles(self, request):
        if is_object_probe(request):
            return  # the request it asks for has been counted already
        super().check_throttles(request)

    def permission_denied(self, request, message=None, code=None):
        if request.user.is_authenticated and not self._probing:
            method = request.method.lower()
            if method not in self.http_method_names or not hasattr(self, method):
                # a method the URL does not serve is that, whatever the role and the object
                raise MethodNotAllowed(request.method)
            if self.kwargs:
                self._probing = True  # get_object's own permission checks land here again
                try:
                    answer = object_answer(request, self)
                finally:
                    self._probing = False
                if answer == 404:
                    raise NotFound()
        super().permission_denied(request, message=message, code=code)


class DealerGenericAPIView(CompanyScopedMixin, generics.GenericAPIView):
    authentication_classes = [DealerJWTAuthentication]
    permission_classes = [IsDealerUser]
