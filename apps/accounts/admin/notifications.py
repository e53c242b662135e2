"""The notification log (read only): what was sent to whom, when, and what failed.

It lives with the accounts back office because it is scoped by dealer (staff see the
notifications of the dealers they see), and the notifications app sits below accounts: it
imports no dealer scoping."""

from __future__ import annotations

from django.contrib import admin

from apps.accounts.admin.scoping import DealerScopedAdminMixin
from apps.core.admin_mixins import ReadOnlyAdminMixin
from apps.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, DealerScopedAdminMixin, admin.ModelAdmin):
    dealer_scope = "customer"  # those to staff: only for staff who see every dealer
    list_display = (
        "created_at",
        "channel",
        "template",
        "to",
        "subject",
        "status",
        "attempts",
        "sent_at",
        "error",
    )
    list_filter = ("channel", "status", "template")
    search_fields = ("to", "subject", "customer__code", "customer__name")
    date_hierarchy = "created_at"
    list_select_related = ("customer", "user")
    show_full_result_count = False
    fields = (
        "channel",
        "template",
        "to",
        "subject",
        "language",
        "status",
        "attempts",
        "error",
        "provider_id",
        "customer",
        "user",
        "created_at",
        "sent_at",
    )
    readonly_fields = fields
