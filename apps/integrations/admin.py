"""The back office of the integration API: what the ERP sent, batch by batch (read only)."""

from __future__ import annotations

import json

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.integrations.models import BatchLog


@admin.register(BatchLog)
class BatchLogAdmin(admin.ModelAdmin):
    list_display = (
        "started_at",
        "resource",
        "api_key",
        "received",
        "created",
        "updated",
        "unchanged",
        "failed",
        "duration_ms",
    )
    list_filter = ("resource",)
    search_fields = ("idempotency_key", "api_key__name", "api_key__prefix")
    date_hierarchy = "started_at"
    list_select_related = ("api_key",)
    show_full_result_count = False
    fields = (
        "resource",
        "api_key",
        "idempotency_key",
        "ip_address",
        "started_at",
        "duration_ms",
        ("received", "created", "updated", "unchanged", "failed"),
        "error_list",
    )
    readonly_fields = fields[:6] + fields[6] + ("error_list",)

    @admin.display(description=_("errors (the first 100)"))
    def error_list(self, obj: BatchLog) -> str:
        if not obj.errors:
            return "-"
        return format_html("<pre>{}</pre>", json.dumps(obj.errors, indent=2, ensure_ascii=False))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
