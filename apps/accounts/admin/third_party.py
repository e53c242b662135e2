"""Admins of installed libraries that show people's data, re-registered for super admins only:
django-auditlog's log of every change (old and new values of every business table) and
simplejwt's refresh tokens of every user (kept off the start page and the app list: internal
bookkeeping, reachable by URL, e.g. /admin/token_blacklist/outstandingtoken/?user__id__exact=1)."""

from __future__ import annotations

from auditlog import get_logentry_model
from auditlog.admin import LogEntryAdmin
from auditlog.filters import CIDFilter, ResourceTypeFilter
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.token_blacklist.admin import (
    BlacklistedTokenAdmin,
    OutstandingTokenAdmin,
)
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.accounts.admin.scoping import register_super_admin_only


class HiddenFromIndexMixin:
    """Internal bookkeeping (the token blacklist): not listed on the start page or in the app
    list, while its pages still open by URL for those allowed (super admins)."""

    def get_model_perms(self, request):
        return {}


class TokenAdmin(HiddenFromIndexMixin, OutstandingTokenAdmin):
    # the token itself is a credential: its id, owner and dates are enough to look at
    fields = ("jti", "user", "created_at", "expires_at")


class BlacklistAdmin(HiddenFromIndexMixin, BlacklistedTokenAdmin):
    pass


class ActorKindFilter(admin.SimpleListFilter):
    """Who made the change: staff in the back office, a dealer's user (portal or API), or no
    person (the ERP's feeds, scheduled jobs, the system)."""

    title = _("Changed by")
    parameter_name = "actor_kind"

    def lookups(self, request, model_admin):
        return (
            ("staff", _("Staff")),
            ("dealer", _("Dealer users")),
            ("system", _("ERP feeds and the system")),
        )

    def queryset(self, request, queryset):
        match self.value():
            case "staff":
                return queryset.filter(actor__is_staff=True)
            case "dealer":
                return queryset.filter(actor__customer__isnull=False)
            case "system":
                return queryset.filter(actor__isnull=True)
        return queryset


class AuditLogAdmin(LogEntryAdmin):
    """The whole audit log, filtered by what changed (action, kind of object), who changed it and
    when (the date drill-down); searched by object, values or the actor's name or e-mail;
    ``?object_pk=`` with a kind of object narrows it to one object."""

    list_filter = ("action", ResourceTypeFilter, ActorKindFilter, CIDFilter)
    list_per_page = 50


register_super_admin_only(get_logentry_model(), AuditLogAdmin)
register_super_admin_only(OutstandingToken, TokenAdmin)
register_super_admin_only(BlacklistedToken, BlacklistAdmin)
