"""The frame of the integration API: API-key authentication, scopes, and bulk upserts.

A bulk resource is a ``BatchUpsertView`` subclass naming its record serializer, its natural
key, its scope and an ``upsert(record)`` that returns ``created``, ``updated`` or
``unchanged``. The frame does the rest: a JSON list of at most INTEGRATION_MAX_BATCH records
(413 above), each record validated and applied on its own (a savepoint each, so one bad
record never undoes the others), the answer
``{received, created, updated, unchanged, failed, errors: [{index, key, errors}]}``,
``Idempotency-Key`` replay, and a ``BatchLog`` row.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import ApiKeyAuthentication
from apps.accounts.permissions import HasApiKeyScope
from apps.core.exceptions import DomainError, PayloadTooLarge, ValidationError, flatten_errors
from apps.core.idempotency import idempotent
from apps.core.net import client_ip
from apps.core.schema import ErrorSerializer
from apps.core.throttling import ApiKeyRateThrottle, IPRateThrottle
from apps.integrations.models import BatchLog

OUTCOMES = ("created", "updated", "unchanged")

BatchResultSerializer = inline_serializer(
    name="BatchResult",
    fields={
        "received": serializers.IntegerField(),
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "unchanged": serializers.IntegerField(),
        "failed": serializers.IntegerField(),
        "errors": serializers.ListField(
            child=inline_serializer(
                name="BatchRecordError",
                fields={
                    "index": serializers.IntegerField(),
                    "key": serializers.CharField(allow_null=True),
                    "errors": serializers.DictField(
                        child=serializers.ListField(child=serializers.CharField())
                    ),
                },
            )
        ),
    },
)


class IntegrationAPIView(APIView):
    """Base of every integration endpoint: ``X-API-Key`` only (a JWT does not open it)."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKeyScope]
    throttle_classes = [IPRateThrottle, ApiKeyRateThrottle]
    required_scopes: dict[str, str] = {}

    @property
    def api_key(self):
        return self.request.auth


class BatchUpsertView(IntegrationAPIView):
    resource: str = ""
    key_field: str = ""
    scope: str = ""
    record_serializer_class: type[serializers.Serializer]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.scope:
            cls.required_scopes = {"POST": cls.scope}
            cls.post = extend_schema(
                request=cls.record_serializer_class(many=True),
                responses={
                    200: BatchResultSerializer,
                    413: OpenApiResponse(ErrorSerializer, description="Too many records."),
                    422: OpenApiResponse(
                        ErrorSerializer,
                        description="Idempotency-Key reused with another body.",
                    ),
                },
                parameters=[
                    OpenApiParameter(
                        "Idempotency-Key",
                        str,
                        OpenApiParameter.HEADER,
                        required=False,
                        description="Replays the first answer to the same key and body.",
                    )
                ],
                tags=["integration"],
                summary=f"Upsert {cls.resource} in bulk (by {cls.key_field})",
            )(cls.post)

    def upsert(self, record: dict) -> str:
        raise NotImplementedError

    def post(self, request):
        records = request.data
        if not isinstance(records, list):
            raise ValidationError(
                {"non_field_errors": [_("Send a JSON list of records.")]}, code="not_a_list"
            )
        if len(records) > settings.INTEGRATION_MAX_BATCH:
            raise PayloadTooLarge(
                _("At most %(max)d records per batch; this one has %(n)d.")
                % {"max": settings.INTEGRATION_MAX_BATCH, "n": len(records)}
            )
        return idempotent(
            request,
            scope=f"apikey:{self.api_key.pk}:{request.path}",
            handler=lambda: Response(self.process(records)),
        )

    def _key_of(self, raw) -> str | None:
        if isinstance(raw, dict) and raw.get(self.key_field) is not None:
            return str(raw[self.key_field])[:200]
        return None

    def process(self, records: list) -> dict:
        started = time.monotonic()
        counts = dict.fromkeys(OUTCOMES, 0)
        errors = []
        for index, raw in enumerate(records):
            key = self._key_of(raw)
            if not isinstance(raw, dict):
                errors.append(
                    {
                        "index": index,
                        "key": None,
                        "errors": {"non_field_errors": [_("A record must be a JSON object.")]},
                    }
                )
                continue
            serializer = self.record_serializer_class(data=raw)
            if not serializer.is_valid():
                errors.append(
                    {"index": index, "key": key, "errors": flatten_errors(serializer.errors)}
                )
                continue
            try:
                with transaction.atomic():
                    outcome = self.upsert(serializer.validated_data)
            except DomainError as exc:
                errors.append(
                    {
                        "index": index,
                        "key": key,
                        "errors": flatten_errors(exc.errors)
                        or {"non_field_errors": [str(exc.detail)]},
                    }
                )
                continue
            except DatabaseError as exc:  # a constraint the serializer could not foresee
                errors.append(
                    {
                        "index": index,
                        "key": key,
                        "errors": {
                            "non_field_errors": [
                                _("Rejected by the database: %(e)s")
                                % {"e": str(exc).splitlines()[0][:200]}
                            ]
                        },
                    }
                )
                continue
            counts[outcome] += 1
        result = {"received": len(records), **counts, "failed": len(errors), "errors": errors}
        BatchLog.objects.create(
            api_key=self.api_key,
            resource=self.resource,
            idempotency_key=self.request.headers.get("Idempotency-Key", "")[:200],
            received=len(records),
            failed=len(errors),
            errors=errors[:100],
            ip_address=client_ip(self.request),
            duration_ms=int((time.monotonic() - started) * 1000),
            **counts,
        )
        return result
