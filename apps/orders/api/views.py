"""Dealer API: cart, quick order and orders. Thin: parse, call a service or selector."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.mixins import ListModelMixin
from rest_framework.response import Response

from apps.accounts.api.base import DealerGenericAPIView
from apps.accounts.permissions import dealer_permission
from apps.core.api.parsers import SafeFormParser, SafeMultiPartParser
from apps.core.idempotency import idempotent
from apps.core.schema import ConflictSerializer, ErrorSerializer
from apps.core.serializers import no_input, only_fields, validated
from apps.orders import selectors, services
from apps.orders.api import serializers as s
from apps.orders.api.filters import OrderFilter
from apps.orders.models import CartItem, Order

_buy = dealer_permission("orders.place_order", read_perms=("orders.place_order",))
_orders = dealer_permission("orders.place_order", read_perms=("orders.view_order",))
_cancel = dealer_permission("orders.cancel_order")
_approve = dealer_permission("orders.approve_order")


def _cart(user) -> dict:
    return s.CartSerializer(selectors.cart_view(user=user)).data


def _conflict(description: str) -> OpenApiResponse:
    return OpenApiResponse(ConflictSerializer, description=description)


# --- cart -------------------------------------------------------------------------------------


class CartView(DealerGenericAPIView):
    """The caller's own cart: scoped to the user (and so to the company)."""

    queryset = CartItem.objects.all()
    company_field = "cart__customer"
    permission_classes = [_buy]

    @extend_schema(
        summary="Your cart, priced now",
        description="Each line with today's price for your company, line amounts, stock and "
        "any problem that keeps it from being ordered; totals of the sellable lines.",
        responses=s.CartSerializer,
        tags=["cart"],
    )
    def get(self, request):
        return Response(_cart(request.user))

    @extend_schema(
        summary="Empty your cart",
        description="Removes every line of your cart.",
        responses={204: None},
        tags=["cart"],
    )
    def delete(self, request):
        no_input(request)
        services.cart_clear(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CartItemsView(DealerGenericAPIView):
    queryset = CartItem.objects.all()
    company_field = "cart__customer"
    permission_classes = [_buy]

    @extend_schema(
        summary="Add a product to your cart",
        description="Adds the quantity to the product's line (a new line when the product is "
        "not in the cart yet) and answers the whole cart, priced now.",
        request=s.CartItemInputSerializer,
        responses={201: s.CartSerializer},
        tags=["cart"],
    )
    def post(self, request):
        data = validated(s.CartItemInputSerializer, request.data)
        services.cart_add(user=request.user, sku=data["sku"], quantity=data["quantity"])
        return Response(_cart(request.user), status=status.HTTP_201_CREATED)


class CartItemDetailView(DealerGenericAPIView):
    queryset = CartItem.objects.all()
    company_field = "cart__customer"
    permission_classes = [_buy]

    def get_queryset(self):  # the user's own cart, not a colleague's
        return super().get_queryset().filter(cart__user=self.request.user)

    @extend_schema(
        summary="Change a cart line's quantity",
        description="Sets the line's quantity and answers the whole cart, priced now.",
        request=s.CartItemUpdateSerializer,
        responses=s.CartSerializer,
        tags=["cart"],
    )
    def patch(self, request, pk):
        item = self.get_object()
        data = validated(s.CartItemUpdateSerializer, request.data)
        services.cart_item_update(item=item, quantity=data["quantity"])
        return Response(_cart(request.user))

    @extend_schema(
        summary="Remove a cart line",
        description="Removes the line and answers the rest of the cart, priced now (200 with "
        "the cart, not 204).",
        responses={200: s.CartSerializer},
        tags=["cart"],
    )
    def delete(self, request, pk):
        item = self.get_object()
        no_input(request)
        services.cart_item_delete(item=item)
        return Response(_cart(request.user))


class CartImportView(DealerGenericAPIView):
    queryset = CartItem.objects.all()
    company_field = "cart__customer"
    permission_classes = [_buy]
    parser_classes = [SafeMultiPartParser, SafeFormParser]

    @extend_schema(
        summary="Quick order from a file",
        description="A CSV (`sku,quantity`, `;` or `,`, header optional) or .xlsx file of at "
        "most 1,000 rows: valid rows are added to the cart, each bad row is reported with its "
        "line number and reason. Files above 2 MB answer 413.",
        request={"multipart/form-data": s.CartImportInputSerializer},
        responses={
            200: s.CartImportResultSerializer,
            413: OpenApiResponse(ErrorSerializer, description="The file is larger than 2 MB."),
        },
        tags=["cart"],
    )
    def post(self, request):
        only_fields(request, {"file"})
        result = services.cart_import(user=request.user, upload=request.FILES.get("file"))
        body = {
            "rows": result.rows,
            "added": result.added,
            "failed": result.failed,
            "errors": result.errors,
            "cart": selectors.cart_view(user=request.user),
        }
        return Response(s.CartImportResultSerializer(body).data)


# --- orders -----------------------------------------------------------------------------------


class OrderListView(ListModelMixin, DealerGenericAPIView):
    queryset = Order.objects.order_by("-created_at", "-id")
    permission_classes = [_orders]
    serializer_class = s.OrderSummarySerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = OrderFilter

    @extend_schema(
        summary="Your company's orders",
        description="Newest first, paginated; filter by status and creation date.",
        tags=["orders"],
    )
    def get(self, request):
        return self.list(request)

    @extend_schema(
        summary="Place an order",
        description="From `items` when given, else from your cart (emptied on success). Prices "
        "are recomputed on the server and stock is reserved for every line, all or nothing. "
        "The same `Idempotency-Key` with the same body replays the first answer (header "
        "`Idempotent-Replayed: true`) and creates nothing.",
        request=s.OrderCreateSerializer,
        responses={
            201: s.OrderSerializer,
            409: _conflict(
                "A line is short of stock (`insufficient_stock`: `lines` lists each short line "
                "with what is available; nothing changed), or a request with this "
                "`Idempotency-Key` is still running, or the key was used with another body."
            ),
        },
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="Any unique string (e.g. a UUID) per order you mean to place.",
            )
        ],
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
        data = validated(s.OrderCreateSerializer, request.data)
        order = services.order_place(user=request.user, **data)
        # the order as placed (its lines and history are loaded): the same answer as reading
        # it back, without the three queries; a replay reads it back (``_placed``)
        return Response(s.OrderSerializer(order).data, status=status.HTTP_201_CREATED)

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

    @extend_schema(
        summary="An order",
        description="With its lines, totals, addresses and `status_history`.",
        tags=["orders"],
    )
    def get(self, request, number):
        return Response(s.OrderSerializer(self.get_object()).data)


class OrderCancelView(OrderObjectView):
    permission_classes = [_cancel]

    @extend_schema(
        summary="Cancel an order",
        description="Possible while the order is `awaiting_*` or `confirmed`; its stock "
        "reservation is released.",
        request=s.RequiredReasonSerializer,
        responses={
            200: s.OrderSerializer,
            409: _conflict("The order can no longer be cancelled (its status forbids it)."),
        },
        tags=["orders"],
    )
    def post(self, request, number):
        order = self.get_object()
        data = validated(s.RequiredReasonSerializer, request.data)
        return self.detail(services.order_cancel(order=order, by=request.user, **data))


class OrderApproveView(OrderObjectView):
    permission_classes = [_approve]

    @extend_schema(
        summary="Approve an order over a buyer's limit",
        description="For the company owner: an `awaiting_approval` order continues with the "
        "credit and payment rules.",
        request=None,
        responses={
            200: s.OrderSerializer,
            409: _conflict("The order is not awaiting approval."),
        },
        tags=["orders"],
    )
    def post(self, request, number):
        order = self.get_object()
        no_input(request)
        return self.detail(services.order_approve(order=order, by=request.user))


class OrderRejectView(OrderObjectView):
    permission_classes = [_approve]

    @extend_schema(
        summary="Reject an order over a buyer's limit",
        description="For the company owner: an `awaiting_approval` order is rejected and its "
        "stock reservation released.",
        request=s.RequiredReasonSerializer,
        responses={
            200: s.OrderSerializer,
            409: _conflict("The order is not awaiting approval."),
        },
        tags=["orders"],
    )
    def post(self, request, number):
        order = self.get_object()
        data = validated(s.RequiredReasonSerializer, request.data)
        return self.detail(services.order_reject(order=order, by=request.user, **data))


class OrderReorderView(OrderObjectView):
    permission_classes = [_buy]

    @extend_schema(
        summary="Order again",
        description="Puts the order's lines into your cart (today's prices apply); lines that "
        "can no longer be ordered are reported in `skipped`.",
        request=None,
        responses=s.ReorderResultSerializer,
        tags=["orders"],
    )
    def post(self, request, number):
        order = self.get_object()
        no_input(request)
        result = services.order_reorder(user=request.user, order=order)
        body = {
            "added": result.added,
            "skipped": result.skipped,
            "cart": selectors.cart_view(user=request.user),
        }
        return Response(s.ReorderResultSerializer(body).data)
