"""Shared pieces of the accounts back office."""

from __future__ import annotations

from auditlog.mixins import AuditlogHistoryAdminMixin
from django.contrib.admin.utils import unquote
from django.http import Http404

from apps.core.exceptions import DomainError

AUDITLOG_CHANGE_FORM = "admin/accounts/change_form_auditlog.html"


def _domain_message(exc: DomainError) -> str:
    """The words of a service's refusal: its field messages, else its detail."""
    words = [str(m) for msgs in exc.errors.values() for m in (msgs or [])]
    return " ".join(words) or str(exc.detail)


class AuditHistoryMixin(AuditlogHistoryAdminMixin):
    """django-auditlog's history page (old and new values of every change), linked from the
    change page and the list. An object the user may not see answers 404."""

    # the link sits on the change page (not a list column: the lists stay narrow)
    show_auditlog_history_link = False
    change_form_template = AUDITLOG_CHANGE_FORM

    def auditlog_history_view(self, request, object_id, extra_context=None):
        if self.get_object(request, unquote(object_id)) is None:
            raise Http404
        return super().auditlog_history_view(request, object_id, extra_context)
