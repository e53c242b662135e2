"""Input and output shapes of the pricing endpoints (API.md "Catalog and prices")."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers

from apps.catalog.api.serializers import PriceSerializer
from apps.core.money import MAX_LINE_QUANTITY
from apps.core.serializers import StrictInputSerializer

MONEY = {"max_digits": 14, "decimal_places": 2}
UNIT = {"max_digits": 14, "decimal_places": 4}


class QuoteItemSerializer(StrictInputSerializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)


class QuoteInputSerializer(StrictInputSerializer):
    items = QuoteItemSerializer(many=True, allow_empty=False, max_length=500)


class QuoteLineSerializer(serializers.Serializer):
    """A priced line; the unit and line amounts are null where the product has no price for
    the caller's company (then ``problem`` says so). ``problem`` also says when a line comes to
    more than an order can hold."""

    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")
    quantity = serializers.IntegerField()
    vat_rate = serializers.IntegerField(source="product.vat_rate")
    sellable = serializers.BooleanField()
    price = PriceSerializer(allow_null=True)
    unit_net = serializers.DecimalField(**UNIT, source="price.unit_net", allow_null=True)
    discount = serializers.DecimalField(**UNIT, source="price.discount", allow_null=True)
    line_net = serializers.DecimalField(**MONEY, allow_null=True)
    line_vat = serializers.DecimalField(**MONEY, allow_null=True)
    line_gross = serializers.DecimalField(**MONEY, allow_null=True)
    problem = serializers.SerializerMethodField()

    def get_problem(self, line) -> str | None:
        if not line.sellable:
            return _("This product has no price for your company.")
        too_large = [p["message"] for p in line.problems if p["code"] == "too_large"]
        return too_large[0] if too_large else None

    def to_representation(self, line):
        data = super().to_representation(line)
        if not line.sellable:
            for name in ("price", "unit_net", "discount", "line_net", "line_vat", "line_gross"):
                data[name] = None
        return data


class QuoteSerializer(serializers.Serializer):
    currency = serializers.CharField()
    lines = QuoteLineSerializer(many=True)
    subtotal_net = serializers.DecimalField(**MONEY, help_text="Of the sellable lines.")
    vat_total = serializers.DecimalField(**MONEY)
    grand_total = serializers.DecimalField(**MONEY)
    all_sellable = serializers.BooleanField()
