"""Dealer API: cart, quick order and orders. Thin: parse, call a service or selector."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.mixins import ListModelMixin
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from apps.accounts.api.base import DealerGenericAPIView
from apps.accounts.permissions import dealer_permission
from apps.core.idempotency import idempotent
from apps.orders import selectors, services
from apps.orders.api import serializers as s
from apps.orders.models import CartItem, Order

_buy = dealer_permission("orders.place_order", read_perms=("orders.place_order",))
_orders = dealer_permission("orders.place_order", read_perms=("orders.view_order",))
_cancel = dealer_permission("orders.cancel_order")
_approve = dealer_permission("orders.approve_order")

CartSerializer = inline_serializer(
    name="Cart",
    fields={
        "currency": serializers.CharField(),
        "lines": serializers.ListField(child=serializers.DictField()),
        "line_count": serializers.IntegerField(),
        "subtotal_net": serializers.CharField(),
        "vat_total": serializers.CharField(),
        "grand_total": serializers.CharField(),
        "orderable": serializers.BooleanField(),
    },
)
ImportResultSerializer = inline_serializer(
    name="CartImportResult",
    fields={
        "rows": serializers.IntegerField(),
        "added": serializers.IntegerField(),
        "failed": serializers.IntegerField(),
        "errors": serializers.ListField(child=serializers.DictField()),
        "cart": CartSerializer,
    },
)
ReorderResultSerializer = inline_serializer(
    name="ReorderResult",
    fields={
        "added": serializers.ListField(child=serializers.DictField()),
        "skipped": serializers.ListField(child=serializers.DictField()),
        "cart": CartSerializer,
    },
)


def _validated(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- cart -------------------------------------------------------------------------------------


class CartView(DealerGenericAPIView):
    """The caller's own cart: scoped to the user (and so to the company)."""

    queryset = CartItem.objects.all()
    company_field = "cart__customer"
    permission_classes = [_buy]

    @extend_schema(responses=CartSerializer, tags=["cart"])
    def get(self, request):
        return Response(selectors.cart_view(user=request.user))

    @extend_schema(responses={204: None}, tags=["cart"])
    def delete(self, request):
        services.cart_clear(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CartItemsView(DealerGenericAPIView):
    queryset = CartItem.objects.all()
    company_field = "cart__customer"
    permission_classes = [_buy]

    @extend_schema(
        request=s.CartItemInputSerializer, responses={201: CartSerializer}, tags=["cart"]
    )
    def post(self, request):
        data = _validated(s.CartItemInputSerializer, request.data)
        services.cart_add(user=request.user, sku=data["sku"], quantity=data["quantity"])
        return Response(selectors.cart_view(user=request.user), status=status.HTTP_201_CREATED)


class CartItemDetailView(DealerGenericAPIView):
    queryset = CartItem.objects.all()
    company_field = "cart__customer"
    permission_classes = [_buy]

    def get_queryset(self):  # the user's own cart, not a colleague's
        return super().get_queryset().filter(cart__user=self.request.user)

    @extend_schema(request=s.CartItemUpdateSerializer, responses=CartSerializer, tags=["cart"])
    def patch(self, request, pk):
        item = self.get_object()
        data = _validated(s.CartItemUpdateSerializer, request.data)
        services.cart_item_update(item=item, quantity=data["quantity"])
        return Response(selectors.cart_view(user=request.user))

    @extend_schema(responses=CartSerializer, tags=["cart"])
    def delete(self, request, pk):
        services.cart_item_delete(item=self.get_object())
        return Response(selectors.cart_view(user=request.user))


class CartImportView(DealerGenericAPIView):
    queryset = CartItem.objects.all()
    company_field = "cart__customer"
    permission_classes = [_buy]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": s.CartImportInputSerializer},
        responses=ImportResultSerializer,
        tags=["cart"],
    )
    def post(self, request):
        result = services.cart_import(user=request.user, upload=request.FILES.get("file"))
        return Response({**result.as_api(), "cart": selectors.cart_view(user=request.user)})


# --- orders -----------------------------------------------------------------------------------


class OrderListView(ListModelMixin, DealerGenericAPIView):
    queryset = Order.objects.all()
    permission_classes = [_orders]
    serializer_class = s.OrderSummarySerializer

    def filter_queryset(self, queryset):
        filters = _validated(s.OrderFilterSerializer, self.request.query_params)
        if filters.get("status"):
            queryset = queryset.filter(status=filters["status"])
        if filters.get("created_from"):
            queryset = queryset.filter(created_at__date__gte=filters["created_from"])
        if filters.get("created_to"):
            queryset = queryset.filter(created_at__date__lte=filters["created_to"])
        return queryset.order_by("-created_at", "-id")

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=[c for c, _l in s.OrderStatus.choices]),
            OpenApiParameter("created_from", str, description="YYYY-MM-DD (inclusive)"),
            OpenApiParameter("created_to", str, description="YYYY-MM-DD (inclusive)"),
        ],
        tags=["orders"],
    )
    def get(self, request):
        return self.list(request)

    @extend_schema(
        request=s.OrderCreateSerializer,
        responses={201: s.OrderSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        tags=["orders"],
    )
    def post(self, request):
        return idempotent(
            request,
            scope=f"user:{request.user.pk}:orders",
            handler=lambda: self._place(request),
            rebuild=self._placed,
        )

    def _place(self, request) -> Response:
        data = _validated(s.OrderCreateSerializer, request.data)
        order = services.order_place(user=request.user, **data)
        return self._placed(order.number)

    def _placed(self, number: str) -> Response:
        order = selectors.order_detail_queryset().get(number=number)
        return Response(s.OrderSerializer(order).data, status=status.HTTP_201_CREATED)


class OrderObjectView(DealerGenericAPIView):
    queryset = Order.objects.all()
    lookup_field = "number"
    serializer_class = s.OrderSerializer

    def get_queryset(self):
        return selectors.order_detail_queryset(super().get_queryset())

    def detail(self, order: Order) -> Response:
        order = get_object_or_404(self.get_queryset(), pk=order.pk)
        return Response(s.OrderSerializer(order).data)


class OrderDetailView(OrderObjectView):
    permission_classes = [_orders]

    @extend_schema(tags=["orders"])
    def get(self, request, number):
        return Response(s.OrderSerializer(self.get_object()).data)


class OrderCancelView(OrderObjectView):
    permission_classes = [_cancel]

    @extend_schema(request=s.ReasonSerializer, responses=s.OrderSerializer, tags=["orders"])
    def post(self, request, number):
        order = self.get_object()
        data = _validated(s.ReasonSerializer, request.data)
        return self.detail(services.order_cancel(order=order, by=request.user, **data))


class OrderApproveView(OrderObjectView):
    permission_classes = [_approve]

    @extend_schema(request=None, responses=s.OrderSerializer, tags=["orders"])
    def post(self, request, number):
        return self.detail(services.order_approve(order=self.get_object(), by=request.user))


class OrderRejectView(OrderObjectView):
    permission_classes = [_approve]

    @extend_schema(request=s.RequiredReasonSerializer, responses=s.OrderSerializer, tags=["orders"])
    def post(self, request, number):
        order = self.get_object()
        data = _validated(s.RequiredReasonSerializer, request.data)
        return self.detail(services.order_reject(order=order, by=request.user, **data))


class OrderReorderView(OrderObjectView):
    permission_classes = [_buy]

    @extend_schema(request=None, responses=ReorderResultSerializer, tags=["orders"])
    def post(self, request, number):
        result = services.order_reorder(user=request.user, order=self.get_object())
        return Response({**result, "cart": selectors.cart_view(user=request.user)})
