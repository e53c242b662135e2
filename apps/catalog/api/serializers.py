"""Output shapes of the catalog endpoints. No business logic: the selectors load and attach
everything (stock annotation, prices); these only shape it."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.catalog.hooks import stock_display
from apps.catalog.models import Product


@extend_schema_field(
    {"type": "array", "items": {"$ref": "#/components/schemas/CategoryNode"}},
)
class _CategoryChildrenField(serializers.ListField):
    pass


class CategoryNodeSerializer(serializers.Serializer):
    """A node of the category tree, with its active sub-categories."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.SlugField()
    children = _CategoryChildrenField(child=serializers.DictField())


class BrandSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.SlugField()


class BrandRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CategoryRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.SlugField()


class ProductImageSerializer(serializers.Serializer):
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField(
        help_text="The thumbnail; the image itself until its thumbnail has been made."
    )
    alt_text = serializers.CharField()
    is_primary = serializers.BooleanField()

    def _absolute(self, url: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url

    def get_url(self, image) -> str:
        return self._absolute(image.image.url)

    def get_thumbnail_url(self, image) -> str:
        return self._absolute((image.thumbnail or image.image).url)


class StockSerializer(serializers.Serializer):
    available = serializers.IntegerField(
        help_text="Units available over all warehouses; above the display cap the cap is "
        "shown (then a lower bound)."
    )
    status = serializers.ChoiceField(choices=["in_stock", "low_stock", "out_of_stock"])


class CampaignRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PriceSerializer(serializers.Serializer):
    """The dealer's price of one unit: shapes the price engine's answer (``ResolvedPrice``)."""

    currency = serializers.SerializerMethodField()
    list = serializers.DecimalField(
        source="list_price",
        max_digits=14,
        decimal_places=4,
        allow_null=True,
        help_text="The LIST price at this quantity (null when the product has none).",
    )
    unit_net = serializers.DecimalField(max_digits=14, decimal_places=4)
    discount = serializers.DecimalField(
        max_digits=14, decimal_places=4, help_text="Per unit, by the campaign."
    )
    source = serializers.CharField(help_text="`special`, `tier:A|B|C` or `list`.")
    campaign = CampaignRefSerializer(allow_null=True)
    unit_gross = serializers.DecimalField(max_digits=14, decimal_places=4)

    def get_currency(self, price) -> str:
        return settings.CURRENCY


class PriceBreakSerializer(serializers.Serializer):
    min_quantity = serializers.IntegerField()
    unit_net = serializers.DecimalField(max_digits=14, decimal_places=4)
    source = serializers.CharField()
    campaign = CampaignRefSerializer(allow_null=True)


class ProductListSerializer(serializers.ModelSerializer):
    brand = BrandRefSerializer(allow_null=True)
    category = CategoryRefSerializer()
    images = ProductImageSerializer(many=True)
    price = PriceSerializer(
        allow_null=True,
        help_text="This dealer's unit price; null where the product is not sellable to it.",
    )
    stock = serializers.SerializerMethodField()
    attributes = serializers.DictField(help_text="Attribute code -> value.")

    class Meta:
        model = Product
        fields = [
            "sku",
            "name",
            "brand",
            "category",
            "unit",
            "vat_rate",
            "min_order_quantity",
            "order_multiple",
            "attributes",
            "images",
            "price",
            "stock",
        ]
        read_only_fields = fields

    @extend_schema_field(StockSerializer)
    def get_stock(self, product) -> dict:
        return stock_display(product.available)


class ProductDetailSerializer(ProductListSerializer):
    barcodes = serializers.ListField(child=serializers.CharField())
    price_breaks = PriceBreakSerializer(
        many=True, help_text="This dealer's quantity breaks, by minimum quantity."
    )

    class Meta(ProductListSerializer.Meta):
        fields = [
            *ProductListSerializer.Meta.fields,
            "description",
            "barcodes",
            "serial_tracked",
            "price_breaks",
        ]
        read_only_fields = fields
