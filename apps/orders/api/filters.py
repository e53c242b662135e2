"""Filters of the dealer's order list (API.md: ``status``, ``created_from``, ``created_to``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from apps.orders.models import Order, OrderStatus

DATE_ERRORS = {"invalid": _("Date has wrong format. Use one of these formats instead: YYYY-MM-DD.")}


class OrderFilterForm(forms.Form):
    """Bad values answer 400 with the messages of the serializer this FilterSet replaced; a
    filter sent empty (``?status=``) is no filter, as everywhere in the API."""

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("created_from"), cleaned.get("created_to")
        if start and end and end < start:
            self.add_error("created_to", _("Must not be before created_from."))
        return cleaned


class OrderFilter(filters.FilterSet):
    status = filters.ChoiceFilter(
        choices=OrderStatus.choices,
        error_messages={"invalid_choice": _('"%(value)s" is not a valid choice.')},
    )
    created_from = filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__gte",
        input_formats=["%Y-%m-%d"],
        error_messages=DATE_ERRORS,
        help_text="YYYY-MM-DD (inclusive).",
    )
    created_to = filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__lte",
        input_formats=["%Y-%m-%d"],
        error_messages=DATE_ERRORS,
        help_text="YYYY-MM-DD (inclusive).",
    )

    class Meta:
        model = Order
        fields = ["status", "created_from", "created_to"]
        form = OrderFilterForm
