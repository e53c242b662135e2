"""Filters of the dealer's invoice list (API.md: ``status``, ``issued_from``, ``issued_to``,
``order``) and card payment list (``status``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from apps.core.api.filters import DateRangeForm, day_filter
from apps.finance.models import CardPayment, Invoice
from apps.finance.selectors import InvoiceStatus


class InvoiceFilterForm(DateRangeForm):
    date_range = ("issued_from", "issued_to")


class InvoiceFilter(filters.FilterSet):
    status = filters.ChoiceFilter(
        choices=InvoiceStatus.CHOICES,
        error_messages={"invalid_choice": _('"%(value)s" is not a valid choice.')},
        help_text="open (not yet due), overdue or paid.",
    )
    issued_from = day_filter("issue_date", "gte")
    issued_to = day_filter("issue_date", "lte")
    order = filters.CharFilter(
        field_name="order__number", max_length=20, help_text="An order number."
    )

    class Meta:
        model = Invoice
        fields = ["status", "issued_from", "issued_to", "order"]
        form = InvoiceFilterForm


class CardPaymentFilter(filters.FilterSet):
    status = filters.ChoiceFilter(
        choices=CardPayment.Status.choices,
        error_messages={"invalid_choice": _('"%(value)s" is not a valid choice.')},
        help_text="pending, succeeded, failed or refunded.",
    )

    class Meta:
        model = CardPayment
        fields = ["status"]
