"""OpenAPI generation: every operation documents the error responses it can give.

Rules applied to every operation, so no view has to remember them:

- 429 and 503 (each with ``Retry-After``) everywhere: a rate limit hit, and the database
  refusing or a statement outliving ``DB_STATEMENT_TIMEOUT``.
- 401 and 403 on every operation that needs credentials; 400 on every operation with a body
  or query filters; 404 on every operation with a path parameter; paginated lists 400 (bad
  ``page``/``page_size``) and 404 (a page past the end).
- An operation that takes an ``Idempotency-Key`` header also answers 409 (the first request
  with that key is still running, or the key was used with another body).
- An optional query parameter may be sent empty (``allowEmptyValue``): it is then absent.
- A request body read by a ``StrictInputSerializer`` says ``additionalProperties: false``:
  the server refuses fields it does not know, so the schema says so.
- A decimal string whose field has ``min_value`` 0 or more has no sign in its pattern.
- A list body with a bound (``ListSerializer(max_length=...)``: the feeds' batch) says
  ``maxItems``.
- Descriptions come from ``extend_schema(description=...)`` only, never from docstrings: a
  view's docstring is written for the next engineer, not for API users.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from apps.core.serializers import StrictInputSerializer

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Replays the first answer to the same key and body.",
)


class ErrorSerializer(serializers.Serializer):
    """The error body of every 4xx answer."""

    detail = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Field path -> messages; `non_field_errors` for the request as a whole.",
    )
    retry_after = serializers.IntegerField(
        required=False,
        help_text="429, 503 and a locked account: the seconds to wait, as `Retry-After` says.",
    )


class ShortLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    requested = serializers.IntegerField()
    available = serializers.IntegerField(help_text="What can be ordered now.")


class ConflictSerializer(ErrorSerializer):
    """A 409's body: the error, with what the conflict is about."""

    status = serializers.CharField(
        required=False, help_text="`invalid_transition`: the object's status now."
    )
    allowed = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="`invalid_transition`: the statuses this caller may move it to from here.",
    )
    lines = ShortLineSerializer(
        many=True,
        required=False,
        help_text="`insufficient_stock`: each line short of stock, with what is available "
        "(`errors` is empty then).",
    )


_DESCRIPTIONS = {
    "400": "Invalid input: `errors` names each bad field.",
    "401": "No or bad credentials.",
    "403": "Authenticated but not allowed.",
    "404": "Absent, or belongs to another company.",
    "409": "Conflict with the current state.",
    "413": "The body is larger than the API takes.",
    "415": "The body is not of a type this operation reads (JSON, or the form it names).",
    "429": "Rate limit hit; `Retry-After` says when to come back.",
    "503": "The database is busy or briefly unavailable (a statement ran past its time limit, "
    "no connection): send the request again after `Retry-After` seconds, with the same "
    "`Idempotency-Key` where the operation takes one.",
}

IDEMPOTENCY_HEADER = "Idempotency-Key"

_IDEMPOTENCY_DESCRIPTIONS = {
    "409": "A request with this `Idempotency-Key` is still being processed (send it again), "
    "or the key was used with another body (`idempotency_key_reused`: use a new key).",
}


UNDECLARED = object()  # ``AutoSchema.declared_request``: the method's schema names no body


class AutoSchema(BaseAutoSchema):
    _guess_request = True

    def get_request_serializer(self):
        # @extend_schema(request=...) answers before this; without it drf-spectacular guesses
        # from the view (and warns when it cannot), which ``declared_request`` does not want
        if not self._guess_request:
            return UNDECLARED
        return super().get_request_serializer()

    def declared_request(self):
        """What ``@extend_schema(request=...)`` names as this method's body (``None``: no
        body), or ``UNDECLARED``."""
        self._guess_request = False
        try:
            return self.get_request_serializer()
        finally:
            self._guess_request = True

    def get_description(self):
        # docstrings are for engineers; API users get extend_schema(description=...)
        return ""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        # a decimal string that may not be negative (``min_value`` 0 or more): its pattern
        # allows no sign, as the server refuses one (a client generated from the schema sent
        # order_limit "-1")
        minimum = getattr(field, "min_value", None)
        pattern = schema.get("pattern") if isinstance(schema, dict) else None
        if (
            isinstance(field, serializers.DecimalField)
            and minimum is not None
            and minimum >= 0
            and isinstance(pattern, str)
            and pattern.startswith("^-?")
        ):
            schema["pattern"] = "^" + pattern[len("^-?") :]
        return schema

    def _override_parameter_names(self) -> set[str]:
        return {getattr(p, "name", None) for p in self.get_override_parameters()}

    def _takes_idempotency_key(self) -> bool:
        return IDEMPOTENCY_HEADER in self._override_parameter_names()

    def _is_paginated(self) -> bool:
        return self._is_list_view() or "page" in self._override_parameter_names()

    def _get_parameters(self):
        parameters = super()._get_parameters()
        for parameter in parameters:
            # the API reads an optional query parameter sent empty (`?status=`) as absent
            if parameter.get("in") == "query" and not parameter.get("required"):
                parameter["allowEmptyValue"] = True
        return parameters

    def _get_request_for_media_type(self, serializer, direction="request"):
        schema, required = super()._get_request_for_media_type(serializer, direction)
        # a list body with a bound (the feeds' batch size): the schema says it
        limit = getattr(serializer, "max_length", None)
        if isinstance(serializer, serializers.ListSerializer) and limit and schema:
            schema = {**schema, "maxItems": limit}
        return schema, required

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and isinstance(serializer, StrictInputSerializer):
            schema["additionalProperties"] = False
        return schema

    def _is_public(self) -> bool:
        permissions = self.view.get_permissions()
        return all(isinstance(p, AllowAny) for p in permissions)

    def _error_codes(self) -> list[str]:
        # 400 everywhere: a query parameter sent twice is refused on every path of the APIs
        codes = ["400", "429", "503"]
        paginated = self._is_paginated()
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ["413", "415"]
        if not self._is_public():
            codes += ["401", "403"]
        if "{" in self.path or paginated:
            codes.append("404")
        if self._takes_idempotency_key():
            codes.append("409")
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(
                        ConflictSerializer if code == "409" else ErrorSerializer,
                        description=_IDEMPOTENCY_DESCRIPTIONS.get(code, _DESCRIPTIONS[code]),
                    ),
                    code,
                    direction=direction,
                )
        return responses

    def _get_response_headers_for_code(self, status_code, direction="response"):
        headers = super()._get_response_headers_for_code(status_code, direction)
        if str(status_code) in ("429", "503"):
            headers["Retry-After"] = {
                "schema": {"type": "integer"},
                "description": "Seconds to wait before retrying.",
            }
        return headers
