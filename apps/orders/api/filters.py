"""Filters of the dealer's order list (API.md: ``status``, ``created_from``, ``created_to``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from apps.core.api.filters import DateRangeForm, day_filter
from apps.orders.models import Order, OrderStatus


class OrderFilterForm(DateRangeForm):
    date_range = ("created_from", "created_to")


class OrderFilter(filters.FilterSet):
    status = filters.ChoiceFilter(
        choices=OrderStatus.choices,
        error_messages={"invalid_choice": _('"%(value)s" is not a valid choice.')},
    )
    created_from = day_filter("created_at", "date__gte")
    created_to = day_filter("created_at", "date__lte")

    class Meta:
        model = Order
        fields = ["status", "created_from", "created_to"]
        form = OrderFilterForm
