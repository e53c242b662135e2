"""Integration API: the calling key's webhook endpoints and their deliveries
(scope ``webhooks:manage``). Another key's endpoint or delivery answers 404."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response

from apps.accounts.models import ApiKeyScope
from apps.core.events import ALL_EVENTS, EVENT_TYPES, subscribable_event_types
from apps.core.exceptions import ValidationError, flatten_errors
from apps.core.idempotency import idempotent
from apps.core.pagination import PageNumberPagination
from apps.core.schema import IDEMPOTENCY_KEY, ConflictSerializer
from apps.core.serializers import StrictInputSerializer, no_input
from apps.integrations.api.base import PAGES, IntegrationAPIView
from apps.integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from apps.integrations.services.endpoints import (
    webhook_delivery_retry,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_send_test,
    webhook_endpoint_update,
)

TAGS = ["integration: webhooks"]
DELIVERY_STATUSES = WebhookDelivery.Status.choices  # the schema's WebhookDeliveryStatusEnum


def _event_type_choices() -> list[str]:
    return [*subscribable_event_types(), ALL_EVENTS]


def _catalogue() -> str:
    lines = [
        f"- `{name}` (ordered by subject `{event.subject}`): {event.description}"
        for name, event in EVENT_TYPES.items()
    ]
    return "\n".join(lines)


# --- serializers ----------------------------------------------------------------------------


class WebhookEndpointInputSerializer(StrictInputSerializer):
    echo_fields = ("id", "disabled_reason", "created_at", "updated_at")

    url = serializers.CharField(
        max_length=2000,
        help_text="https URL (http only where allowed); private, loopback, link-local and "
        "reserved addresses are refused.",
    )
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=_event_type_choices()),
        allow_empty=False,
        max_length=50,
        help_text='Event types to receive; `"*"`: all of them.',
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class WebhookEndpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = (
            "id",
            "url",
            "event_types",
            "is_active",
            "description",
            "disabled_reason",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    event_types = serializers.ListField(child=serializers.CharField())


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        help_text="The signing secret (`whsec_...`): shown in this answer only."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = (*WebhookEndpointSerializer.Meta.fields, "secret")
        read_only_fields = fields


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ("number", "at", "status_code", "duration_ms", "error", "response_excerpt")
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    endpoint = serializers.IntegerField(source="endpoint_id")
    event_id = serializers.IntegerField()
    attempts = WebhookAttemptSerializer(many=True)

    class Meta:
        model = WebhookDelivery
        fields = (
            "id",
            "webhook_id",
            "event_id",
            "event_type",
            "endpoint",
            "status",
            "attempt_count",
            "next_attempt_at",
            "created_at",
            "delivered_at",
            "dead_at",
            "attempts",
        )
        read_only_fields = fields


class DeliveryFilterSerializer(serializers.Serializer):
    endpoint = serializers.IntegerField(min_value=1, required=False)
    status = serializers.ChoiceField(choices=DELIVERY_STATUSES, required=False)
    event_type = serializers.CharField(max_length=64, required=False)

    def validate_event_type(self, value: str) -> str:
        # as `status`: a type that does not exist is a mistake, not an empty list
        if value not in EVENT_TYPES:
            raise serializers.ValidationError(
                _("Unknown event type: %(type)s.") % {"type": value[:64]}
            )
        return value


def _paginated(name: str, item: serializers.Serializer):
    return inline_serializer(
        name=name,
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item,
        },
    )


_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The id.")
_TEST_ANSWER = inline_serializer(
    name="WebhookTestQueued",
    fields={"event_id": serializers.IntegerField(), "type": serializers.CharField()},
)
_ENDPOINT_PAGE = _paginated("PaginatedWebhookEndpointList", WebhookEndpointSerializer(many=True))
_DELIVERY_PAGE = _paginated("PaginatedWebhookDeliveryList", WebhookDeliverySerializer(many=True))
_409 = OpenApiResponse(ConflictSerializer, description="Not possible in the current state.")


# --- views ----------------------------------------------------------------------------------


class WebhookView(IntegrationAPIView):
    required_scopes = {"*": ApiKeyScope.WEBHOOKS_MANAGE}

    def endpoints(self):
        return WebhookEndpoint.objects.filter(api_key=self.api_key)

    def endpoint(self, pk: int) -> WebhookEndpoint:
        return get_object_or_404(self.endpoints(), pk=pk)

    def deliveries(self):
        return WebhookDelivery.objects.filter(
            endpoint__api_key=self.api_key, endpoint__is_deleted=False
        ).prefetch_related("attempts")

    def valid(self, serializer_class, data, **kwargs) -> dict:
        serializer = serializer_class(data=data, **kwargs)
        if not serializer.is_valid():
            raise ValidationError(flatten_errors(serializer.errors))
        return serializer.validated_data


class WebhookEndpointListView(WebhookView):
    pagination_class = PageNumberPagination

    @extend_schema(
        parameters=list(PAGES),
        responses={
            200: _paginated("PaginatedWebhookEndpointList", WebhookEndpointSerializer(many=True))
        },
        tags=TAGS,
        operation_id="webhook_endpoints_list",
        summary="List this key's webhook endpoints",
        description="The endpoints this API key subscribed; another key's are never listed.",
    )
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(self.endpoints().order_by("id"), request, view=self)
        return paginator.get_paginated_response(WebhookEndpointSerializer(page, many=True).data)

    @extend_schema(
        request=WebhookEndpointInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: WebhookEndpointCreatedSerializer,
            409: OpenApiResponse(
                ConflictSerializer,
                description="The Idempotency-Key was used with another body "
                "(`idempotency_key_reused`), or its first request is still running.",
            ),
        },
        tags=TAGS,
        summary="Subscribe an endpoint (the answer carries its secret, once)",
        description="Events are POSTed as `{type, timestamp, data}` with the Standard Webhooks "
        "headers `webhook-id`, `webhook-timestamp`, `webhook-signature`; any 2xx is delivered, "
        "otherwise retried after 1, 2, 4, 8, 16 s, then dead-lettered. Event types:\n\n"
        + _catalogue(),
    )
    def post(self, request):
        # a connector retrying after a timeout must not subscribe twice (every event would
        # then come twice, under two webhook-ids its deduplication cannot match)
        return idempotent(
            request,
            scope=f"apikey:{self.api_key.pk}:{request.path}",
            handler=lambda: self._create(request),
            atomic=True,
        )

    def _create(self, request) -> Response:
        data = self.valid(WebhookEndpointInputSerializer, request.data, context={"creating": True})
        endpoint, secret = webhook_endpoint_create(api_key=self.api_key, **data)
        body = WebhookEndpointSerializer(endpoint).data | {"secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)


class WebhookEndpointDetailView(WebhookView):
    @extend_schema(
        parameters=[_ID],
        responses={200: WebhookEndpointSerializer},
        tags=TAGS,
        summary="One of this key's webhook endpoints",
        description="404 for an endpoint of another API key. The secret is not shown again.",
    )
    def get(self, request, pk: int):
        return Response(WebhookEndpointSerializer(self.endpoint(pk)).data)

    @extend_schema(
        parameters=[_ID],
        request=WebhookEndpointInputSerializer(partial=True),
        responses={200: WebhookEndpointSerializer},
        tags=TAGS,
        summary="Change an endpoint (url, event_types, description, is_active)",
        description="The URL is checked again (https where required, no private or "
        "reserved address, no control characters); 404 for another key's endpoint.",
    )
    def patch(self, request, pk: int):
        endpoint = self.endpoint(pk)
        current = WebhookEndpointSerializer(endpoint).data  # what may be sent back unchanged
        data = self.valid(
            WebhookEndpointInputSerializer,
            request.data,
            partial=True,
            context={"current": current},
        )
        endpoint = webhook_endpoint_update(endpoint=endpoint, data=data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        parameters=[_ID],
        responses={204: None},
        tags=TAGS,
        summary="Delete an endpoint (its pending deliveries are dropped)",
        description="Nothing more is sent to it; its pending deliveries become dead and stay "
        "listed with their attempts.",
    )
    def delete(self, request, pk: int):
        endpoint = self.endpoint(pk)
        no_input(request)
        webhook_endpoint_delete(endpoint=endpoint)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookEndpointTestView(WebhookView):
    @extend_schema(
        parameters=[_ID],
        request=None,
        responses={202: _TEST_ANSWER, 409: _409},
        tags=TAGS,
        summary="Send a webhook.test event to this endpoint (the normal delivery path)",
        description="202: the event goes through the outbox, signing and retries like any "
        "other, to this endpoint only.",
    )
    def post(self, request, pk: int):
        endpoint = self.endpoint(pk)
        no_input(request)
        event = webhook_endpoint_send_test(endpoint=endpoint)
        return Response({"event_id": event.pk, "type": event.type}, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveryListView(WebhookView):
    pagination_class = PageNumberPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("endpoint", int, OpenApiParameter.QUERY, required=False),
            OpenApiParameter(
                "status",
                str,
                OpenApiParameter.QUERY,
                required=False,
                enum=WebhookDelivery.Status.values,
            ),
            OpenApiParameter(
                "event_type", str, OpenApiParameter.QUERY, required=False, enum=sorted(EVENT_TYPES)
            ),
            *PAGES,
        ],
        responses={
            200: _paginated("PaginatedWebhookDeliveryList", WebhookDeliverySerializer(many=True))
        },
        tags=TAGS,
        operation_id="webhook_deliveries_list",
        summary="Deliveries to this key's endpoints, newest first",
        description="Filter by `endpoint`, `status` (pending, delivered, dead) and "
        "`event_type`; each delivery lists its attempts.",
    )
    def get(self, request):
        # an optional filter sent empty (``?status=``) is absent, as in every other list
        given = {k: v for k, v in request.query_params.dict().items() if v != ""}
        filters = self.valid(DeliveryFilterSerializer, given)
        deliveries = self.deliveries()
        if "endpoint" in filters:
            deliveries = deliveries.filter(endpoint_id=filters["endpoint"])
        if "status" in filters:
            deliveries = deliveries.filter(status=filters["status"])
        if "event_type" in filters:
            deliveries = deliveries.filter(event_type=filters["event_type"])
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(deliveries.order_by("-id"), request, view=self)
        return paginator.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


class WebhookDeliveryDetailView(WebhookView):
    @extend_schema(
        parameters=[_ID],
        responses={200: WebhookDeliverySerializer},
        tags=TAGS,
        summary="One delivery with its attempts",
        description="Each attempt with its time, HTTP status, duration and error; 404 for "
        "another key's delivery.",
    )
    def get(self, request, pk: int):
        return Response(WebhookDeliverySerializer(get_object_or_404(self.deliveries(), pk=pk)).data)


class WebhookDeliveryRetryView(WebhookView):
    @extend_schema(
        parameters=[_ID],
        request=None,
        responses={202: WebhookDeliverySerializer, 409: _409},
        tags=TAGS,
        summary="Send a dead delivery again (same webhook-id); 409 when it is not dead",
        description="202: a dead delivery is sent again with the same `webhook-id` (receivers "
        "deduplicate by it) and a fresh retry schedule; 409 `not_dead` otherwise.",
    )
    def post(self, request, pk: int):
        delivery = get_object_or_404(self.deliveries(), pk=pk)
        no_input(request)
        delivery = webhook_delivery_retry(delivery=delivery)
        delivery = self.deliveries().get(pk=delivery.pk)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
