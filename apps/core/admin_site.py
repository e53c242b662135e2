"""The back office's admin site: Django's, made to answer malformed requests as form errors,
messages or a redirect, never a 500. Every model admin registered on it (ours and the
installed libraries') is given ``MalformedInputAdminMixin``:

* a list filter that cannot read its value (``?resource_type=abc`` on the audit log) is an
  incorrect lookup: Django's change list then redirects with ``?e=1``, as for its own filters;
* a bulk action posted with an id that is not one of the model's (``_selected_action=abc``)
  changes nothing and says that no item was selected;
* an autocomplete field redrawn with a posted value that is not an id (a form with errors)
  shows it as not chosen instead of putting it into a query;
* the autocomplete endpoint answers 403 for a reverse relation, as it does for a field that does
  not exist;
* a number field's form says the model's own bounds (a price break's quantity "from 1"): for
  -5 Django's form said "at least 0", then for 0 the model said "at least 1".

A NUL in a query string is refused for every page before any view runs
(``apps.core.middleware``).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import ForeignObjectRel
from django.utils.translation import gettext as _


class _LookupErrorsAreIncorrectLookups:
    """A change list whose filters could not read their values raises
    ``IncorrectLookupParameters`` (a redirect to ``?e=1``), not the filter's error."""

    def get_queryset(self, request, exclude_parameters=None):
        try:
            return super().get_queryset(request, exclude_parameters)
        except (ValueError, ValidationError) as exc:
            raise IncorrectLookupParameters(exc) from exc


class _ValidChoicesOnly:
    """An autocomplete widget that draws only the posted values that are ids of its model."""

    def optgroups(self, name, value, attr=None):
        remote = self.field.remote_field
        to_field = remote.model._meta.get_field(
            getattr(remote, "field_name", None) or remote.model._meta.pk.name
        )
        valid = []
        for item in value:
            try:
                to_field.to_python(item)
            except ValidationError:
                continue
            valid.append(item)
        return super().optgroups(name, valid, attr)


class SafeAutocompleteSelect(_ValidChoicesOnly, AutocompleteSelect):
    """The admin's autocomplete picker, for forms of our own too (a posted value that is not
    an id is a form error, not a 500 while the form is drawn again)."""


class _AutocompleteSelectMultiple(_ValidChoicesOnly, AutocompleteSelectMultiple):
    pass


class _ValidAutocompleteChoices:
    """A model admin or an inline whose autocomplete fields draw only posted values that are
    ids (``_ValidChoicesOnly``)."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = _AutocompleteSelectMultiple(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class _ModelBoundsInForms:
    """A model admin or an inline whose integer and decimal form fields carry the bounds the
    model field declares (its own ``MinValueValidator`` / ``MaxValueValidator``): one message,
    from the form, for every value out of them, and the input's ``min`` / ``max``."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.IntegerField | models.DecimalField) and not (
            db_field.choices or db_field.is_relation
        ):
            declared = [v for v in db_field._validators if not callable(v.limit_value)]
            lows = [v.limit_value for v in declared if type(v) is MinValueValidator]
            highs = [v.limit_value for v in declared if type(v) is MaxValueValidator]
            if lows:
                kwargs.setdefault("min_value", max(lows))
            if highs:
                kwargs.setdefault("max_value", min(highs))
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class _FormFields(_ModelBoundsInForms, _ValidAutocompleteChoices):
    """What every model admin and inline of the site gets for its form fields."""


def _given(mixin: type, admin_class: type) -> type:
    """``admin_class`` with ``mixin`` in front (itself when it has it already)."""
    if issubclass(admin_class, mixin):
        return admin_class
    attrs = {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__}
    return type(admin_class.__name__, (mixin, admin_class), attrs)


class MalformedInputAdminMixin(_FormFields):
    """Given to every model admin of the site (see the module doc), and its autocomplete part
    to their inlines."""

    def get_changelist(self, request, **kwargs):
        return _given(_LookupErrorsAreIncorrectLookups, super().get_changelist(request, **kwargs))

    def get_inlines(self, request, obj):
        inlines = super().get_inlines(request, obj)
        return [_given(_FormFields, inline) for inline in inlines]

    def response_action(self, request, queryset):
        pk = self.model._meta.pk
        try:
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                pk.to_python(value)
        except ValidationError:
            self.message_user(
                request,
                _(
                    "Items must be selected in order to perform actions on them. No items have "
                    "been changed."
                ),
                messages.WARNING,
            )
            return None
        return super().response_action(request, queryset)


class _AutocompleteView(AutocompleteJsonView):
    def process_request(self, request):
        term, model_admin, source_field, to_field_name = super().process_request(request)
        if isinstance(source_field, ForeignObjectRel):  # a reverse relation: no such field
            raise PermissionDenied
        return term, model_admin, source_field, to_field_name


class AdminSite(admin.AdminSite):
    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = _given(MalformedInputAdminMixin, admin_class or admin.ModelAdmin)
        super().register(model_or_iterable, admin_class, **options)

    def autocomplete_view(self, request):
        return _AutocompleteView.as_view(admin_site=self)(request)


class BackOfficeAdminConfig(AdminConfig):
    """``django.contrib.admin`` with this module's site as ``admin.site``."""

    default_site = "apps.core.admin_site.AdminSite"
