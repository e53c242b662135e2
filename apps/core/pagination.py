"""Page-number pagination of API.md: ``?page=N&page_size=M`` (max 100).

Bad values are refused with 400 and a field error instead of being silently replaced:
``page`` and ``page_size`` must be whole numbers, ``page >= 1`` and ``1 <= page_size <= 100``.
A page past the end answers 404 ``{"code": "not_found"}`` (the first page of an empty list is
page 1 with ``results: []``).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import pagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from apps.core.exceptions import NotFound, ValidationError
from apps.core.text import digits_int, is_digits


class PageNumberPagination(pagination.PageNumberPagination):
    page_query_param = "page"
    page_size_query_param = "page_size"

    @property
    def max_page_size(self) -> int:
        return settings.API_MAX_PAGE_SIZE

    @property
    def page_size(self) -> int:
        return settings.API_PAGE_SIZE

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        size = digits_int(raw)
        if size is None or not (1 <= size <= self.max_page_size):
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        _("Must be a whole number from 1 to %(max)d.") % {"max": self.max_page_size}
                    ]
                }
            )
        return size

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        if raw not in (None, "") and (not is_digits(raw) or not raw.strip("0")):
            raise ValidationError({self.page_query_param: [_("Must be a whole number from 1.")]})
        if raw and digits_int(raw) is None:  # more digits than any page number has
            raise NotFound(_("Invalid page: past the last page."), code="not_found")
        try:
            return super().paginate_queryset(queryset, request, view)
        except pagination.NotFound as exc:
            raise NotFound(_("Invalid page: past the last page."), code="not_found") from exc

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["required"] = ["count", "next", "previous", "results"]
        return response

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param["name"] == self.page_size_query_param:
                param["schema"].update({"minimum": 1, "maximum": self.max_page_size})
            if param["name"] == self.page_query_param:
                param["schema"].update({"minimum": 1})
        return params


def page_parameters() -> tuple[OpenApiParameter, OpenApiParameter]:
    """``page`` and ``page_size`` as the paginator documents them, for a view that lists its
    parameters itself (``extend_schema(parameters=...)``): the bounds it enforces."""
    return (
        OpenApiParameter(
            "page", {"type": "integer", "minimum": 1}, OpenApiParameter.QUERY, required=False
        ),
        OpenApiParameter(
            "page_size",
            {"type": "integer", "minimum": 1, "maximum": settings.API_MAX_PAGE_SIZE},
            OpenApiParameter.QUERY,
            required=False,
        ),
    )


class ChangesPagination(PageNumberPagination):
    """A list of changes for a program to pull (the ERP's ``orders`` and ``returns``), ordered
    by ``updated_at`` then ``id``: by page number as any list, or, with ``cursor=``, by keyset.
    ``cursor=`` (empty) answers the first page; each answer's ``next`` carries the cursor after
    its last row, until ``next`` is null. A keyset page never skips nor repeats a row, however
    many rows share one ``updated_at`` (a batch job stamps hundreds with one time) and whatever
    changes meanwhile (a row that changes moves past the cursor and comes again later)."""

    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset, request, view=None):
        self.keyset = self.cursor_query_param in request.query_params
        if not self.keyset:
            return super().paginate_queryset(queryset, request, view)
        if self.page_query_param in request.query_params:
            raise ValidationError(
                {self.cursor_query_param: [_("Send either page or cursor, not both.")]}
            )
        self.request = request
        self.count = queryset.count()
        after = _change_cursor_key(request.query_params[self.cursor_query_param])
        if after is not None:
            moment, pk = after
            queryset = queryset.filter(Q(updated_at__gt=moment) | Q(updated_at=moment, pk__gt=pk))
        limit = self.get_page_size(request)
        rows = list(queryset[: limit + 1])
        page, more = rows[:limit], len(rows) > limit
        self.cursor_next = _change_cursor_token(page[-1]) if more else None
        return page

    def get_paginated_response(self, data):
        if not self.keyset:
            return super().get_paginated_response(data)
        following = None
        if self.cursor_next is not None:
            following = replace_query_param(
                self.request.build_absolute_uri(), self.cursor_query_param, self.cursor_next
            )
        return Response({"count": self.count, "next": following, "previous": None, "results": data})


def _change_cursor_token(row) -> str:
    """The cursor after ``row``: its ``updated_at`` and ``id``, opaque."""
    data = json.dumps([row.updated_at.isoformat(), row.pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _change_cursor_key(raw: str) -> tuple[datetime.datetime, int] | None:
    """What a cursor carries (None for an empty one: from the start); 400 for anything else."""
    if not raw:
        return None
    wrong = ValidationError(
        {"cursor": [_("Not a cursor of this list: start again with an empty cursor.")]}
    )
    try:
        moment, pk = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if type(pk) is not int or not 0 < pk < 2**63 or not isinstance(moment, str):
            raise wrong
        moment = datetime.datetime.fromisoformat(moment)
        if moment.tzinfo is None:
            raise wrong
        # in UTC: Python takes offsets PostgreSQL refuses (+16:00, +05:30:30.5)
        moment = moment.astimezone(datetime.UTC)
    except (
        ValueError,
        TypeError,
        OverflowError,
        RecursionError,  # "[[[[..." a thousand deep
        UnicodeDecodeError,
        binascii.Error,
    ) as exc:
        raise wrong from exc
    return moment, pk
