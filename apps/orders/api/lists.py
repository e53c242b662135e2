"""Dealer API: requisition lists (API.md "Quotes and requisition lists"). Thin: parse, call a
service or selector, answer the list as it is now.

Who reaches which list: the company scoping of ``DealerGenericAPIView``, then
``selectors.requisition_list_visible`` (your own lists and your company's shared ones); any
other list is not found (404). Using lists at all needs ``orders.place_order`` (owners and
purchasing users; others 403, as for the cart). Changing a list is for its owner, and for a
shared list also for the company's owners: ``_ListWriter`` answers 403 to anyone else who can
see it, before the body is read (the services check the same rule).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.mixins import ListModelMixin
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response

from apps.accounts.api.base import DealerGenericAPIView
from apps.core.api.parsers import SafeFormParser, SafeMultiPartParser
from apps.core.exceptions import NotFound
from apps.core.schema import ErrorSerializer
from apps.core.serializers import no_input, only_fields, validated
from apps.orders import selectors, services
from apps.orders.api import serializers as s
from apps.orders.api.views import _buy
from apps.orders.models import RequisitionList, RequisitionListItem

TAGS = ["lists"]


class _ListWriter(BasePermission):
    """Writes to a list: its owner, and for a shared list an owner of the company."""

    message = gettext_lazy(
        "Only the list's owner, or for a shared list an owner of the company, may change it."
    )

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in SAFE_METHODS or obj.can_edit(by=request.user)


def _forbidden(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


WRITE_403 = _forbidden(
    "You may not order (finance and viewer users), or the list is a colleague's shared list: "
    "only its owner and the company's owners may change it."
)
READ_403 = _forbidden("You may not order (finance and viewer users).")
NOT_FOUND = OpenApiResponse(
    ErrorSerializer,
    description="No such list among yours and your company's shared ones.",
)


class _ListView(DealerGenericAPIView):
    queryset = RequisitionList.objects.all()
    permission_classes = [_buy, _ListWriter]
    serializer_class = s.RequisitionListSerializer

    def visible(self):
        """Your lists and your company's shared ones (``super()``: your company's)."""
        return selectors.requisition_list_visible(
            user=self.request.user, queryset=super().get_queryset()
        )

    def get_queryset(self):
        return self.visible()

    def requisition_list(self) -> RequisitionList:
        """The list of the URL, if the caller sees it (else 404) and, for a write, may change
        it (else 403)."""
        return self.get_object()

    def answer(self, pk: int, code: int = status.HTTP_200_OK) -> Response:
        """The list as it is now, with its lines: after the caller's own write, so read in
        the company (a company owner who just stopped sharing a colleague's list no longer
        sees it, but is told what it became)."""
        company_lists = super().get_queryset()
        reqlist = selectors.requisition_list_detail_queryset(company_lists).filter(pk=pk).first()
        if reqlist is None:  # deleted meanwhile (another request)
            raise NotFound(_("This list no longer exists."))
        return Response(self.get_serializer(reqlist).data, status=code)


class RequisitionListsView(ListModelMixin, _ListView):
    def get_queryset(self):
        return selectors.requisition_list_detail_queryset(self.visible())

    @extend_schema(
        summary="Your requisition lists",
        description="Your own lists and your company's shared ones, most recently changed "
        "first, paginated, each with its lines.",
        responses={200: s.RequisitionListSerializer(many=True), 403: READ_403},
        tags=TAGS,
    )
    def get(self, request):
        return self.list(request)

    @extend_schema(
        summary="Make a requisition list",
        description="A named list of products and quantities (no prices: they are those of "
        "the day the lines go into the cart), private unless `shared`. Only products you may "
        "order can be added. At most 200 lists per company and 500 lines per list.",
        request=s.RequisitionListCreateSerializer,
        responses={201: s.RequisitionListSerializer, 403: READ_403},
        tags=TAGS,
    )
    def post(self, request):
        data = validated(s.RequisitionListCreateSerializer, request.data)
        reqlist = services.list_create(user=request.user, **data)
        return self.answer(reqlist.pk, status.HTTP_201_CREATED)


class RequisitionListDetailView(_ListView):
    def get_queryset(self):
        if self.request.method == "GET":  # a write answers the list re-read after it
            return selectors.requisition_list_detail_queryset(self.visible())
        return self.visible()

    @extend_schema(
        summary="A requisition list",
        description="With its lines.",
        responses={200: s.RequisitionListSerializer, 403: READ_403, 404: NOT_FOUND},
        tags=TAGS,
    )
    def get(self, request, pk):
        return Response(self.get_serializer(self.requisition_list()).data)

    @extend_schema(
        summary="Rename or share a requisition list",
        description="`name` and/or `shared`; a shared list is seen and used by every user of "
        "your company who may order.",
        request=s.RequisitionListUpdateSerializer,
        responses={200: s.RequisitionListSerializer, 403: WRITE_403, 404: NOT_FOUND},
        tags=TAGS,
    )
    def patch(self, request, pk):
        reqlist = self.requisition_list()
        current = self.get_serializer(reqlist).data  # what may be sent back unchanged
        data = validated(
            s.RequisitionListUpdateSerializer, request.data, context={"current": current}
        )
        services.list_update(by=request.user, reqlist=reqlist, **data)
        return self.answer(reqlist.pk)

    @extend_schema(
        summary="Delete a requisition list",
        description="With its lines; your cart is untouched.",
        responses={204: None, 403: WRITE_403, 404: NOT_FOUND},
        tags=TAGS,
    )
    def delete(self, request, pk):
        reqlist = self.requisition_list()
        no_input(request)
        services.list_delete(by=request.user, reqlist=reqlist)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RequisitionListItemsView(_ListView):
    @extend_schema(
        summary="Add a product to a requisition list",
        description="Adds the quantity to the product's line (a new line when the product is "
        "not in the list yet) and answers the whole list. Only products you may order can "
        "be added; at most 500 lines per list.",
        request=s.ItemInputSerializer,
        responses={201: s.RequisitionListSerializer, 403: WRITE_403, 404: NOT_FOUND},
        tags=TAGS,
    )
    def post(self, request, pk):
        reqlist = self.requisition_list()
        data = validated(s.ItemInputSerializer, request.data)
        services.list_item_add(by=request.user, reqlist=reqlist, **data)
        return self.answer(reqlist.pk, status.HTTP_201_CREATED)


class RequisitionListItemDetailView(_ListView):
    def object_lookup(self) -> RequisitionListItem:
        """The line of the URL on a list the caller sees, else 404 (another company's line
        included): what a refused role is told about first (``object_answer``), and what a
        write asks before whether the caller may change the list (403)."""
        return get_object_or_404(
            RequisitionListItem.objects.filter(list__in=self.visible()),
            pk=self.kwargs["item_id"],
            list_id=self.kwargs["pk"],
        )

    def requisition_list(self) -> RequisitionList:
        self._item = self.object_lookup()
        return super().requisition_list()

    def item(self, reqlist: RequisitionList, item_id: int):
        item = self._item  # found by ``requisition_list``, on this list
        item.list = reqlist  # the row the permission was checked on
        return item

    @extend_schema(
        summary="Change a requisition list line's quantity",
        description="Sets the line's quantity and answers the whole list.",
        request=s.RequisitionListItemUpdateSerializer,
        responses={
            200: s.RequisitionListSerializer,
            403: WRITE_403,
            404: OpenApiResponse(
                ErrorSerializer, description="No such list (among those you see) or line."
            ),
        },
        tags=TAGS,
    )
    def patch(self, request, pk, item_id):
        reqlist = self.requisition_list()
        item = self.item(reqlist, item_id)
        current = s.RequisitionListItemSerializer(item).data  # what may be sent back unchanged
        data = validated(
            s.RequisitionListItemUpdateSerializer, request.data, context={"current": current}
        )
        services.list_item_update(by=request.user, item=item, quantity=data["quantity"])
        return self.answer(reqlist.pk)

    @extend_schema(
        summary="Remove a requisition list line",
        description="Removes the line and answers the rest of the list (200 with the list, "
        "not 204).",
        responses={
            200: s.RequisitionListSerializer,
            403: WRITE_403,
            404: OpenApiResponse(
                ErrorSerializer, description="No such list (among those you see) or line."
            ),
        },
        tags=TAGS,
    )
    def delete(self, request, pk, item_id):
        reqlist = self.requisition_list()
        item = self.item(reqlist, item_id)
        no_input(request)
        services.list_item_delete(by=request.user, item=item)
        return self.answer(reqlist.pk)


class RequisitionListToCartView(_ListView):
    permission_classes = [_buy]  # using a list someone shared is what sharing is for

    @extend_schema(
        summary="Put a requisition list into your cart",
        description="The lines of `item_ids` (all lines when omitted) are added to your cart "
        "at today's prices; the list does not change. `added` lists what went in; "
        "`problems` each line's problem: `not_available` (no longer sold), `not_sellable` "
        "(no price for you) and `cart_limit` (the cart is full, or the line would pass "
        "1,000,000 units) lines were not added; `out_of_stock`, `below_minimum` and "
        "`not_multiple` lines were added and the cart shows the same problem. An id that is "
        "not a line of this list answers 400 and adds nothing.",
        request=s.RequisitionListToCartSerializer,
        responses={200: s.RequisitionListToCartResultSerializer, 403: READ_403, 404: NOT_FOUND},
        tags=TAGS,
    )
    def post(self, request, pk):
        reqlist = self.requisition_list()
        data = validated(s.RequisitionListToCartSerializer, request.data)
        result = services.list_to_cart(
            user=request.user, reqlist=reqlist, item_ids=data.get("item_ids")
        )
        body = {"added": result.added, "problems": result.problems}
        return Response(s.RequisitionListToCartResultSerializer(body).data)


class RequisitionListExportView(_ListView):
    permission_classes = [_buy]

    @extend_schema(
        summary="A requisition list as a CSV file",
        description="`sku;quantity` rows under a header, UTF-8 with a byte order mark and "
        "`;` (Excel, in Turkish too, opens it in two columns); the list's import and the "
        "cart's quick order read it back.",
        responses={(200, "text/csv"): OpenApiTypes.BINARY, 403: READ_403, 404: NOT_FOUND},
        tags=TAGS,
    )
    def get(self, request, pk):
        reqlist = self.requisition_list()
        response = HttpResponse(
            services.list_csv(reqlist=reqlist), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="list-{reqlist.pk}.csv"'
        response["Cache-Control"] = "private, no-store"
        return response


class RequisitionListImportView(_ListView):
    parser_classes = [SafeMultiPartParser, SafeFormParser]

    @extend_schema(
        summary="Add a file of products to a requisition list",
        description="A CSV (`sku;quantity` or `sku,quantity`, header optional; the list's "
        "export) or .xlsx file of at most 1,000 rows, as for the cart's quick order: valid "
        "rows are added to the list (to the product's line when it has one), each bad row "
        "is reported with its line number and reason. Files above 2 MB answer 413.",
        request={"multipart/form-data": s.CartImportInputSerializer},
        responses={
            200: s.RequisitionListImportResultSerializer,
            403: WRITE_403,
            404: NOT_FOUND,
            413: OpenApiResponse(ErrorSerializer, description="The file is larger than 2 MB."),
        },
        tags=TAGS,
    )
    def post(self, request, pk):
        reqlist = self.requisition_list()  # before the body is read: 404 and 403 come first
        only_fields(request, {"file"})
        result = services.list_import(
            by=request.user, reqlist=reqlist, upload=request.FILES.get("file")
        )
        body = {
            "rows": result.rows,
            "added": result.added,
            "failed": result.failed,
            "errors": result.errors,
            "list": selectors.requisition_list_detail_queryset(self.visible()).get(pk=reqlist.pk),
        }
        return Response(
            s.RequisitionListImportResultSerializer(
                body, context=self.get_serializer_context()
            ).data
        )
