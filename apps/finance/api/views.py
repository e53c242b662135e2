"""Dealer API: the current account."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from apps.accounts.api.base import DealerGenericAPIView
from apps.accounts.models import Customer
from apps.accounts.permissions import dealer_permission
from apps.finance.selectors import customer_credit_summary

AccountSummarySerializer = inline_serializer(
    name="AccountSummary",
    fields={
        "currency": serializers.CharField(),
        "balance": serializers.CharField(),
        "credit_limit": serializers.CharField(),
        "open_orders_total": serializers.CharField(),
        "available_credit": serializers.CharField(),
        "overdue_total": serializers.CharField(),
    },
)


class AccountSummaryView(DealerGenericAPIView):
    """Balance (positive: the company owes), credit limit, open orders (confirmed, processing,
    shipped, not yet invoiced), available credit and the overdue amount."""

    queryset = Customer.objects.all()
    company_field = "pk"
    permission_classes = [dealer_permission(read_perms=("finance.view_ledgerentry",))]

    @extend_schema(
        summary="Your current account",
        description="Balance (positive: your company owes), credit limit, open orders "
        "(confirmed, processing, shipped, not yet invoiced), available credit and the overdue "
        "amount.",
        responses=AccountSummarySerializer,
        tags=["finance"],
    )
    def get(self, request):
        customer = self.get_queryset().get()
        summary = customer_credit_summary(customer=customer)
        return Response(
            {"currency": settings.CURRENCY, **{k: f"{v:.2f}" for k, v in summary.items()}}
        )
