"""Integration API: product images, uploaded by the ERP connector as multipart form data.

``POST products/{sku}/images`` (scope ``catalog:write``) stores one image and answers 201; the
thumbnail is made in the background (``thumbnail_url`` is null until then). A file that is too
large, not an image or of another format answers 400 on ``image`` and stores nothing.
``GET`` lists the product's images, primary first.
"""

from __future__ import annotations

import hashlib
import unicodedata

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response

from apps.accounts.models import ApiKeyScope
from apps.catalog.images import product_image_create, validate_image
from apps.catalog.models import Product, ProductImage
from apps.core.api.parsers import SafeFormParser, SafeMultiPartParser
from apps.core.idempotency import idempotent_by_key
from apps.core.pagination import PageNumberPagination, page_parameters
from apps.core.schema import IDEMPOTENCY_KEY, ErrorSerializer
from apps.core.serializers import StrictInputSerializer
from apps.integrations.api.base import IntegrationAPIView

INT_MAX = 2**31 - 1


class ProductImageInputSerializer(StrictInputSerializer):
    """One product image as multipart form data."""

    image = serializers.FileField(
        help_text="JPEG, PNG or WEBP; at most PRODUCT_IMAGE_MAX_BYTES (5 MB by default)."
    )
    alt_text = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    is_primary = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Make it the primary image (the previous primary one stops being it). "
        "A product's first image is primary anyway.",
    )
    sort_order = serializers.IntegerField(
        required=False, default=0, min_value=-INT_MAX, max_value=INT_MAX
    )

    def validate_image(self, value):
        try:
            validate_image(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return value


class ProductImageOutputSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = ProductImage
        fields = ("id", "url", "thumbnail_url", "is_primary", "sort_order", "alt_text")

    def _absolute(self, file) -> str | None:
        if not file:
            return None
        url = file.url
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url

    def get_url(self, obj: ProductImage) -> str | None:
        return self._absolute(obj.image)

    def get_thumbnail_url(self, obj: ProductImage) -> str | None:
        return self._absolute(obj.thumbnail)


PaginatedProductImageSerializer = inline_serializer(
    name="PaginatedProductImageList",
    fields={
        "count": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": ProductImageOutputSerializer(many=True),
    },
)

_SKU = OpenApiParameter("sku", str, OpenApiParameter.PATH, description="The product's SKU.")


class ProductImagesView(IntegrationAPIView):
    required_scopes = {"GET": ApiKeyScope.CATALOG_WRITE, "POST": ApiKeyScope.CATALOG_WRITE}
    parser_classes = [SafeMultiPartParser, SafeFormParser]
    pagination_class = PageNumberPagination

    def _product(self, sku: str) -> Product:
        return get_object_or_404(Product.objects.all(), sku=unicodedata.normalize("NFC", sku))

    @extend_schema(
        parameters=[
            _SKU,
            *page_parameters(),
        ],
        responses={
            200: PaginatedProductImageSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Bad `page` or `page_size`."),
        },
        tags=["integration"],
        summary="List a product's images (primary first)",
        description="Every image of the product with its URLs, order and primary flag; "
        "404 for an unknown SKU.",
    )
    def get(self, request, sku: str):
        product = self._product(sku)
        images = ProductImage.objects.filter(product=product).order_by(
            "-is_primary", "sort_order", "id"
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(images, request, view=self)
        data = ProductImageOutputSerializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        request={"multipart/form-data": ProductImageInputSerializer},
        parameters=[_SKU, IDEMPOTENCY_KEY],
        responses={201: ProductImageOutputSerializer},
        tags=["integration"],
        summary="Upload an image of a product (multipart: image, alt_text, is_primary, ...)",
        description="A multipart upload (`image`, optional `alt_text`, `sort_order`, "
        "`is_primary`). JPEG, PNG or WebP up to `PRODUCT_IMAGE_MAX_BYTES`; the thumbnail is "
        "made in the background. 400 names what is wrong with the file.",
    )
    def post(self, request, sku: str):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return self._upload(request, sku)
        # the same file sent again after a timeout is one image: the key covers the fields
        # and the file's bytes (a multipart body has no JSON to compare)
        payload = {name: request.data.getlist(name) for name in request.data if name != "image"}
        upload = request.data.get("image")
        if hasattr(upload, "chunks"):
            digest = hashlib.sha256()
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
            payload["image"] = digest.hexdigest()
        return idempotent_by_key(
            key,
            payload,
            scope=f"apikey:{self.api_key.pk}:{request.path}",
            handler=lambda: self._upload(request, sku),
            atomic=True,
        )

    def _upload(self, request, sku: str) -> Response:
        product = self._product(sku)
        serializer = ProductImageInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        image = product_image_create(
            product=product,
            file=data["image"],
            alt_text=data["alt_text"],
            is_primary=data["is_primary"],
            sort_order=data["sort_order"],
        )
        output = ProductImageOutputSerializer(image, context={"request": request})
        return Response(output.data, status=status.HTTP_201_CREATED)
