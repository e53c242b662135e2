"""Dealer API: the company's returns (RMA). Thin: parse, call a service."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.mixins import ListModelMixin
from rest_framework.response import Response

from apps.accounts.api.base import DealerGenericAPIView
from apps.accounts.permissions import dealer_permission
from apps.core.api.files import file_response, produced
from apps.core.api.parsers import SafeJSONParser, SafeMultiPartParser, json_body_loads
from apps.core.exceptions import ValidationError
from apps.core.files import stored_bytes
from apps.core.schema import ConflictSerializer, ErrorSerializer
from apps.core.serializers import no_input
from apps.returns.api import serializers as s
from apps.returns.models import ReturnRequest, ReturnStatus
from apps.returns.services import return_cancel, return_request

_returns = dealer_permission(
    "returns.add_returnrequest", read_perms=("returns.view_returnrequest",)
)
KNOWN = {"order_number", "lines", "note", "photos"}


class ReturnFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=ReturnStatus.choices)

    class Meta:
        model = ReturnRequest
        fields = ["status"]


def _conflict(description: str) -> OpenApiResponse:
    return OpenApiResponse(ConflictSerializer, description=description)


def _detail_queryset():
    return ReturnRequest.objects.select_related("order").prefetch_related(
        "lines", "photos", "status_history__changed_by"
    )


class ReturnListView(ListModelMixin, DealerGenericAPIView):
    queryset = ReturnRequest.objects.select_related("order").order_by("-created_at", "-id")
    permission_classes = [_returns]
    serializer_class = s.ReturnSummarySerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ReturnFilter
    # JSON, or multipart with the photos (as the schema says): not a urlencoded form
    parser_classes = [SafeJSONParser, SafeMultiPartParser]

    @extend_schema(
        summary="Your company's returns",
        description="Newest first, paginated; filter by status.",
        tags=["returns"],
    )
    def get(self, request):
        return self.list(request)

    @extend_schema(
        summary="Ask to return goods",
        description="Lines of a delivered order of your company, within the return window "
        "(`RETURN_WINDOW_DAYS`, 14 by default, calendar days in Europe/Istanbul from delivery). "
        "Per line at most what shipped minus what earlier returns (not rejected or cancelled) "
        "asked; serial-tracked products name the serial numbers that shipped on that line. "
        "`reason`: damaged, wrong_item, defective, not_needed, or other with `reason_text`. "
        "Photos: send multipart/form-data with `lines` as JSON text. An order number your "
        "company does not have: 400 on `order_number`.",
        request={
            "application/json": s.ReturnCreateSerializer,
            "multipart/form-data": s.ReturnCreateSerializer,
        },
        responses={
            201: s.ReturnSerializer,
            409: _conflict("The order is not delivered, or the return window has closed."),
        },
        tags=["returns"],
    )
    def post(self, request):
        data = request.data
        if not isinstance(data, dict):  # a JSON list, a number, null
            raise ValidationError(_("Send an object: order_number, lines, note."))
        unknown = sorted(str(name) for name in data if name not in KNOWN)
        if unknown:
            raise ValidationError({name: [_("Unknown or read-only field.")] for name in unknown})
        lines = data.get("lines")
        if isinstance(lines, str):  # multipart: the lines as JSON text
            try:
                lines = json_body_loads(lines)
            except ValueError:  # not JSON, too deep, a key twice
                raise ValidationError({"lines": [_("Send the lines as JSON.")]}) from None
        photos = request.FILES.getlist("photos") if request.FILES else []
        if "photos" in data and not photos:
            # in a JSON body (or as text) they were dropped without a word
            raise ValidationError(
                {"photos": [_("Send photos as files of a multipart body (field photos).")]}
            )
        created = return_request(
            user=request.user,
            order_number=data.get("order_number"),
            lines=lines,
            note=data.get("note"),  # null is no note; 0, [] or {} are not text (400)
            photos=photos,
        )
        return Response(s.ReturnSerializer(_detail_queryset().get(pk=created.pk)).data, status=201)


class _ReturnObjectView(DealerGenericAPIView):
    lookup_field = "number"
    serializer_class = s.ReturnSerializer
    queryset = _detail_queryset()


class ReturnDetailView(_ReturnObjectView):
    permission_classes = [_returns]

    @extend_schema(
        summary="A return",
        description="Lines (with what was received), photos, the credit once credited, and "
        "every status change.",
        tags=["returns"],
    )
    def get(self, request, number):
        return Response(s.ReturnSerializer(self.get_object()).data)


def photo_response(rma: ReturnRequest, photo_id: int) -> HttpResponse:
    """One photo of ``rma`` (a return the caller may read), shown inline with the type it was
    checked to have when it was sent; another return's photo: 404."""
    photo = next((photo for photo in rma.photos.all() if photo.pk == photo_id), None)
    if photo is None:
        raise NotFound()
    return file_response(
        produced(stored_bytes, photo.file), photo.content_type, photo.download_name, inline=True
    )


PHOTO_RESPONSES = {
    (200, "image/jpeg"): OpenApiTypes.BINARY,
    (200, "image/png"): OpenApiTypes.BINARY,
    (200, "image/webp"): OpenApiTypes.BINARY,
    404: OpenApiResponse(ErrorSerializer, description="No such return or photo."),
    503: OpenApiResponse(ErrorSerializer, description="The file storage does not answer."),
}


class ReturnPhotoView(_ReturnObjectView):
    permission_classes = [_returns]
    queryset = ReturnRequest.objects.prefetch_related("photos")

    @extend_schema(
        summary="A photo sent with a return",
        description="The image as it was sent (JPEG, PNG or WebP), shown inline; its address "
        "is the photo's `url` in the return.",
        responses=PHOTO_RESPONSES,
        tags=["returns"],
    )
    def get(self, request, number, photo_id):
        return photo_response(self.get_object(), photo_id)


class ReturnCancelView(_ReturnObjectView):
    permission_classes = [_returns]

    @extend_schema(
        summary="Cancel a return",
        description="While it is `requested` only; afterwards 409.",
        request=None,
        responses={200: s.ReturnSerializer, 409: _conflict("The return was decided already.")},
        tags=["returns"],
    )
    def post(self, request, number):
        rma = self.get_object()
        no_input(request)
        cancelled = return_cancel(request=rma, by=request.user)
        return Response(s.ReturnSerializer(_detail_queryset().get(pk=cancelled.pk)).data)
