"""Admins of installed libraries that show people's data, re-registered for super admins only:
django-auditlog's log of every change (old and new values of every business table) and
simplejwt's refresh tokens of every user."""

from __future__ import annotations

from auditlog import get_logentry_model
from auditlog.admin import LogEntryAdmin
from rest_framework_simplejwt.token_blacklist.admin import (
    BlacklistedTokenAdmin,
    OutstandingTokenAdmin,
)
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.accounts.admin.scoping import register_super_admin_only


class TokenAdmin(OutstandingTokenAdmin):
    # the token itself is a credential: its id, owner and dates are enough to look at
    fields = ("jti", "user", "created_at", "expires_at")


register_super_admin_only(get_logentry_model(), LogEntryAdmin)
register_super_admin_only(OutstandingToken, TokenAdmin)
register_super_admin_only(BlacklistedToken, BlacklistedTokenAdmin)
