"""django-auditlog glue: the acting user of API requests and a trustworthy client address.

auditlog's middleware sees only the session user; API callers authenticate later, inside DRF.
``audit_set_actor`` puts the authenticated user into the audit context of the running request.
"""

from __future__ import annotations

from auditlog.context import auditlog_value
from auditlog.middleware import AuditlogMiddleware

from apps.core.net import client_ip


class AuditMiddleware(AuditlogMiddleware):
    @staticmethod
    def _get_remote_addr(request):
        # X-Forwarded-For only as far as our own proxies go (auditlog trusts its first hop)
        return client_ip(request)


def audit_set_actor(user) -> None:
    try:
        context = auditlog_value.get()
    except LookupError:
        return
    context["actor"] = user
