from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import DealerJWTAuthentication
from apps.accounts.permissions import IsDealerUser
from apps.catalog.selectors import product_get
from apps.core.money import MAX_LINE_QUANTITY
from apps.core.schema import ErrorSerializer
from apps.pricing.api import serializers as s
from apps.pricing.api.serializers import QuoteInputSerializer, QuoteSerializer
from apps.pricing.quote import quote_build
from apps.pricing.selectors import price_explain_for_dealer


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


class PriceExplanationView(APIView):
    """Why the caller's company pays what it pays for a product (the portal's "Why this
    price"; the back office's price preview shows staff the same explanation, with every
    campaign)."""

    authentication_classes = [DealerJWTAuthentication]
    permission_classes = [IsDealerUser]

    @extend_schema(
        summary="Why this price",
        description="How your unit price for `quantity` (default 1) of the product came about: "
        "`levels` (your special price, your tier's list, the list price: each with its "
        "quantity breaks and which was taken), the campaign that won and the ones that did "
        "not (not the lowest, no discount, or one you would get with more units), the price "
        "itself (`base`, `discount`, `unit_net`, `unit_gross`, `source`) and a one-line "
        "`summary`. Unknown or hidden product: 404; a bad quantity: 400.",
        parameters=[
            OpenApiParameter(
                "quantity",
                {"type": "integer", "minimum": 1, "maximum": MAX_LINE_QUANTITY},
                OpenApiParameter.QUERY,
                required=False,
            ),
        ],
        responses={
            200: s.PriceExplanationSerializer,
            400: OpenApiResponse(ErrorSerializer, description="A bad quantity."),
            404: OpenApiResponse(ErrorSerializer, description="No such visible product."),
        },
        tags=["prices"],
    )
    def get(self, request, sku):
        product = product_get(sku=sku)
        explanation = price_explain_for_dealer(
            customer=request.user.customer,
            product=product,
            quantity=request.query_params.get("quantity") or "1",  # empty: as absent
        )
        # amounts as text (as everywhere in the API), times ISO 8601
        return Response(json.loads(json.dumps(explanation, cls=DjangoJSONEncoder)))
