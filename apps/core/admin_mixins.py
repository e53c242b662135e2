"""Shared pieces of the back-office screens (no admin is registered here)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.core.money import money_text


class ReadOnlyAdminMixin:
    """A screen (model admin or inline) that only shows rows: nobody adds, changes or deletes
    them by hand (they are written by the services, or are a log)."""

    def has_add_permission(self, request, *args, **kwargs) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class NamedRelationsMixin:
    """A row's ``__str__`` names its relations only when they are loaded (``related_label``:
    ``#12`` otherwise, never a query on an audited save). The change page's title, breadcrumbs
    and delete page name the row by it, so every page of the screen loads the relations of
    ``list_select_related``, as the list does: ``DEMO001 · SKU-1, from 1 unit: 64.18 ₺``, not
    ``#1 · #1``."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if isinstance(self.list_select_related, list | tuple) and self.list_select_related:
            queryset = queryset.select_related(*self.list_select_related)
        return queryset


def money_column(field: str, description):
    """A list column or read-only field showing the money field ``field`` as people read it
    (``money_text``: ``1.234,50 ₺`` in Turkish), sorted by the field."""

    @admin.display(description=description, ordering=field)
    def column(self, obj) -> str:
        value = getattr(obj, field)
        return "-" if value is None else money_text(value)

    return column


class DealerColumn:
    """The ``dealer`` column of a list of a dealer's rows: code and name, sorted by code."""

    @admin.display(description=_("dealer"), ordering="customer__code")
    def dealer(self, obj) -> str:
        return f"{obj.customer.code} · {obj.customer.name}"


FORM_PAGE_TEMPLATE = "admin/finance/ledgerentry/entry_form.html"  # a titled form with an intro


class FormPageAdminMixin:
    """An admin's own pages of one step (approve, answer, receive, refund...): the object of
    the step, found through the admin's scoped ``get_object`` (another dealer's is not found)
    after the step's permission, and a titled form page that goes back to where it came from.
    The step itself runs through a service."""

    def step_object(self, request, object_id: str, permission: str):
        if not request.user.has_perm(permission):
            raise PermissionDenied
        found = self.get_object(request, object_id)
        if found is None:
            raise Http404
        return found

    def form_page(self, request, form, *, title: str, intro: str, cancel_url: str):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "intro": intro,
            "opts": self.model._meta,
            "form": form,
            "media": self.media + form.media,
            "cancel_url": cancel_url,
        }
        return TemplateResponse(request, FORM_PAGE_TEMPLATE, context)

    def change_url(self, obj) -> str:
        opts = self.model._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


# who moved a status (orders and returns record the same four)
ACTOR_LABELS = {
    "dealer": _("dealer"),
    "staff": _("staff"),
    "erp": _("ERP"),
    "system": _("system"),
}


class StatusHistoryInlineMixin:
    """A status history's inline showing the statuses' and the actors' names, not their codes
    (``statuses``: the lifecycle's ``TextChoices``), and each note as ``note_shown`` shows a
    stored note (the system's own notes in the reader's language)."""

    statuses: type | None = None
    fields = (
        "created_at",
        "from_label",
        "to_label",
        "actor_label",
        "changed_by",
        "api_key",
        "note_text",
    )
    readonly_fields = fields

    @staticmethod
    def note_shown(change) -> str:
        return change.note

    @admin.display(description=_("note"))
    def note_text(self, obj) -> str:
        return self.note_shown(obj)

    def _status(self, value: str) -> str:
        if not value:
            return "-"
        try:
            return str(self.statuses(value).label)
        except ValueError:  # a status no longer in the lifecycle: its code
            return value

    @admin.display(description=_("from"))
    def from_label(self, obj) -> str:
        return self._status(obj.from_status)

    @admin.display(description=_("to"))
    def to_label(self, obj) -> str:
        return self._status(obj.to_status)

    @admin.display(description=_("actor"))
    def actor_label(self, obj) -> str:
        return str(ACTOR_LABELS.get(obj.actor, obj.actor))
