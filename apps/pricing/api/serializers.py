"""Input and output shapes of the pricing endpoints (API.md "Catalog and prices")."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers

from apps.catalog.api.serializers import CampaignRefSerializer, PriceSerializer
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


# --- "why this price" (``products/{sku}/price-explanation``): its answer, for the schema -------


def _unit(help_text: str = "", **kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=14, decimal_places=4, coerce_to_string=True, help_text=help_text, **kwargs
    )


class ExplainedCustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    tier = serializers.CharField()


class ExplainedProductSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    vat_rate = serializers.IntegerField()


class ExplainedRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    price_list = serializers.CharField(allow_null=True, help_text="null for a special price.")
    min_quantity = serializers.IntegerField()
    amount = _unit()
    valid_from = serializers.DateTimeField(allow_null=True)
    valid_to = serializers.DateTimeField(allow_null=True)
    status = serializers.CharField(help_text="What became of this break at this quantity.")
    note = serializers.CharField()


class ExplainedLevelSerializer(serializers.Serializer):
    source = serializers.CharField(help_text="`special`, `tier:A|B|C` or `list`.")
    label = serializers.CharField()
    status = serializers.CharField(help_text="`taken` for the level the price came from.")
    note = serializers.CharField()
    rows = ExplainedRowSerializer(many=True)


class ExplainedReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    text = serializers.CharField()


class ExplainedCampaignSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=["applied", "not_lowest", "no_discount", "excluded"])
    unit = _unit("The unit price it would give.", allow_null=True)
    reasons = ExplainedReasonSerializer(many=True)


class PriceExplanationSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)
    customer = ExplainedCustomerSerializer()
    product = ExplainedProductSerializer()
    sellable = serializers.BooleanField()
    source = serializers.CharField(allow_null=True)
    base = _unit(allow_null=True)
    list_price = _unit(allow_null=True)
    unit_net = _unit(allow_null=True)
    discount = _unit(allow_null=True)
    unit_gross = _unit(allow_null=True)
    campaign = CampaignRefSerializer(allow_null=True)
    levels = ExplainedLevelSerializer(many=True)
    campaigns = ExplainedCampaignSerializer(many=True)
    summary = serializers.CharField()
