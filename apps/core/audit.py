"""django-auditlog glue: the acting user of API requests and a trustworthy client address.

auditlog's middleware sees only the session user; API callers authenticate later, inside DRF.
``audit_set_actor`` puts the authenticated user into the audit context of the running request.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from auditlog import diff as auditlog_diff
from auditlog.context import auditlog_value, set_actor
from auditlog.middleware import AuditlogMiddleware

from apps.core.net import client_ip

# the user acting in the running request, for the audit fields of business tables
# (``AuditedModel``); unset outside a request. auditlog's own context is never reset after a
# request, so it cannot tell a request from what runs after it in the same thread.
_ACTOR: ContextVar = ContextVar("audit_actor")
_NO_REQUEST = object()


@contextmanager
def audit_acting(user):
    """Within the block, ``user`` (``None``: nobody, the ERP or an anonymous client) acts."""
    token = _ACTOR.set(user)
    try:
        yield
    finally:
        _ACTOR.reset(token)


@contextmanager
def acting_for(user):
    """A command acting for ``user`` (the demo's edits): the audit log's entries and the audit
    fields both name them."""
    with set_actor(user), audit_acting(user):
        yield


class AuditMiddleware(AuditlogMiddleware):
    @staticmethod
    def _get_remote_addr(request):
        # X-Forwarded-For only as far as our own proxies go (auditlog trusts its first hop)
        return client_ip(request)

    def __call__(self, request):
        with audit_acting(self._get_actor(request)):
            return super().__call__(request)


def audit_actor():
    """``(known, user)``: whether the running code serves a request (or an ``audit_acting``
    block) and, if so, its acting user (``None``: the ERP, an anonymous client). Outside one
    (a job, a shell) ``known`` is false."""
    actor = _ACTOR.get(_NO_REQUEST)
    if actor is _NO_REQUEST:
        return False, None
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return True, actor


def audit_set_actor(user) -> None:
    """The user an API request authenticated (inside DRF, after the middleware ran)."""
    if _ACTOR.get(_NO_REQUEST) is not _NO_REQUEST:
        _ACTOR.set(user)  # the request's block resets it
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
