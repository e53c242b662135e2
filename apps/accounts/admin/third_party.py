"""Admins of installed libraries that show people's data, re-registered for super admins only:
django-auditlog's log of every change (old and new values of every business table) and
simplejwt's refresh tokens of every user (kept off the start page and the app list: internal
bookkeeping, reachable by URL, e.g. /admin/token_blacklist/outstandingtoken/?user__id__exact=1)."""

from __future__ import annotations

from auditlog import get_logentry_model
from auditlog.admin import LogEntryAdmin
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


register_super_admin_only(get_logentry_model(), LogEntryAdmin)
register_super_admin_only(OutstandingToken, TokenAdmin)
register_super_admin_only(BlacklistedToken, BlacklistAdmin)
