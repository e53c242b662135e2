"""Users: e-mail login forms, lockout state and unlock."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from apps.accounts import lockout
from apps.accounts.admin.common import AuditHistoryMixin
from apps.accounts.models import (
    AuthEvent,
    User,
)
from apps.accounts.services.auth import auth_event_record
from apps.core.net import client_ip, user_agent

# --- Users ----------------------------------------------------------------------------------


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        if self.instance.customer_id and cleaned.get("is_staff"):
            self.add_error("is_staff", gettext("A dealer company's user cannot be staff."))
        return cleaned


@admin.register(User)
class UserAdmin(AuditHistoryMixin, DjangoUserAdmin):
    add_form = UserCreationForm
    form = UserEditForm
    ordering = ("email",)
    list_display = (
        "email",
        "first_name",
        "last_name",
        "customer",
        "role",
        "is_staff",
        "is_active",
        "is_locked",
        "last_login",
    )
    list_filter = (
        "is_staff",
        "is_active",
        "role",
        ("customer", admin.RelatedOnlyFieldListFilter),
        "is_superuser",
        "groups",
    )
    list_select_related = ("customer",)
    search_fields = ("email", "first_name", "last_name", "customer__code", "customer__name")
    actions = ("unlock_selected",)
    fieldsets = (
        (None, {"fields": ("email", "password", "is_locked")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "phone")}),
        (_("Company"), {"fields": ("customer", "role", "order_limit")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
    )
    # company and role change through the company screens (services keep the role groups)
    readonly_fields = ("last_login", "date_joined", "is_locked", "customer", "role")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # who is staff and what they may do is decided by super admins only
            fields += ["is_staff", "is_superuser", "groups", "user_permissions"]
        return fields

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        # a staff account (and its password) is changed only by a super admin
        return obj is None or request.user.is_superuser or not (obj.is_staff or obj.is_superuser)

    @admin.display(description=_("locked"), boolean=True)
    def is_locked(self, obj: User) -> bool:
        return lockout.is_account_locked(obj.email)

    @admin.action(description=_("Unlock selected accounts (failed logins)"), permissions=["change"])
    def unlock_selected(self, request, queryset):
        ip, agent = client_ip(request), user_agent(request)
        count = 0
        for user in queryset:
            lockout.unlock_account(user.email)
            auth_event_record(
                kind=AuthEvent.Kind.UNLOCK,
                user=user,
                ip=ip,
                user_agent=agent,
                detail=f"by {request.user.email}",
            )
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d account unlocked.", "%(count)d accounts unlocked.", count)
            % {"count": count},
            messages.SUCCESS,
        )
