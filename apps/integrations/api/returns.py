"""Integration API: the ERP picks returns up and decides on them (the top layer: it calls the
returns app's services; nothing below imports it).

``GET returns?status=&updated_since=`` (scope ``returns:read``) lists returns oldest change
first (``updated_at, id``), for incremental pulls as with orders.

``POST returns/{number}/status`` (scope ``returns:write``) ``{status, lines?, note}``: approve,
reject (``note`` is the reason), received (``lines``: ``[{sku, quantity, quarantine?,
serial_numbers?}]``, default: all asked, back in stock) or credited, with the actor ``erp``.
The status machine decides (409 ``invalid_transition``); the status the return has already
answers 200 with ``changed: false``. ``Idempotency-Key`` replays the first answer.
"""

from __future__ import annotations

import datetime

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.accounts.models import ApiKeyScope
from apps.core.exceptions import NotFound
from apps.core.idempotency import idempotent
from apps.core.pagination import ChangesPagination
from apps.core.schema import ConflictSerializer
from apps.core.serializers import OptionalTextField, StrictInputSerializer
from apps.integrations.api.base import CHANGES_PAGES, IntegrationAPIView
from apps.returns.api.serializers import ReturnPhotoSerializer, ReturnSerializer
from apps.returns.api.views import PHOTO_RESPONSES, photo_response
from apps.returns.models import ReturnRequest, ReturnStatus
from apps.returns.services import return_set_status
from apps.returns.states import ERP

TAGS = ["integration: returns"]
DECISIONS = [
    ReturnStatus.APPROVED,
    ReturnStatus.REJECTED,
    ReturnStatus.RECEIVED,
    ReturnStatus.CREDITED,
]
DECISION_CHOICES = [(status.value, status.label) for status in DECISIONS]


class ErpReturnPhotoSerializer(ReturnPhotoSerializer):
    url_name = "api-integration-v1:return-photo"


class ErpReturnSerializer(ReturnSerializer):
    customer_code = serializers.CharField(source="customer.code")
    photos = ErpReturnPhotoSerializer(many=True)

    class Meta(ReturnSerializer.Meta):
        fields = ["customer_code", *ReturnSerializer.Meta.fields]


class ErpReturnStatusResultSerializer(ErpReturnSerializer):
    changed = serializers.SerializerMethodField(
        help_text="false: the return already had this status; nothing changed."
    )

    class Meta(ErpReturnSerializer.Meta):
        fields = [*ErpReturnSerializer.Meta.fields, "changed"]

    def get_changed(self, obj) -> bool:
        return bool(self.context.get("changed"))


class ErpReturnFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ReturnStatus.choices, required=False)
    updated_since = serializers.DateTimeField(
        required=False, default_timezone=datetime.UTC, input_formats=["iso-8601"]
    )


class ErpReceivedLineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=0)
    quarantine = serializers.BooleanField(
        required=False, help_text="Set aside for inspection: not back on hand."
    )
    serial_numbers = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False
    )


class ErpReturnStatusInputSerializer(StrictInputSerializer):
    status = serializers.ChoiceField(choices=DECISION_CHOICES)
    lines = ErpReceivedLineSerializer(
        many=True,
        required=False,
        allow_empty=False,  # ``[]`` is no receipt, not "all asked": left out is
        help_text="With `received` only; left out: all asked (an empty list is refused).",
    )
    note = OptionalTextField(
        max_length=2000,
        help_text="Kept in the return's history; the reason (required) with `rejected`.",
    )


def erp_return_queryset():
    return (
        ReturnRequest.objects.select_related("customer", "order")
        .prefetch_related("lines", "photos", "status_history__changed_by")
        .order_by("updated_at", "id")
    )


_PAGE = {
    "count": serializers.IntegerField(),
    "next": serializers.URLField(allow_null=True),
    "previous": serializers.URLField(allow_null=True),
}


class ErpReturnListView(IntegrationAPIView):
    required_scopes = {"GET": ApiKeyScope.RETURNS_READ}
    pagination_class = ChangesPagination

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status",
                str,
                OpenApiParameter.QUERY,
                required=False,
                enum=ReturnStatus.values,
                description="Only returns in this status.",
            ),
            OpenApiParameter(
                "updated_since",
                datetime.datetime,
                OpenApiParameter.QUERY,
                required=False,
                description="ISO 8601 time, inclusive: returns changed at or after it (UTC "
                "without an offset).",
            ),
            *CHANGES_PAGES,
        ],
        responses={200: ErpReturnSerializer(many=True)},
        tags=TAGS,
        operation_id="integration_returns_list",
        summary="Returns for the ERP to pick up (oldest change first)",
        description="Ordered by `updated_at`, then `id`; pull increments with "
        "`updated_since` and `cursor=` as for orders (deduplicate by `number` and `updated_at`).",
    )
    def get(self, request):
        filters = ErpReturnFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = erp_return_queryset()
        if filters.validated_data.get("status"):
            queryset = queryset.filter(status=filters.validated_data["status"])
        if filters.validated_data.get("updated_since") is not None:
            queryset = queryset.filter(updated_at__gte=filters.validated_data["updated_since"])
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(ErpReturnSerializer(page, many=True).data)


class ErpReturnStatusView(IntegrationAPIView):
    required_scopes = {"POST": ApiKeyScope.RETURNS_WRITE}

    @extend_schema(
        parameters=[
            OpenApiParameter("number", str, OpenApiParameter.PATH, description="Return number."),
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="Replays the first answer to the same key and body.",
            ),
        ],
        request=ErpReturnStatusInputSerializer,
        responses={
            200: ErpReturnStatusResultSerializer,
            409: OpenApiResponse(
                ConflictSerializer,
                description="The status machine forbids this move (`invalid_transition`).",
            ),
        },
        tags=TAGS,
        operation_id="integration_return_status_create",
        summary="Decide on a return (approved, rejected, received, credited)",
        description="`received` puts the received units back in stock (`return` movements "
        "into the warehouses the order shipped from, as the sale split them; serials back "
        "where they were sold from) unless "
        "`quarantine`; `credited` writes the credit note at the order's prices, VAT "
        "included. The status the return has already answers 200 with `changed: false`.",
    )
    def post(self, request, number: str):
        return idempotent(
            request,
            scope=f"apikey:{self.api_key.pk}:{request.path}",
            handler=lambda: self._set_status(request, number),
            atomic=True,
        )

    def _set_status(self, request, number: str) -> Response:
        found = ReturnRequest.objects.filter(number=number).first()
        if found is None:
            raise NotFound(code="not_found")
        data = ErpReturnStatusInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result, changed = return_set_status(
            request=found,
            status=data.validated_data["status"],
            actor=ERP,
            note=data.validated_data.get("note") or "",
            lines=(
                [dict(line) for line in data.validated_data["lines"]]
                if "lines" in data.validated_data
                else None
            ),
            api_key=self.api_key,
        )
        result = erp_return_queryset().get(pk=result.pk)
        return Response(ErpReturnStatusResultSerializer(result, context={"changed": changed}).data)


class ErpReturnPhotoView(IntegrationAPIView):
    required_scopes = {"GET": ApiKeyScope.RETURNS_READ}

    @extend_schema(
        parameters=[
            OpenApiParameter("number", str, OpenApiParameter.PATH, description="Return number."),
            OpenApiParameter("photo_id", int, OpenApiParameter.PATH, description="Photo id."),
        ],
        responses=PHOTO_RESPONSES,
        tags=TAGS,
        operation_id="integration_return_photo",
        summary="A photo the dealer sent with a return",
        description="The image as it was sent (JPEG, PNG or WebP); its address is the photo's "
        "`url` in the return.",
    )
    def get(self, request, number: str, photo_id: int):
        found = ReturnRequest.objects.prefetch_related("photos").filter(number=number).first()
        if found is None:
            raise NotFound(code="not_found")
        return photo_response(found, photo_id)
