from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import DealerJWTAuthentication
from apps.accounts.permissions import IsDealerUser
from apps.pricing.api.serializers import QuoteInputSerializer, QuoteSerializer
from apps.pricing.quote import quote_build


class QuoteView(APIView):
    """Price lines for the caller's company now, with totals. Prices are never taken from
    the client; they come from the price engine."""

    authentication_classes = [DealerJWTAuthentication]
    permission_classes = [IsDealerUser]
    company_scoped = True  # priced for request.user.customer only

    @extend_schema(
        summary="Price lines for your company",
        description="Each `{sku, quantity}` priced now for your company by the same rules as "
        "the cart and order placement, with line amounts and totals. An unknown product or a "
        "quantity that breaks the product's minimum or multiple is 400 naming the line; a "
        "product without a price for you is reported on its line (`sellable: false`).",
        request=QuoteInputSerializer,
        responses=QuoteSerializer,
        tags=["prices"],
    )
    def post(self, request):
        serializer = QuoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        quote = quote_build(
            customer=request.user.customer, items=serializer.validated_data["items"]
        )
        return Response(QuoteSerializer(quote).data)
