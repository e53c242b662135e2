"""The notification log (read only): what was sent to whom, when, and what failed.

It lives with the accounts back office because it is scoped by dealer (staff see the
notifications of the dealers they see), and the notifications app sits below accounts: it
imports no dealer scoping."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from apps.accounts.admin.scoping import DealerScopedAdminMixin, is_super_admin
from apps.accounts.models import User
from apps.core.admin_mixins import ReadOnlyAdminMixin
from apps.notifications.kinds import TEMPLATE_LABELS, template_label
from apps.notifications.models import Notification


class TemplateFilter(admin.SimpleListFilter):
    """By message template, named as staff know them (``accounts/password_reset`` is "Password
    reset link")."""

    title = _("template")
    parameter_name = "template"

    def lookups(self, request, model_admin):
        return sorted(((key, template_label(key)) for key in TEMPLATE_LABELS), key=lambda kv: kv[1])

    def queryset(self, request, queryset):
        return queryset.filter(template=self.value()) if self.value() else queryset


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, DealerScopedAdminMixin, admin.ModelAdmin):
    dealer_scope = "customer"  # those to staff: only for staff who see every dealer
    list_display = (
        "created_at",
        "channel",
        "template_label",
        "to",
        "subject",
        "status",
        "attempts",
        "sent_at",
        "error",
    )
    list_filter = ("channel", "status", TemplateFilter)
    search_fields = ("to", "subject", "customer__code", "customer__name")
    date_hierarchy = "created_at"
    list_select_related = ("customer", "user")
    show_full_result_count = False
    fields = (
        "channel",
        "template_label",
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
        "attempted_at",
        "sent_at",
    )
    readonly_fields = fields

    @admin.display(description=_("template"), ordering="template")
    def template_label(self, notification):
        return template_label(notification.template)

    def scope_queryset(self, request, queryset):
        """What was sent to other staff accounts (a password reset link, a quote to answer)
        only for super admins, as the staff accounts themselves (the users screen); one's own
        messages stay in view."""
        queryset = super().scope_queryset(request, queryset)
        if not is_super_admin(request.user):
            staff = User.objects.filter(Q(is_staff=True) | Q(is_superuser=True)).exclude(
                pk=request.user.pk
            )
            queryset = (
                queryset.exclude(user__in=staff)
                .alias(address=Lower("to"))
                .exclude(address__in=staff.values("email"))
            )
        return queryset
