"""django-auditlog glue: the acting user of API requests and a trustworthy client address.

auditlog's middleware sees only the session user; API callers authenticate later, inside DRF.
``audit_set_actor`` puts the authenticated user into the audit context of the running request.
"""

from __future__ import annotations

from auditlog import diff as auditlog_diff
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


def audit_reverse_relations_untracked() -> None:
    """django-auditlog (3.4) diffs every field ``_meta.get_fields()`` names, reverse relations
    included: a created API key's entry read "batches: None → integrations.BatchLog.None".
    Only the model's own fields are tracked from here on (its many-to-many fields as
    registered). Called once from the core app's ``ready()``."""
    if getattr(auditlog_diff.track_field, "own_fields_only", False):
        return
    tracked = auditlog_diff.track_field

    def track_field(field) -> bool:
        return not (field.auto_created and not field.concrete) and tracked(field)

    track_field.own_fields_only = True
    auditlog_diff.track_field = track_field
