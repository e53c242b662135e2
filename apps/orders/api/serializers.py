"""Input and output shapes of the cart and order endpoints (API.md "Cart and orders")."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.core.serializers import StrictInputSerializer
from apps.orders.models import Order, OrderLine, OrderStatus, OrderStatusChange, PaymentMethod

QUANTITY = {"min_value": 1, "max_value": 1_000_000}


class ItemInputSerializer(StrictInputSerializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(**QUANTITY)


class CartItemInputSerializer(ItemInputSerializer):
    pass


class CartItemUpdateSerializer(StrictInputSerializer):
    quantity = serializers.IntegerField(**QUANTITY)


class CartImportInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV (`sku,quantity`; `;` or `,`) or .xlsx.")


class OrderCreateSerializer(StrictInputSerializer):
    shipping_address_id = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text="Default: the company's default."
    )
    billing_address_id = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text="Default: the company's default."
    )
    payment_method = serializers.ChoiceField(choices=PaymentMethod.choices)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    po_number = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    items = ItemInputSerializer(
        many=True,
        required=False,
        allow_empty=False,
        max_length=500,
        help_text="The lines; without them the cart is ordered (and emptied on success).",
    )


class ReasonSerializer(StrictInputSerializer):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class RequiredReasonSerializer(StrictInputSerializer):
    reason = serializers.CharField(max_length=1000)


class OrderFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices, required=False)
    created_from = serializers.DateField(required=False)
    created_to = serializers.DateField(required=False)

    def validate(self, attrs):
        start, end = attrs.get("created_from"), attrs.get("created_to")
        if start and end and end < start:
            raise serializers.ValidationError(
                {"created_to": [_("Must not be before created_from.")]}
            )
        return attrs


class OrderLineSerializer(serializers.ModelSerializer):
    campaign = serializers.SerializerMethodField()

    class Meta:
        model = OrderLine
        fields = [
            "sku",
            "name",
            "quantity",
            "list_price",
            "unit_net",
            "discount",
            "price_source",
            "campaign",
            "vat_rate",
            "line_net",
            "line_vat",
            "line_gross",
            "serial_numbers",
        ]

    def get_campaign(self, line) -> dict | None:
        if line.campaign_id is None:
            return None
        return {"id": line.campaign_id, "name": line.campaign_name}


class StatusChangeSerializer(serializers.ModelSerializer):
    by = serializers.SerializerMethodField()
    at = serializers.DateTimeField(source="created_at")
    to = serializers.CharField(source="to_status")
    # "from" is a keyword: declared in to_representation
    from_status = serializers.CharField()

    class Meta:
        model = OrderStatusChange
        fields = ["from_status", "to", "at", "by", "actor", "note"]

    def get_by(self, change) -> str | None:
        user = change.changed_by
        if user is None:
            return None
        return user.get_full_name() or user.email

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["from"] = data["from_status"] or None
        return data


class OrderSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = [
            "number",
            "status",
            "payment_method",
            "currency",
            "subtotal_net",
            "vat_total",
            "grand_total",
            "po_number",
            "created_at",
            "updated_at",
        ]


class OrderSerializer(OrderSummarySerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    status_history = StatusChangeSerializer(many=True, read_only=True)
    placed_by = serializers.SerializerMethodField()

    class Meta(OrderSummarySerializer.Meta):
        fields = [
            *OrderSummarySerializer.Meta.fields,
            "note",
            "placed_by",
            "shipping_address",
            "billing_address",
            "tracking_number",
            "carrier",
            "confirmed_at",
            "shipped_at",
            "delivered_at",
            "cancelled_at",
            "lines",
            "status_history",
        ]

    def get_placed_by(self, order) -> str | None:
        return order.placed_by.email if order.placed_by_id and order.placed_by else None
