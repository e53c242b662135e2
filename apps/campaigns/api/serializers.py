from __future__ import annotations

from rest_framework import serializers

from apps.campaigns.models import Banner, Campaign, Collection


class CampaignSerializer(serializers.ModelSerializer):
    discount_value = serializers.DecimalField(max_digits=14, decimal_places=4)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "description",
            "starts_at",
            "ends_at",
            "scope",
            "min_quantity",
            "discount_type",
            "discount_value",
            "applies_to_special_prices",
        ]


class BannerSerializer(serializers.ModelSerializer):
    image_url = serializers.SerializerMethodField()

    class Meta:
        model = Banner
        fields = ["id", "title", "image_url", "link_url", "placement", "starts_at", "ends_at"]

    def get_image_url(self, banner) -> str | None:
        """Absolute, as a product image's ``url``: a client need not know the API's host."""
        if not banner.image:
            return None
        request = self.context.get("request")
        url = banner.image.url
        return request.build_absolute_uri(url) if request is not None else url


class CollectionSerializer(serializers.ModelSerializer):
    skus = serializers.SerializerMethodField()

    class Meta:
        model = Collection
        fields = ["id", "name", "slug", "description", "starts_at", "ends_at", "skus"]

    def get_skus(self, collection) -> list[str]:
        return [item.product.sku for item in collection.items.all()]
