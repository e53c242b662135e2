"""Filters of the dealer's invoice list (API.md: ``status``, ``issued_from``, ``issued_to``,
``order``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from apps.finance.models import Invoice
from apps.finance.selectors import InvoiceStatus
from apps.orders.api.filters import DATE_ERRORS


class InvoiceFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("issued_from"), cleaned.get("issued_to")
        if start and end and end < start:
            self.add_error("issued_to", _("Must not be before issued_from."))
        return cleaned


class InvoiceFilter(filters.FilterSet):
    status = filters.ChoiceFilter(
        choices=InvoiceStatus.CHOICES,
        error_messages={"invalid_choice": _('"%(value)s" is not a valid choice.')},
        help_text="open (not yet due), overdue or paid.",
    )
    issued_from = filters.DateFilter(
        field_name="issue_date",
        lookup_expr="gte",
        input_formats=["%Y-%m-%d"],
        error_messages=DATE_ERRORS,
        help_text="YYYY-MM-DD (inclusive).",
    )
    issued_to = filters.DateFilter(
        field_name="issue_date",
        lookup_expr="lte",
        input_formats=["%Y-%m-%d"],
        error_messages=DATE_ERRORS,
        help_text="YYYY-MM-DD (inclusive).",
    )
    order = filters.CharFilter(
        field_name="order__number", max_length=20, help_text="An order number."
    )

    class Meta:
        model = Invoice
        fields = ["status", "issued_from", "issued_to", "order"]
        form = InvoiceFilterForm
