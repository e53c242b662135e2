"""Views that exist only in tests, to drive the API plumbing through every error status."""

from __future__ import annotations

import logging

from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.exceptions import Conflict, NotAllowed, NotFound, ValidationError

logger = logging.getLogger("tests.views")


class TokenAuthentication(BaseAuthentication):
    """Rejects every credential: enough to see a 401 with WWW-Authenticate."""

    def authenticate(self, request):
        return None

    def authenticate_header(self, request):
        return "Bearer"


class EchoSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=5)
    quantity = serializers.IntegerField(min_value=1)
    address = serializers.DictField(child=serializers.CharField(max_length=3), required=False)


class Public(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []


class EchoView(Public):
    def post(self, request):
        serializer = EchoSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


class ProtectedView(APIView):
    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"ok": True})


class DomainErrorView(Public):
    def get(self, request, kind):
        if kind == "validation":
            raise ValidationError({"quantity": ["Must be a multiple of 5."]})
        if kind == "forbidden":
            raise NotAllowed()
        if kind == "missing":
            raise NotFound()
        if kind == "conflict":
            raise Conflict(
                "Not enough stock.",
                code="insufficient_stock",
                extra={"lines": [{"sku": "A-1", "requested": 5, "available": 2}]},
            )
        return Response({"kind": kind})


class ThrottledView(Public):
    def get(self, request):
        return Response({"ok": True})


class NumbersView(ListAPIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    def get_queryset(self):
        return list(range(1, 251))

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(page)


class LogView(Public):
    def get(self, request):
        logger.warning("something worth a line")
        return Response({"now": serializers.DateTimeField().to_representation(timezone.now())})


class SleepView(Public):
    """Runs ``SELECT pg_sleep(seconds)``: a query as slow as asked."""

    def get(self, request, seconds):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(%s)", [float(seconds)])
        return Response({"slept": seconds})


class DealerReadSleepView(SleepView):
    """The same, declared a dealer read (as the catalog is)."""

    statement_timeout = "dealer_read"


def plain_sleep(request, seconds):
    """The same in a plain Django view (not DRF) outside ``/api/``."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(%s)", [float(seconds)])
    return JsonResponse({"slept": seconds})
