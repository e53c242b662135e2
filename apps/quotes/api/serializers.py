"""Dealer API serializers of quotes."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.money import MAX_LINE_QUANTITY
from apps.core.serializers import OptionalTextField, StrictInputSerializer, one_line
from apps.orders.models import PaymentMethod
from apps.quotes.models import Quote, QuoteLine

UNIT = {"max_digits": 14, "decimal_places": 4, "coerce_to_string": True}
MONEY = {"max_digits": 14, "decimal_places": 2, "coerce_to_string": True}


class QuoteRequestLineSerializer(serializers.ModelSerializer):
    unit_net = serializers.SerializerMethodField(
        help_text="The quoted net unit price: null until a version is sent."
    )
    target_price = serializers.DecimalField(allow_null=True, **UNIT)
    vat_rate = serializers.IntegerField(
        read_only=True,
        help_text="The product's VAT rate when asked; an accepted quote's order charges the "
        "rate in force when it is placed.",
    )

    class Meta:
        model = QuoteLine
        fields = ["sku", "name", "quantity", "target_price", "unit_net", "vat_rate"]

    def get_unit_net(self, line) -> str | None:
        quote = self.context.get("quote") or line.quote
        return f"{line.unit_net:.4f}" if quote.priced and line.unit_net is not None else None


class QuoteRequestSummarySerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", default=None, allow_null=True)
    valid_until = serializers.SerializerMethodField(
        help_text="How long the sent prices hold; null until a version is sent (a draft's is "
        "sales' own)."
    )

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_valid_until(self, quote) -> str | None:
        return quote.valid_until.isoformat() if quote.priced and quote.valid_until else None

    class Meta:
        model = Quote
        fields = [
            "number",
            "status",
            "version",
            "valid_until",
            "valid_until_wanted",
            "order_number",
            "created_at",
            "sent_at",
        ]


class QuoteRequestSerializer(QuoteRequestSummarySerializer):
    lines = serializers.SerializerMethodField()
    requested_by = serializers.EmailField(
        source="requested_by.email", default=None, allow_null=True
    )
    staff_note = serializers.SerializerMethodField(
        help_text="Sales' note with the sent prices; empty while they prepare an answer."
    )

    class Meta(QuoteRequestSummarySerializer.Meta):
        fields = [
            *QuoteRequestSummarySerializer.Meta.fields,
            "note",
            "staff_note",
            "reject_reason",
            "requested_by",
            "lines",
        ]

    def get_staff_note(self, quote) -> str:
        return quote.staff_note if quote.priced else ""

    @extend_schema_field(QuoteRequestLineSerializer(many=True))
    def get_lines(self, quote) -> list[dict]:
        return QuoteRequestLineSerializer(
            quote.lines.all(), many=True, context={**self.context, "quote": quote}
        ).data


class QuoteRequestLineInputSerializer(StrictInputSerializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)
    target_price = serializers.DecimalField(
        max_digits=14, decimal_places=4, min_value=0, required=False, allow_null=True
    )


class QuoteRequestCreateSerializer(StrictInputSerializer):
    lines = QuoteRequestLineInputSerializer(many=True, required=False, max_length=200)
    note = OptionalTextField(max_length=2000)
    valid_until_wanted = serializers.DateField(required=False, allow_null=True)
    from_cart = serializers.BooleanField(
        required=False, default=False, help_text="Ask for the lines of your cart."
    )


class QuoteAcceptSerializer(StrictInputSerializer):
    version = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="The version you read (`version` of the quote): if sales sent another since, "
        "409 `quote_changed` and nothing is ordered.",
    )
    shipping_address_id = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    billing_address_id = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    payment_method = serializers.ChoiceField(choices=PaymentMethod.choices)
    po_number = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default="", validators=[one_line]
    )


class QuoteRejectSerializer(StrictInputSerializer):
    reason = serializers.CharField(max_length=2000)
