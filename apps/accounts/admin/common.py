"""Shared pieces of the accounts back office."""

from __future__ import annotations

from auditlog.mixins import AuditlogHistoryAdminMixin
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.http import Http404
from django.utils.translation import gettext_lazy as _

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

    # the audit fields of a business table (DESIGN.md, "Security"), shown on every change
    # page that does not show them already, read only
    RECORD_FIELDS = ("created_at", "created_by", "updated_at", "updated_by")

    def _record_fields(self) -> list[str]:
        names = {field.name for field in self.model._meta.get_fields()}
        return [name for name in self.RECORD_FIELDS if name in names]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is None:
            return fields
        return fields + [name for name in self._record_fields() if name not in fields]

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is None:
            return fieldsets
        shown = set(flatten_fieldsets(fieldsets))
        readonly = set(self.get_readonly_fields(request, obj))  # an admin's own override too
        missing = [n for n in self._record_fields() if n not in shown and n in readonly]
        if missing:
            fieldsets.append((_("Record"), {"fields": missing, "classes": ["collapse"]}))
        return fieldsets

    def auditlog_history_view(self, request, object_id, extra_context=None):
        if self.get_object(request, unquote(object_id)) is None:
            raise Http404
        return super().auditlog_history_view(request, object_id, extra_context)
