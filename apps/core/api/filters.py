"""Pieces of the dealer lists' FilterSets: a day filter with the API's date messages, and the
form base that checks a date range (``date_range = ("created_from", "created_to")``). Bad
values answer 400 with field messages; a filter sent empty (``?status=``) is no filter."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

DATE_ERRORS = {"invalid": _("Date has wrong format. Use one of these formats instead: YYYY-MM-DD.")}


def day_filter(field_name: str, lookup_expr: str) -> filters.DateFilter:
    """A ``YYYY-MM-DD`` filter on ``field_name`` (inclusive bound: ``gte``/``lte``, or
    ``date__gte``/``date__lte`` on a time)."""
    return filters.DateFilter(
        field_name=field_name,
        lookup_expr=lookup_expr,
        input_formats=["%Y-%m-%d"],
        error_messages=DATE_ERRORS,
        help_text="YYYY-MM-DD (inclusive).",
    )


class DateRangeForm(forms.Form):
    """A FilterSet form whose ``date_range`` (start, end) must not run backwards."""

    date_range: tuple[str, str] = ("", "")

    def clean(self):
        cleaned = super().clean()
        start_name, end_name = self.date_range
        start, end = cleaned.get(start_name), cleaned.get(end_name)
        if start and end and end < start:
            self.add_error(end_name, _("Must not be before %(start)s.") % {"start": start_name})
        return cleaned
