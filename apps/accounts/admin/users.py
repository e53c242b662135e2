"""Users: e-mail login forms, lockout state and unlock, password reset links.

Nobody sets another person's password here: the password page answers 403 (one's own
password changes through the admin's "change password", which asks for the old one), a new
account gets no password, and staff send a reset link ("Send a password reset link") that the
person follows themself. A staff member sees the users of the dealers they see; staff accounts
only super admins see and manage.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from apps.accounts import lockout
from apps.accounts.admin.common import AuditHistoryMixin
from apps.accounts.admin.scoping import (
    DealerScopedAdminMixin,
    is_super_admin,
    scope_to_dealers,
)
from apps.accounts.models import (
    AuthEvent,
    DealerRole,
    User,
)
from apps.accounts.services.auth import (
    auth_event_record,
    email_change_notify,
    password_link_send,
    tokens_revoke_all,
)
from apps.accounts.services.two_factor import two_factor_reset
from apps.accounts.services.users import email_taken
from apps.core.net import client_ip, user_agent
from apps.core.text import email_address

# --- Users ----------------------------------------------------------------------------------


class UserCreationForm(forms.ModelForm):
    """A new account has no password: the person chooses one through the link e-mailed to
    them when the account is saved."""

    class Meta:
        model = User
        fields = ("email", "first_name", "last_name")

    def clean_email(self) -> str:
        try:
            email = email_address(self.cleaned_data["email"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        if email_taken(email):
            raise forms.ValidationError(gettext("A user with this e-mail already exists."))
        return email

    def save(self, commit=True):
        user = super().save(commit=False)
        user.set_unusable_password()
        if commit:
            user.save()
        return user


class UserEditForm(UserChangeForm):
    password = None  # nobody sees or sets another person's password (see the module doc)

    class Meta:
        model = User
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        user = self.instance
        if user.customer_id and cleaned.get("is_staff"):
            self.add_error("is_staff", gettext("A dealer company's user cannot be staff."))
        stops_owning = cleaned.get("is_active") is False or cleaned.get("role") not in (
            None,
            DealerRole.OWNER,
        )
        an_owner = user.pk and user.customer_id and user.role == DealerRole.OWNER
        if an_owner and user.is_active and stops_owning and not self._other_active_owners(user):
            # as the company screens and the services refuse it
            field = "is_active" if cleaned.get("is_active") is False else "role"
            self.add_error(field, gettext("A company must keep at least one active owner."))
        return cleaned

    @staticmethod
    def _other_active_owners(user) -> list[int]:
        """The company's other active owners, locked in id order until the save commits (the
        admin saves in one transaction): two people switching off the last two owners at once
        wait for each other, and the second sees the first's change."""
        owners = (
            User.objects.select_for_update()
            .filter(
                customer_id=user.customer_id,
                role=DealerRole.OWNER,
                is_active=True,
                is_deleted=False,
            )
            .order_by("pk")  # every owner, this one too, in one order: no deadlock
            .values_list("pk", flat=True)
        )
        return [pk for pk in owners if pk != user.pk]


@admin.register(User)
class UserAdmin(DealerScopedAdminMixin, AuditHistoryMixin, DjangoUserAdmin):
    dealer_scope = "customer"
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
    actions = ("unlock_selected", "send_password_reset_link", "reset_two_factor")
    fieldsets = (
        (None, {"fields": ("email", "password_state", "is_locked")}),
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
                "fields": ("email", "first_name", "last_name"),
                "description": _(
                    "The new user gets an e-mail with a link to choose their own password."
                ),
            },
        ),
    )
    # company and role change through the company screens (services keep the role groups)
    readonly_fields = (
        "password_state",
        "last_login",
        "date_joined",
        "is_locked",
        "customer",
        "role",
    )

    def scope_queryset(self, request, queryset):
        """The users of the dealers this staff member sees; staff accounts only for super
        admins."""
        if not is_super_admin(request.user):
            queryset = queryset.filter(is_staff=False, is_superuser=False)
        return scope_to_dealers(queryset, user=request.user, path="customer")

    def scope_choices(self, request, queryset):
        # a form picking a person (a sales rep) may name staff members: they are no dealer's
        return scope_to_dealers(queryset, user=request.user, path="customer", shared_when_null=True)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # who is staff and what they may do is decided by superusers only
            fields += ["is_staff", "is_superuser", "groups", "user_permissions"]
        elif obj is not None and obj.customer_id is not None:
            # a dealer user's permissions are its role's group, kept by the role services (the
            # company screens and the owner's API): set here by hand, they would part from the
            # role the API, the portal and the last-owner rule go by
            fields += ["is_staff", "is_superuser", "groups", "user_permissions"]
        return fields

    def has_delete_permission(self, request, obj=None):
        # people are deactivated, never deleted: their orders, approvals and audit entries
        # keep naming them
        return False

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        # a staff account is changed only by a super admin
        return obj is None or is_super_admin(request.user) or not (obj.is_staff or obj.is_superuser)

    def user_change_password(self, request, id, form_url=""):
        """Nobody sets another person's password: one's own goes through the admin's password
        change (which asks for the old one); anyone else's answers 403."""
        if str(request.user.pk) == unquote(id):
            return HttpResponseRedirect(reverse(f"{self.admin_site.name}:password_change"))
        raise PermissionDenied

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change and obj.is_active:
            password_link_send(user=obj)  # the new person chooses their own password
        elif change and "is_active" in form.changed_data and not obj.is_active:
            # as the dealer API's deactivation: their tokens end now, and stay ended when
            # they are switched on again (a new sign-in)
            tokens_revoke_all(user=obj)
        old_email = form.initial.get("email") or ""
        if change and "email" in form.changed_data and old_email.lower() != obj.email:
            email_change_notify(user=obj, old_email=old_email)

    @admin.display(description=_("password"))
    def password_state(self, obj: User) -> str:
        if obj.pk is None:
            return "-"
        if obj.has_usable_password():
            state = gettext("A password is set.")
        else:
            state = gettext("No password set.")
        hint = gettext(
            "Staff never set a person's password: select the user in the list and choose "
            "“Send a password reset link”."
        )
        return f"{state} {hint}"

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        # the page's locks at once (one round trip to Redis, one query), not per row
        locked = lockout.accounts_locked([user.email for user in changelist.result_list])
        for user in changelist.result_list:
            user.locked_now = user.email in locked
        return changelist

    @admin.display(description=_("locked"), boolean=True)
    def is_locked(self, obj: User) -> bool:
        if hasattr(obj, "locked_now"):  # a row of the list
            return obj.locked_now
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

    def has_reset_two_factor_permission(self, request) -> bool:
        """Only super admins see and run "Reset two-factor sign-in"."""
        return is_super_admin(request.user)

    @admin.action(
        description=_("Reset two-factor sign-in (lost phone)"), permissions=["reset_two_factor"]
    )
    def reset_two_factor(self, request, queryset):
        """Remove the authenticator app and recovery codes of the selected staff (super admins
        only): their sessions ask for a code again, and a role that requires two-factor sign-in
        sets up a new authenticator at the next sign-in."""
        if not is_super_admin(request.user):
            raise PermissionDenied
        ip, agent = client_ip(request), user_agent(request)
        count = sum(
            two_factor_reset(user=user, by=request.user, ip=ip, user_agent=agent)
            for user in queryset.filter(is_staff=True)
        )
        self.message_user(
            request,
            ngettext(
                "Two-factor sign-in reset for %(count)d user.",
                "Two-factor sign-in reset for %(count)d users.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Send a password reset link"), permissions=["change"])
    def send_password_reset_link(self, request, queryset):
        """E-mail each selected active user a time-limited link to choose a new password (the
        same link as the dealer API's password reset)."""
        ip, agent = client_ip(request), user_agent(request)
        sent, skipped = 0, []
        for user in queryset:
            if not user.is_active or user.is_deleted:
                skipped.append(user.email)
                continue
            password_link_send(user=user)
            auth_event_record(
                kind=AuthEvent.Kind.PASSWORD_RESET_REQUESTED,
                user=user,
                ip=ip,
                user_agent=agent,
                detail=f"by staff {request.user.email}",
            )
            sent += 1
        if sent:
            self.message_user(
                request,
                ngettext(
                    "A password reset link was e-mailed to %(count)d user.",
                    "A password reset link was e-mailed to %(count)d users.",
                    sent,
                )
                % {"count": sent},
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                gettext("Inactive accounts get no link: %(emails)s.")
                % {"emails": ", ".join(skipped)},
                messages.WARNING,
            )
