from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.renderers import JSONRenderer

_RootSerializer = inline_serializer(
    name="ApiRoot",
    fields={
        "name": serializers.CharField(),
        "version": serializers.CharField(),
        "schema": serializers.CharField(),
        "docs": serializers.CharField(),
    },
)


class ApiRootView(APIView):
    """Where an API lives and where its documentation is."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    api_name = ""

    def get(self, request):
        return Response(
            {
                "name": self.api_name,
                "version": "v1",
                "schema": request.build_absolute_uri(reverse("schema")),
                "docs": request.build_absolute_uri(reverse("swagger-ui")),
            }
        )


class DealerApiRootView(ApiRootView):
    api_name = "dealer"

    @extend_schema(
        responses=_RootSerializer,
        operation_id="dealer_api_root",
        tags=["meta"],
        summary="The dealer API's root",
        description="Its name and version, and where its schema and documentation are.",
    )
    def get(self, request):
        return super().get(request)


class IntegrationApiRootView(ApiRootView):
    api_name = "integration"

    @extend_schema(
        responses=_RootSerializer,
        operation_id="integration_api_root",
        tags=["meta"],
        summary="The integration API's root",
        description="Its name and version, and where its schema and documentation are.",
    )
    def get(self, request):
        return super().get(request)


class _HtmlPageOptions:
    """``OPTIONS`` on an HTML documentation page answers its allowed methods, without a body
    (DRF would render its metadata with the page's template renderer and fail)."""

    def options(self, request, *args, **kwargs):
        return HttpResponse(headers={"Allow": ", ".join(self.allowed_methods)})


class SwaggerView(_HtmlPageOptions, SpectacularSwaggerView):
    """Swagger UI of the OpenAPI schema."""


class RedocView(_HtmlPageOptions, SpectacularRedocView):
    """Redoc of the OpenAPI schema."""


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema: YAML by default, JSON for ``Accept: application/json`` or, as
    drf-spectacular documents it, ``?format=json`` (the APIs themselves take no ``format``
    parameter, so the view reads it itself)."""

    def perform_content_negotiation(self, request, force=False):
        wanted = request.query_params.get("format")
        if wanted in ("json", "yaml"):
            for renderer in self.get_renderers():
                if renderer.format == wanted:
                    return renderer, renderer.media_type
        return super().perform_content_negotiation(request, force)

    def finalize_response(self, request, response, *args, **kwargs):
        """An error (a POST, a method it does not serve) in the APIs' JSON error format, not
        as an OpenAPI document: the YAML renderer wrote the message's string and code as a
        mapping under ``detail``."""
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400 and getattr(response, "exception", False):
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
            response["Content-Type"] = JSONRenderer.media_type
        return response
