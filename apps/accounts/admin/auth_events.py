"""The read-only authentication log."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q
from django.db.models.functions import Lower, Trim

from apps.accounts.admin.scoping import DealerScopedAdminMixin, is_super_admin
from apps.accounts.models import AuthEvent, User
from apps.core.admin_mixins import ReadOnlyAdminMixin

# --- Authentication log ---------------------------------------------------------------------


@admin.register(AuthEvent)
class AuthEventAdmin(DealerScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    dealer_scope = "user__customer"  # logins of a dealer's people; staff's and unknown e-mails
    # only for staff who see every dealer
    list_display = ("at", "kind", "email", "user", "ip_address", "user_agent", "detail")
    list_filter = ("kind", "at")
    search_fields = ("email", "ip_address")
    date_hierarchy = "at"
    list_select_related = ("user",)
    show_full_result_count = False

    def scope_queryset(self, request, queryset):
        """Staff accounts' sign-ins (their addresses, failures, second-factor steps) only for
        super admins, as the staff accounts themselves (the users screen)."""
        queryset = super().scope_queryset(request, queryset)
        if not is_super_admin(request.user):
            staff = User.objects.filter(Q(is_staff=True) | Q(is_superuser=True))
            queryset = (
                queryset.exclude(user__is_staff=True)
                .exclude(user__is_superuser=True)
                # a failed sign-in is kept by e-mail alone, as typed, with no user: a staff
                # member's too, in any capitals (addresses are stored in lower case)
                .alias(typed=Lower(Trim("email")))
                .exclude(typed__in=staff.values("email"))
            )
        return queryset
