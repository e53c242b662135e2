"""Integration API: the ERP picks orders up and reports their fulfilment (the top layer: it
calls the orders app's services; nothing below imports it).

``GET orders?status=&updated_since=`` (scope ``orders:read``) lists orders oldest change
first (``updated_at, id``), so a connector pulls increments: it keeps the last ``updated_at``
it saw and asks again from there (``updated_since`` is inclusive; a naive time is UTC), by
keyset (``cursor=``, ``apps.core.pagination.ChangesPagination``).

``POST orders/{number}/status`` (scope ``orders:write``) moves an order through
``order_set_status`` with the actor ``erp``: the status machine (``apps.orders.states``)
decides, a transition it forbids is 409 ``invalid_transition`` and changes nothing; the same
status again answers 200 with ``changed: false``. ``Idempotency-Key`` replays the first answer.
"""

from __future__ import annotations

import datetime

from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response

from apps.accounts.models import ApiKeyScope
from apps.core.exceptions import NotFound, ValidationError
from apps.core.idempotency import idempotent
from apps.core.pagination import ChangesPagination
from apps.core.schema import IDEMPOTENCY_KEY, ConflictSerializer
from apps.core.serializers import StrictInputSerializer, one_line
from apps.integrations.api.base import CHANGES_PAGES, IntegrationAPIView
from apps.orders import services
from apps.orders.api.serializers import AddressSnapshotSerializer
from apps.orders.models import Order, OrderLine, OrderStatus
from apps.orders.states import ERP

TAGS = ["integration: orders"]
MAX_SERIALS_PER_SKU = 10_000

# --- serializers ------------------------------------------------------------------------------


class ErpOrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = (
            "sku",
            "name",
            "quantity",
            "unit_net",
            "discount",
            "vat_rate",
            "line_net",
            "line_vat",
            "line_gross",
            "serial_numbers",
            "quote_number",
        )
        read_only_fields = fields

    serial_numbers = serializers.ListField(
        child=serializers.CharField(), help_text="Set when the line ships (serial-tracked)."
    )


_ADDRESS_HELP = (
    "The address as it was when the order was placed: "
    "`{id, title, line1, line2, district, city, postal_code, country, phone}`."
)


class ErpOrderSerializer(serializers.ModelSerializer):
    customer_code = serializers.CharField(source="customer.code", help_text="The dealer's code.")
    shipping_address = AddressSnapshotSerializer(help_text=_ADDRESS_HELP)
    billing_address = AddressSnapshotSerializer(help_text=_ADDRESS_HELP)
    lines = ErpOrderLineSerializer(many=True)

    class Meta:
        model = Order
        fields = (
            "number",
            "customer_code",
            "status",
            "payment_method",
            "currency",
            "subtotal_net",
            "vat_total",
            "grand_total",
            "po_number",
            "note",
            "shipping_address",
            "billing_address",
            "tracking_number",
            "carrier",
            "created_at",
            "updated_at",
            "confirmed_at",
            "shipped_at",
            "delivered_at",
            "cancelled_at",
            "lines",
        )
        read_only_fields = fields


class ErpOrderStatusResultSerializer(ErpOrderSerializer):
    changed = serializers.SerializerMethodField(
        help_text="false: the order already had this status (nothing but a new tracking "
        "number or carrier was recorded)."
    )

    class Meta(ErpOrderSerializer.Meta):
        fields = (*ErpOrderSerializer.Meta.fields, "changed")
        read_only_fields = fields

    def get_changed(self, order) -> bool:
        return bool(self.context.get("changed"))


class ErpOrderFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices, required=False)
    updated_since = serializers.DateTimeField(
        required=False, default_timezone=datetime.UTC, input_formats=["iso-8601"]
    )


class SerialNumberField(serializers.CharField):
    """A serial number: text only (DRF's field took ``1`` as the serial "1")."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ErpOrderStatusInputSerializer(StrictInputSerializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    tracking_number = serializers.CharField(
        max_length=64, required=False, allow_blank=True, allow_null=True, validators=[one_line]
    )
    carrier = serializers.CharField(
        max_length=64, required=False, allow_blank=True, allow_null=True, validators=[one_line]
    )
    note = serializers.CharField(
        max_length=1000,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="Kept in the order's status history.",
    )
    serial_numbers = serializers.DictField(
        child=serializers.ListField(
            child=SerialNumberField(max_length=100), max_length=MAX_SERIALS_PER_SKU
        ),
        required=False,
        allow_null=True,
        help_text="With `shipped` only: `{sku: [serial, ...]}`, exactly the line's quantity "
        "per serial-tracked SKU. Left out: the oldest serial numbers in stock are taken.",
    )

    def validate(self, attrs):
        if attrs.get("serial_numbers") and attrs["status"] != OrderStatus.SHIPPED:
            raise serializers.ValidationError(
                {"serial_numbers": [_("Serial numbers go with the status shipped only.")]}
            )
        return attrs


# --- reads ------------------------------------------------------------------------------------


def erp_order_queryset():
    """Orders shaped for the ERP: the dealer and the lines in two queries for any page."""
    return (
        Order.objects.select_related("customer")
        .prefetch_related("lines")
        .order_by("updated_at", "id")
    )


def erp_order_list(*, status: str | None = None, updated_since: datetime.datetime | None = None):
    queryset = erp_order_queryset()
    if status:
        queryset = queryset.filter(status=status)
    if updated_since is not None:
        queryset = queryset.filter(updated_at__gte=updated_since)
    return queryset


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _serial_errors(exc: ValidationError, order: Order) -> ValidationError:
    """The service names serial-number problems ``serials.<product id>``; the API field is
    ``serial_numbers.<sku>``."""
    skus = {str(pid): sku for pid, sku in order.lines.values_list("product_id", "sku")}
    errors = {}
    for key, messages in exc.errors.items():
        head, _dot, rest = key.partition(".")
        if head == "serials":
            key = f"serial_numbers.{skus.get(rest, rest)}" if rest else "serial_numbers"
        errors[key] = messages
    return ValidationError(errors, detail=exc.detail, code=exc.code)


# --- views ------------------------------------------------------------------------------------

_ORDER_PAGE = inline_serializer(
    name="PaginatedErpOrderList",
    fields={
        "count": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": ErpOrderSerializer(many=True),
    },
)


class ErpOrderListView(IntegrationAPIView):
    required_scopes = {"GET": ApiKeyScope.ORDERS_READ}
    pagination_class = ChangesPagination

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status",
                str,
                OpenApiParameter.QUERY,
                required=False,
                enum=OrderStatus.values,
                description="Only orders in this status.",
            ),
            OpenApiParameter(
                "updated_since",
                datetime.datetime,
                OpenApiParameter.QUERY,
                required=False,
                description="ISO 8601 time, inclusive: orders changed at or after it. Without "
                "an offset the time is UTC. Send `Z` or URL-encode `+` as `%2B`.",
            ),
            *CHANGES_PAGES,
        ],
        responses={200: _ORDER_PAGE},
        tags=TAGS,
        operation_id="integration_orders_list",
        summary="Orders for the ERP to pick up (oldest change first)",
        description="Ordered by `updated_at`, then `id`. A connector keeps the last "
        "`updated_at` it saw and asks again with `updated_since` set to it (the orders of "
        "that very instant come again: deduplicate by `number` and `updated_at`), with "
        "`cursor=`, following `next` until it is null: the cursor never skips nor repeats an "
        "order, also when many share one `updated_at`, while `page=2,3...` shifts under you "
        "when an order changes as you page.",
    )
    def get(self, request):
        filters = _valid(ErpOrderFilterSerializer, request.query_params)
        queryset = erp_order_list(
            status=filters.get("status"), updated_since=filters.get("updated_since")
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(ErpOrderSerializer(page, many=True).data)


class ErpOrderStatusView(IntegrationAPIView):
    required_scopes = {"POST": ApiKeyScope.ORDERS_WRITE}

    @extend_schema(
        parameters=[
            OpenApiParameter("number", str, OpenApiParameter.PATH, description="Order number."),
            IDEMPOTENCY_KEY,
        ],
        request=ErpOrderStatusInputSerializer,
        responses={
            200: ErpOrderStatusResultSerializer,
            409: OpenApiResponse(
                ConflictSerializer,
                description="The status machine forbids this move (`invalid_transition`; "
                "`allowed` lists the statuses the ERP may set now), or the Idempotency-Key "
                "was used with another body (`idempotency_key_reused`). Nothing changed.",
            ),
        },
        tags=TAGS,
        operation_id="integration_order_status_create",
        summary="Report an order's fulfilment (processing, shipped, delivered, cancelled)",
        description="`shipped` turns the reservation into a sale; serial-tracked lines take "
        "the serial numbers given, else the oldest in stock. `cancelled` releases the "
        "reservation. Sending the status the order already has answers 200 with "
        "`changed: false` (a tracking number or carrier given is still recorded).",
    )
    def post(self, request, number: str):
        return idempotent(
            request,
            scope=f"apikey:{self.api_key.pk}:{request.path}",
            handler=lambda: self._set_status(request, number),
            atomic=True,
        )

    def _set_status(self, request, number: str) -> Response:
        order = Order.objects.filter(number=number).first()
        if order is None:
            raise NotFound(code="not_found")
        data = _valid(ErpOrderStatusInputSerializer, request.data)
        try:
            order, changed = services.order_set_status(
                order=order,
                status=data["status"],
                actor=ERP,
                note=data.get("note") or "",
                tracking_number=data.get("tracking_number"),
                carrier=data.get("carrier"),
                serials=data.get("serial_numbers"),
                api_key=self.api_key,
            )
        except ValidationError as exc:
            raise _serial_errors(exc, order) from exc
        order = erp_order_queryset().get(pk=order.pk)
        return Response(ErpOrderStatusResultSerializer(order, context={"changed": changed}).data)
