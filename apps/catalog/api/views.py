"""Dealer API: the catalog (category tree, brands, products). Thin: a selector reads, the
serializer shapes.

The catalog holds no company data: every dealer sees the same products, so these views are
declared company-free in ``tests/accounts/test_isolation.py``. What is per company (prices)
is attached to a page by ``attach_prices`` for the caller's own company only.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
from urllib.parse import urlencode

from django.utils.cache import (
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
    set_response_etag,
)
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from apps.accounts.authentication import DealerJWTAuthentication
from apps.accounts.permissions import IsDealerUser
from apps.catalog import selectors
from apps.catalog.api import serializers as s
from apps.catalog.api.filters import ProductFilter
from apps.core.exceptions import ValidationError

_ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 304],
    description="Send it back in `If-None-Match` to get 304 while the answer is unchanged.",
)
_IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="An `ETag` of an earlier answer: 304 without a body while it is still current.",
)
_CURSOR = OpenApiParameter(
    "cursor",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    description=(
        "Walk the whole list page by page instead of by page number: send `cursor=` (empty) for "
        "the first page, then follow `next` (it carries the cursor) until it is null. Each page "
        "costs the same however far the walk goes, and no product is skipped or repeated while "
        "the catalog changes. Orders `name` (default), `-name` and `-created_at`, without "
        "`search`; not together with `page`. `previous` is null."
    ),
)
_NOT_MODIFIED = OpenApiResponse(description="Not modified: the `ETag` sent is still current.")


class CatalogView(APIView):
    """Dealer authentication like every dealer view; no company scoping (see the module)."""

    authentication_classes = [DealerJWTAuthentication]
    permission_classes = [IsDealerUser]
    statement_timeout = "dealer_read"  # DB_STATEMENT_TIMEOUT_DEALER_READ (core DatabaseMiddleware)


class CatalogGenericView(CatalogView, generics.GenericAPIView):
    """Adds pagination, filtering and ``get_serializer``."""


class ETagMixin:
    """A weak ``ETag`` (a hash of the body, so any change of what the caller sees changes it)
    and 304 to a matching ``If-None-Match`` (weak comparison). Private:
    prices will make the body depend on the caller."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response
        response.render()
        set_response_etag(response)
        if not response["ETag"].startswith("W/"):
            # weak from the start: gzip weakens the tag of a compressed body only, so a 304
            # answered ``"abc"`` where the 200 had said ``W/"abc"``
            response["ETag"] = f"W/{response['ETag']}"
        patch_cache_control(response, private=True, no_cache=True)
        patch_vary_headers(response, ("Authorization",))
        return get_conditional_response(request, etag=response["ETag"], response=response)


class CategoryTreeView(ETagMixin, CatalogView):
    @extend_schema(
        parameters=[_IF_NONE_MATCH, _ETAG],
        responses={200: s.CategoryNodeSerializer(many=True), 304: _NOT_MODIFIED},
        tags=["catalog"],
        summary="The active category tree",
        description="Nested `{id, name, slug, children}`, siblings by sort order then name.",
    )
    def get(self, request):
        return Response(selectors.category_tree())


class BrandListView(ETagMixin, CatalogGenericView):
    serializer_class = s.BrandSerializer
    filter_backends: list = []  # a short list, paginated only

    @extend_schema(
        tags=["catalog"],
        summary="Active brands, by name",
        description="Active brands `{id, name, slug}`, paginated.",
        parameters=[_IF_NONE_MATCH, _ETAG],
        responses={200: s.BrandSerializer(many=True), 304: _NOT_MODIFIED},
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.brand_list())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class KeepingFilterBackend(DjangoFilterBackend):
    """DjangoFilterBackend that leaves the validated filter set on the view."""

    def get_filterset(self, request, queryset, view):
        view.filterset = super().get_filterset(request, queryset, view)
        return view.filterset


class ProductListView(ETagMixin, CatalogGenericView):
    serializer_class = s.ProductListSerializer
    filter_backends = [KeepingFilterBackend]
    filterset_class = ProductFilter

    def get_queryset(self):
        return selectors.product_filterable()

    @extend_schema(
        tags=["catalog"],
        summary="Products, filtered and paginated",
        description=(
            "Visible products with this dealer's price (null until prices exist, or where the "
            "product is not sellable to the dealer) and available stock.\n\n"
            "Attribute filters: `attr_<code>=value` for each filterable attribute (e.g. "
            "`attr_power_w=2000`, `attr_waterproof=true`); numbers compare as numbers, yes/no "
            "attributes take `true`/`false`, text compares case-insensitively. An unknown or "
            "non-filterable attribute, like any bad filter value, answers 400 naming it."
        ),
        parameters=[_CURSOR, _IF_NONE_MATCH, _ETAG],
        responses={200: s.ProductListSerializer(many=True), 304: _NOT_MODIFIED},
    )
    def get(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        # the filter set validated the parameters (400 otherwise): its cleaned ordering and search
        wanted = self.filterset.form.cleaned_data
        pages = selectors.ProductPages(
            queryset,
            ordering=wanted.get("ordering"),
            searched=bool(wanted.get("search")),
            customer=request.user.customer,
            count_key=self._count_key(request),
        )
        if "cursor" in request.query_params:
            return self._keyset_page(request, pages)
        page = self.paginate_queryset(pages)
        selectors.attach_prices(page, request.user.customer)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def _keyset_page(self, request, pages: selectors.ProductPages) -> Response:
        """``cursor=``: the page after the cursor's row (see ``_CURSOR``)."""
        raw = request.query_params.get("cursor")
        if pages.searched or pages.ordering not in selectors.KEYSET_ORDERINGS:
            message = _("A cursor walks the list by name, -name or -created_at, without a search.")
            raise ValidationError({"cursor": [message]})
        if "page" in request.query_params:
            raise ValidationError({"cursor": [_("Send either page or cursor, not both.")]})
        limit = self.paginator.get_page_size(request)
        products, following = pages.after(_cursor_key(raw, pages.ordering), limit)
        selectors.attach_prices(products, request.user.customer)
        next_url = None
        if following is not None:
            token = _cursor_token(pages.ordering, following)
            next_url = replace_query_param(request.build_absolute_uri(), "cursor", token)
        return Response(
            {
                "count": pages.count(),
                "next": next_url,
                "previous": None,
                "results": self.get_serializer(products, many=True).data,
            }
        )

    @staticmethod
    def _count_key(request) -> str:
        """What the count depends on: the filters (not the page or the order), and the dealer
        when a price bound is among them (its own prices)."""
        filters = sorted(
            (name, value)
            for name, values in request.query_params.lists()
            if name not in ("page", "page_size", "ordering", "cursor")
            for value in values
        )
        if any(name in ("price_min", "price_max") for name, _value in filters):
            filters.append(("customer", str(request.user.customer_id)))
        return hashlib.sha256(urlencode(filters).encode()).hexdigest()


def _cursor_token(ordering: str | None, key: tuple) -> str:
    """The cursor after the row whose sort key is ``key``: its order and key, opaque."""
    values = [v.isoformat() if isinstance(v, datetime.datetime) else v for v in key]
    data = json.dumps([ordering or "name", *values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _cursor_key(raw: str | None, ordering: str | None) -> tuple | None:
    """The sort key a cursor carries (None for an empty one: from the start); 400 for one
    that is not a cursor of this order."""
    if not raw:
        return None
    wrong = ValidationError(
        {"cursor": [_("Not a cursor of this list: start again with an empty cursor.")]}
    )
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        order, first, pk = data
        if order != (ordering or "name") or type(pk) is not int or not isinstance(first, str):
            raise wrong
        first.encode()  # a lone surrogate cannot reach the database: UnicodeEncodeError
        if not -(2**63) <= pk < 2**63:
            raise wrong
        if order == "-created_at":
            first = datetime.datetime.fromisoformat(first)
            if first.tzinfo is None:
                raise wrong
        elif len(first) > 255 or "\x00" in first:
            raise wrong
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise wrong from exc
    return first, pk


class ProductDetailView(ETagMixin, CatalogGenericView):
    serializer_class = s.ProductDetailSerializer

    @extend_schema(
        tags=["catalog"],
        summary="One product, with this dealer's quantity breaks",
        description="A visible product by SKU: the list fields plus description, barcodes, "
        "serial tracking and this dealer's quantity breaks. Inactive, deleted or unknown: 404.",
        parameters=[_IF_NONE_MATCH, _ETAG],
        responses={200: s.ProductDetailSerializer, 304: _NOT_MODIFIED},
    )
    def get(self, request, sku):
        product = selectors.product_get(sku=sku)
        selectors.attach_prices([product], request.user.customer, with_breaks=True)
        return Response(self.get_serializer(product).data)
