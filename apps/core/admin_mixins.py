"""Shared pieces of the back-office screens (no admin is registered here)."""

from __future__ import annotations


class ReadOnlyAdminMixin:
    """A screen (model admin or inline) that only shows rows: nobody adds, changes or deletes
    them by hand (they are written by the services, or are a log)."""

    def has_add_permission(self, request, *args, **kwargs) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
