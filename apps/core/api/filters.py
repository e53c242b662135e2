"""Pieces of the dealer lists' FilterSets: a day filter with the API's date messages, and the
form base that checks a date range (``date_range = ("created_from", "created_to")``). Bad
values answer 400 with field messages; a filter sent empty (``?status=``) is no filter."""

from __future__ import annotations

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from django_filters.constants import EMPTY_VALUES

from apps.core.clock import business_day_start
from apps.core.forms import PlainDateField

DATE_ERRORS = {"invalid": _("Date has wrong format. Use one of these formats instead: YYYY-MM-DD.")}


_CALENDAR_MIDDLE = (datetime.date(2, 1, 1), datetime.date(9998, 12, 31))


class PlainDateFilter(filters.DateFilter):
    """``YYYY-MM-DD`` in ASCII digits (``PlainDateField``)."""

    field_class = PlainDateField


class BusinessDayFilter(PlainDateFilter):
    """A day bound on a time field, in the distributor's calendar (``apps.core.clock``), not
    in the active time zone: the API answers in UTC, where an order placed at 01:30 in Istanbul
    is still on the day before. ``lookup_expr`` ``date__gte`` or ``date__lte`` (inclusive)."""

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        first, last = _CALENDAR_MIDDLE  # no time stored lies outside; the ends do not convert
        if value < first:  # from before everything, or up to before everything
            return qs if self.lookup_expr == "date__gte" else qs.none()
        if value > last:
            return qs.none() if self.lookup_expr == "date__gte" else qs
        if self.lookup_expr == "date__gte":
            return qs.filter(**{f"{self.field_name}__gte": business_day_start(value)})
        # the last day is whole: up to the start of the next one
        next_day = business_day_start(value + datetime.timedelta(days=1))
        return qs.filter(**{f"{self.field_name}__lt": next_day})


def day_filter(field_name: str, lookup_expr: str) -> filters.DateFilter:
    """A ``YYYY-MM-DD`` filter on ``field_name`` (inclusive bound: ``gte``/``lte`` on a date,
    or ``date__gte``/``date__lte`` on a time: then the day is the distributor's)."""
    kind = BusinessDayFilter if lookup_expr.startswith("date__") else PlainDateFilter
    return kind(
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
            # in words a portal reader knows too (the error is keyed by the parameter already)
            self.add_error(end_name, _("Must not be before the start date."))
        return cleaned
