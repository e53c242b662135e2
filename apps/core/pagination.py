"""Page-number pagination of API.md: ``?page=N&page_size=M`` (max 100).

Bad values are refused with 400 and a field error instead of being silently replaced:
``page`` and ``page_size`` must be whole numbers, ``page >= 1`` and ``1 <= page_size <= 100``.
A page past the end answers 404 ``{"code": "not_found"}`` (the first page of an empty list is
page 1 with ``results: []``).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import pagination

from apps.core.exceptions import NotFound, ValidationError
from apps.core.text import is_digits


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
        if not is_digits(raw) or not (1 <= int(raw) <= self.max_page_size):
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        _("Must be a whole number from 1 to %(max)d.") % {"max": self.max_page_size}
                    ]
                }
            )
        return int(raw)

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        if raw not in (None, "") and (not is_digits(raw) or int(raw) < 1):
            raise ValidationError({self.page_query_param: [_("Must be a whole number from 1.")]})
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
