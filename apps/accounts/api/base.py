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

from apps.accounts.authentication import DealerJWTAuthentication
from apps.accounts.permissions import IsDealerUser


def scope_to_company(queryset: QuerySet, user, company_field: str = "customer") -> QuerySet:
    customer_id = getattr(user, "customer_id", None)
    if customer_id is None:
        return queryset.none()
    return queryset.filter(**{company_field: customer_id})


class CompanyScopedMixin:
    """``company_field``: the lookup from the view's model to the dealer company."""

    company_field = "customer"
    company_scoped = True

    def get_queryset(self):
        return scope_to_company(super().get_queryset(), self.request.user, self.company_field)


class DealerGenericAPIView(CompanyScopedMixin, generics.GenericAPIView):
    authentication_classes = [DealerJWTAuthentication]
    permission_classes = [IsDealerUser]
