"""Dealer API serializers of returns."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from apps.core.serializers import StrictInputSerializer
from apps.orders.api.serializers import StatusChangeSerializer
from apps.returns.models import (
    ReturnLine,
    ReturnPhoto,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
    ReturnStatusChange,
)

MONEY = {"max_digits": 14, "decimal_places": 2, "coerce_to_string": True}


class ReturnLineSerializer(serializers.ModelSerializer):
    serial_numbers = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = ReturnLine
        fields = [
            "sku",
            "quantity",
            "reason",
            "reason_text",
            "serial_numbers",
            "received_quantity",
            "quarantined_quantity",
        ]


class ReturnPhotoSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(
        help_text="Where the photo's bytes are read, with the same credentials: "
        "`returns/{number}/photos/{id}` of this API."
    )
    url_name = "api-v1:return-photo"

    class Meta:
        model = ReturnPhoto
        fields = ["id", "content_type", "size", "created_at", "url"]

    def get_url(self, photo) -> str:
        # the parent's number from the return this photo was prefetched with (no query)
        number = photo.request.number
        return reverse(self.url_name, args=[number, photo.pk])


class ReturnStatusChangeSerializer(StatusChangeSerializer):
    """One status change, in the words of an order's ``status_history``: ``from`` (null for
    the first), ``to``, ``at``, ``by``, ``actor``, ``note``."""

    to = serializers.ChoiceField(source="to_status", choices=ReturnStatus.choices)

    class Meta(StatusChangeSerializer.Meta):
        model = ReturnStatusChange


class CreditSerializer(serializers.Serializer):
    net = serializers.DecimalField(source="credit_net", **MONEY)
    vat = serializers.DecimalField(source="credit_vat", **MONEY)
    gross = serializers.DecimalField(source="credit_total", **MONEY)


class ReturnSummarySerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number")

    class Meta:
        model = ReturnRequest
        fields = ["number", "order_number", "status", "created_at", "updated_at"]


class ReturnSerializer(ReturnSummarySerializer):
    lines = ReturnLineSerializer(many=True)
    photos = ReturnPhotoSerializer(many=True)
    status_history = ReturnStatusChangeSerializer(many=True)
    credit = serializers.SerializerMethodField()

    class Meta(ReturnSummarySerializer.Meta):
        fields = [
            *ReturnSummarySerializer.Meta.fields,
            "note",
            "decision_note",
            "lines",
            "photos",
            "credit",
            "status_history",
        ]

    def get_credit(self, obj) -> dict | None:
        """The credit note (net, VAT, gross) once the return is credited."""
        if obj.credit_total is None:
            return None
        return CreditSerializer(obj).data


class ReturnLineInputSerializer(serializers.Serializer):
    """(Documentation of a line; the service checks each against the order.)"""

    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1)
    reason = serializers.ChoiceField(choices=ReturnReason.choices)
    reason_text = serializers.CharField(
        max_length=500, required=False, help_text="Required with `other`."
    )
    serial_numbers = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        help_text="Serial-tracked products: one per unit, from those that shipped on the line.",
    )


class ReturnCreateSerializer(StrictInputSerializer):
    order_number = serializers.CharField(max_length=32)
    lines = ReturnLineInputSerializer(many=True)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    photos = serializers.ListField(
        child=serializers.ImageField(),
        required=False,
        help_text="multipart/form-data only (then `lines` is a JSON text): at most 5 images "
        "(JPEG, PNG, WEBP), each within the product image size limit.",
    )
