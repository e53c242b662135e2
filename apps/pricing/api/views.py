from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import DealerJWTAuthentication
from apps.accounts.permissions import IsDealerUser
from apps.core.serializers import StrictInputSerializer
from apps.pricing.quote import quote_build


class QuoteItemSerializer(StrictInputSerializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)


class QuoteInputSerializer(StrictInputSerializer):
    items = QuoteItemSerializer(many=True, allow_empty=False, max_length=500)


_PriceSerializer = inline_serializer(
    name="Price",
    fields={
        "currency": serializers.CharField(),
        "list": serializers.CharField(allow_null=True),
        "unit_net": serializers.CharField(),
        "discount": serializers.CharField(),
        "source": serializers.CharField(),
        "campaign": serializers.DictField(allow_null=True),
        "unit_gross": serializers.CharField(),
    },
    allow_null=True,
)

QuoteSerializer = inline_serializer(
    name="Quote",
    fields={
        "currency": serializers.CharField(),
        "lines": serializers.ListField(child=serializers.DictField()),
        "subtotal_net": serializers.CharField(),
        "vat_total": serializers.CharField(),
        "grand_total": serializers.CharField(),
        "all_sellable": serializers.BooleanField(),
    },
)


class QuoteView(APIView):
    """Price lines for the caller's company now, with totals. Prices are never taken from
    the client; they come from the price engine."""

    authentication_classes = [DealerJWTAuthentication]
    permission_classes = [IsDealerUser]
    company_scoped = True  # priced for request.user.customer only

    @extend_schema(request=QuoteInputSerializer, responses=QuoteSerializer, tags=["prices"])
    def post(self, request):
        serializer = QuoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(
            quote_build(customer=request.user.customer, items=serializer.validated_data["items"])
        )
