"""Which rows of the back office a staff member sees: one mechanism for every admin screen.

Every admin that shows dealer data inherits ``DealerScopedAdminMixin`` and declares where its
rows' dealer is, in ``dealer_scope``:

- a lookup path from its model to the dealer: ``"customer"``, ``"event__customer"``,
  ``"pk"`` (the customer itself) or a many-to-many audience such as ``"customers"``. A row
  belonging to one dealer is shown when that dealer is one the staff member sees; a row naming
  several dealers (an audience) when every dealer it names is one they see. With
  ``dealer_scope_shared_when_null`` a row naming no dealer (a list price's history) is shared;
  otherwise it is shown only to staff who see every dealer;
- ``WHOLE_BOOK``: rows that mix dealers or name them only indirectly (stock movements, ERP
  batches): only staff who see every dealer (``accounts.view_all_customers``);
- ``SUPER_ADMIN``: only super admins (superusers and the Super Admin group).

Which dealers a staff member sees is ``customer_list_for_staff`` (a sales manager: the dealers
assigned to them). From the declaration the mixin scopes ``get_queryset`` (so the change
list, the change, delete and history pages, the auditlog history page, actions, exports and
autocomplete answers, which all read it) and every choice a form offers or accepts: select,
autocomplete and raw-id fields and fields declared on a form (such as a list of customer codes)
whose queryset is of a scoped model take the scope of that model's admin, in the admin's own
forms and in its inlines. A posted id outside the scope is then a form error.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin
from django.core.exceptions import FieldDoesNotExist
from django.db.models import QuerySet

from apps.accounts.models import Customer, CustomerStatus, User
from apps.accounts.roles import SUPER_ADMIN_GROUP
from apps.accounts.selectors import customer_list_for_staff

WHOLE_BOOK = "__whole_book__"
SUPER_ADMIN = "__super_admin__"
VIEW_ALL_CUSTOMERS = "accounts.view_all_customers"


def is_super_admin(user: User) -> bool:
    """A superuser or a member of the Super Admin role group (manages staff accounts)."""
    if not (user.is_active and user.is_staff):
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_is_super_admin", None)
    if cached is None:
        cached = user.groups.filter(name=SUPER_ADMIN_GROUP).exists()
        user._is_super_admin = cached
    return cached


def sees_every_dealer(user: User) -> bool:
    return bool(
        user.is_active
        and user.is_staff
        and (user.is_superuser or user.has_perm(VIEW_ALL_CUSTOMERS))
    )


def _multi_valued(model, path: str) -> bool:
    """Does ``path`` cross a many-to-many or reverse relation (one row, several dealers)?"""
    for name in path.split("__"):
        if name == "pk":
            return False
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return False
        if field.many_to_many or field.one_to_many:
            return True
        model = field.related_model
        if model is None:
            return False
    return False


def scope_to_dealers(
    queryset: QuerySet, *, user: User, path: str, shared_when_null: bool = False
) -> QuerySet:
    """The rows of ``queryset`` whose dealer (at ``path``) ``user`` sees. A self-registration
    whose owner has not verified the e-mail yet reaches no staff member but super admins (to
    clear abandoned ones), nor do its users and notifications (DESIGN.md, Security)."""
    if sees_every_dealer(user):
        if is_super_admin(user):
            return queryset
        status = "status" if path == "pk" else f"{path}__status"
        return queryset.exclude(**{status: CustomerStatus.UNVERIFIED})
    mine = customer_list_for_staff(user=user).values("pk")
    if shared_when_null or _multi_valued(queryset.model, path):
        # no dealer named outside the scope (rows naming none are shared)
        outside = Customer.all_objects.exclude(pk__in=mine).values("pk")
        return queryset.exclude(**{f"{path}__in": outside})
    return queryset.filter(**{f"{path}__in": mine})


def _admin_of(admin_site, model):
    model_admin = admin_site._registry.get(model)
    return model_admin if isinstance(model_admin, DealerScopedAdminMixin) else None


def scope_choices(admin_site, request, formfield):
    """Limit a form field's choices (and so what it accepts) to the rows the staff member
    sees, when its model is one a scoped admin shows."""
    queryset = getattr(formfield, "queryset", None)
    if not isinstance(queryset, QuerySet):
        return formfield
    target = _admin_of(admin_site, queryset.model)
    if target is not None:
        formfield.queryset = target.scope_choices(request, queryset)
    return formfield


def scoped_form_class(form_class, admin_site, request):
    """``form_class`` whose every choice field is scoped for ``request``'s staff member
    (fields of the model and fields declared on the form alike)."""

    def __init__(self, *args, **kwargs):
        form_class.__init__(self, *args, **kwargs)
        for field in self.fields.values():
            scope_choices(admin_site, request, field)

    return type(
        form_class.__name__,
        (form_class,),
        {"__init__": __init__, "__module__": form_class.__module__, "dealer_scoped": True},
    )


class _ScopedChoicesMixin:
    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        return scope_choices(self.admin_site, request, field)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        return scope_choices(self.admin_site, request, field)


class DealerScopedInlineMixin(_ScopedChoicesMixin):
    """Put in front of every inline of a scoped admin by ``DealerScopedAdminMixin.get_inlines``:
    the inline's rows hang off a parent the staff member sees; its choices are scoped."""

    dealer_scoped = True

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = scoped_form_class(formset.form, self.admin_site, request)
        return formset


_scoped_inlines: dict[type, type] = {}


def scoped_inline(inline_class: type[InlineModelAdmin]) -> type[InlineModelAdmin]:
    if issubclass(inline_class, DealerScopedInlineMixin):
        return inline_class
    scoped = _scoped_inlines.get(inline_class)
    if scoped is None:
        scoped = type(
            inline_class.__name__,
            (DealerScopedInlineMixin, inline_class),
            {"__module__": inline_class.__module__},
        )
        _scoped_inlines[inline_class] = scoped
    return scoped


class DealerScopedAdminMixin(_ScopedChoicesMixin):
    """Put first in the bases of every admin that shows dealer data; declare ``dealer_scope``
    (see the module docstring)."""

    dealer_scope: str = ""
    dealer_scope_shared_when_null: bool = False

    def scope_queryset(self, request, queryset: QuerySet) -> QuerySet:
        """The rows of ``queryset`` this staff member may see (override for a special rule,
        calling ``scope_to_dealers``)."""
        user = request.user
        if self.dealer_scope == SUPER_ADMIN:
            return queryset if is_super_admin(user) else queryset.none()
        if self.dealer_scope == WHOLE_BOOK:
            return queryset if sees_every_dealer(user) else queryset.none()
        if not self.dealer_scope:
            raise NotImplementedError(f"{type(self).__name__} declares no dealer_scope")
        return scope_to_dealers(
            queryset,
            user=user,
            path=self.dealer_scope,
            shared_when_null=self.dealer_scope_shared_when_null,
        )

    def scope_choices(self, request, queryset: QuerySet) -> QuerySet:
        """The rows of this model another screen's form may offer and accept (by default the
        rows this admin shows)."""
        return self.scope_queryset(request, queryset)

    def get_queryset(self, request):
        return self.scope_queryset(request, super().get_queryset(request))

    # --- screens open only to some staff at all ---

    def _may_open(self, request) -> bool:
        if self.dealer_scope == SUPER_ADMIN:
            return is_super_admin(request.user)
        if self.dealer_scope == WHOLE_BOOK:
            return sees_every_dealer(request.user)
        return True

    def has_module_permission(self, request):
        return self._may_open(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._may_open(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args, **kwargs):
        return self._may_open(request) and super().has_add_permission(request, *args, **kwargs)

    def has_change_permission(self, request, obj=None):
        return self._may_open(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may_open(request) and super().has_delete_permission(request, obj)

    # --- forms and inlines ---

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return scoped_form_class(form, self.admin_site, request)

    def get_inlines(self, request, obj):
        return [scoped_inline(inline) for inline in super().get_inlines(request, obj)]


def register_super_admin_only(model, base_admin: type[admin.ModelAdmin], site=admin.site):
    """Re-register a third-party admin (audit log, JWT tokens) for super admins only."""
    if site.is_registered(model):
        site.unregister(model)
    scoped = type(
        base_admin.__name__,
        (DealerScopedAdminMixin, base_admin),
        {"dealer_scope": SUPER_ADMIN, "__module__": __name__},
    )
    site.register(model, scoped)
    return scoped
