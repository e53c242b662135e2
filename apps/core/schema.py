"""OpenAPI generation: every operation documents the error responses it can give."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorSerializer(serializers.Serializer):
    """The error body of every 4xx answer."""

    detail = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Field path -> messages; `non_field_errors` for the request as a whole.",
    )


_DESCRIPTIONS = {
    "400": "Invalid input: `errors` names each bad field.",
    "401": "No or bad credentials.",
    "403": "Authenticated but not allowed.",
    "404": "Absent, or belongs to another company.",
    "429": "Rate limit hit; `Retry-After` says when to come back.",
}


class AutoSchema(BaseAutoSchema):
    def _is_public(self) -> bool:
        permissions = self.view.get_permissions()
        return all(isinstance(p, AllowAny) for p in permissions)

    def _error_codes(self) -> list[str]:
        codes = ["429"]
        if self.method in ("POST", "PUT", "PATCH") or self._is_list_view():
            codes.append("400")
        if not self._is_public():
            codes += ["401", "403"]
        if "{" in self.path or self._is_list_view():
            codes.append("404")
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=_DESCRIPTIONS[code]),
                    code,
                    direction=direction,
                )
        return responses

    def _get_response_headers_for_code(self, status_code, direction="response"):
        headers = super()._get_response_headers_for_code(status_code, direction)
        if str(status_code) == "429":
            headers["Retry-After"] = {
                "schema": {"type": "integer"},
                "description": "Seconds to wait before retrying.",
            }
        return headers
