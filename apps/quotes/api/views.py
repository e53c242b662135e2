"""Dealer API: the company's quotes. Thin: parse, call a service."""

from __future__ import annotations

from django_filters import rest_framework as filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.mixins import ListModelMixin
from rest_framework.response import Response

from apps.accounts.api.base import DealerGenericAPIView
from apps.accounts.permissions import dealer_permission
from apps.core.schema import ConflictSerializer
from apps.core.serializers import validated
from apps.orders import selectors as order_selectors
from apps.orders.api.serializers import OrderSerializer
from apps.quotes import services
from apps.quotes.api import serializers as s
from apps.quotes.models import Quote, QuoteStatus

_quotes = dealer_permission("quotes.add_quote", read_perms=("quotes.view_quote",))
_accept = dealer_permission("quotes.add_quote", "orders.place_order")


def _conflict(description: str) -> OpenApiResponse:
    return OpenApiResponse(ConflictSerializer, description=description)


class QuoteFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=QuoteStatus.choices)

    class Meta:
        model = Quote
        fields = ["status"]


def _detail_queryset():
    return Quote.objects.select_related("order", "requested_by").prefetch_related("lines")


class QuoteListView(ListModelMixin, DealerGenericAPIView):
    queryset = Quote.objects.select_related("order").order_by("-created_at", "-id")
    permission_classes = [_quotes]
    serializer_class = s.QuoteRequestSummarySerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = QuoteFilter

    @extend_schema(
        summary="Your company's quotes",
        description="Newest first, paginated; filter by status.",
        tags=["quotes"],
    )
    def get(self, request):
        return self.list(request)

    @extend_schema(
        summary="Ask for a quote",
        description="`lines` (each product once, a quantity within its minimum and multiple, "
        "an optional `target_price`, net), or `from_cart: true` for your cart's lines. Sales "
        "answer with a price per line and a validity date (`sent`); you may then accept it "
        "(an order at exactly those prices) or reject it. Owners and purchasing users ask.",
        request=s.QuoteRequestCreateSerializer,
        responses={201: s.QuoteRequestSerializer},
        tags=["quotes"],
    )
    def post(self, request):
        data = validated(s.QuoteRequestCreateSerializer, request.data)
        quote = services.quote_request(user=request.user, **data)
        return Response(s.QuoteRequestSerializer(quote).data, status=status.HTTP_201_CREATED)


class _QuoteObjectView(DealerGenericAPIView):
    lookup_field = "number"
    serializer_class = s.QuoteRequestSerializer
    queryset = _detail_queryset()


class QuoteDetailView(_QuoteObjectView):
    permission_classes = [_quotes]

    @extend_schema(
        summary="A quote",
        description="Its lines with the quoted prices (null until a version is sent), the "
        "validity, notes both ways and, once accepted, the order's number.",
        tags=["quotes"],
    )
    def get(self, request, number):
        return Response(s.QuoteRequestSerializer(self.get_object()).data)


class QuoteAcceptView(_QuoteObjectView):
    permission_classes = [_accept]

    @extend_schema(
        summary="Accept a quote: an order at the quoted prices",
        description="A `sent` quote within its validity becomes one order of its lines at "
        "exactly the quoted prices (lines' `price_source`: `quote`). Stock, approval and "
        "credit rules apply as for any order (409 on stock leaves the quote as it was). Once: "
        "409 `quote_used` after; 409 `quote_expired` past its validity; 409 "
        "`invalid_transition` when it is not `sent`.",
        request=s.QuoteAcceptSerializer,
        responses={
            201: OrderSerializer,
            409: _conflict(
                "Not sent, used or expired, or a line short of stock (`insufficient_stock`: "
                "`lines` lists each short line with what is available)."
            ),
        },
        tags=["quotes"],
    )
    def post(self, request, number):
        quote = self.get_object()
        data = validated(s.QuoteAcceptSerializer, request.data)
        order = services.quote_accept(quote=quote, user=request.user, **data)
        order = order_selectors.order_detail_queryset().get(pk=order.pk)
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)


class QuoteRejectView(_QuoteObjectView):
    permission_classes = [_quotes]

    @extend_schema(
        summary="Reject a quote",
        description="While it is open (`requested`, being prepared, or `sent`); a `reason` "
        "helps sales. 409 afterwards.",
        request=s.QuoteRejectSerializer,
        responses={200: s.QuoteRequestSerializer, 409: _conflict("The quote is no longer open.")},
        tags=["quotes"],
    )
    def post(self, request, number):
        quote = self.get_object()
        data = validated(s.QuoteRejectSerializer, request.data)
        quote = services.quote_reject(quote=quote, user=request.user, **data)
        return Response(s.QuoteRequestSerializer(quote).data)
