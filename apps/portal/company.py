"""The company's own settings in the portal, for its owner: users (add with an e-mailed
invitation, change role, order limit and active, remove) and addresses (add, change, delete),
validated by the API's input serializers and written by the API's services, so the rules are
the same: one active owner at least, one default address per type, e-mails unique."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.accounts.api import serializers as api
from apps.accounts.models import Address, DealerRole, User
from apps.accounts.services import addresses as address_services
from apps.accounts.services import users as user_services
from apps.core.exceptions import DomainError
from apps.portal.forms import amount_typed
from apps.portal.views import PortalView, field_problems

USERS = "accounts.manage_company_users"
ADDRESSES = "accounts.manage_company_addresses"

USER_FIELDS = ("first_name", "last_name", "phone", "role", "order_limit")
ADDRESS_FIELDS = (
    "type",
    "title",
    "line1",
    "line2",
    "district",
    "city",
    "postal_code",
    "country",
    "phone",
)


def _form_data(post, fields, checkboxes=()) -> dict:
    """The named fields of a posted form as the API's JSON would carry them: a checkbox is
    ``true``/``false``, an order limit typed as ``1.234,56`` is ``1234.56``, empty is null."""
    data = {name: post[name] for name in fields if name in post}
    if "order_limit" in data:
        data["order_limit"] = amount_typed(data["order_limit"], "order_limit") or None
    for name in checkboxes:
        data[name] = name in post
    return data


def _user_form(member: User) -> dict:
    """A company user's form filled with what is stored."""
    shown = {name: getattr(member, name) for name in USER_FIELDS}
    shown["is_active"] = member.is_active
    return shown


def _invalid(serializer) -> dict[str, list[str]]:
    return {name: [str(m) for m in messages_] for name, messages_ in serializer.errors.items()}


class CompanyUsersView(PortalView):
    perms = {"GET": USERS, "POST": USERS}

    def _context(self, **extra):
        users = self.scoped(User.objects.filter(is_deleted=False).order_by("email"))
        return {"users": list(users), "roles": DealerRole.choices, **extra}

    def get(self, request):
        return self.page("company_users.html", **self._context())

    def post(self, request):
        """A new user; without a password they are e-mailed an invitation to choose one."""
        try:
            data = _form_data(request.POST, ("email", *USER_FIELDS))
        except DomainError as exc:  # an order limit that is no amount
            data, errors = None, exc.errors
        else:
            serializer = api.CompanyUserCreateSerializer(data=data)
            errors = None if serializer.is_valid() else _invalid(serializer)
        if errors is None:
            try:
                user = user_services.user_create_for_company(
                    customer=request.user.customer, by=request.user, **serializer.validated_data
                )
            except DomainError as exc:
                errors = exc.errors or {"email": [field_problems(exc)]}
            else:
                user_services.user_invite(user=user)
                messages.success(
                    request,
                    _("%(email)s is added and e-mailed an invitation to choose a password.")
                    % {"email": user.email},
                )
                return HttpResponseRedirect(reverse("portal:company-users"))
        return render(
            request,
            "portal/company_users.html",
            self._context(errors=errors, posted=request.POST),
            status=400,
        )


class CompanyUserView(PortalView):
    perms = {"GET": USERS, "POST": USERS}

    def _user(self, pk) -> User:
        found = self.scoped(User.objects.filter(is_deleted=False)).filter(pk=pk).first()
        if found is None:
            raise Http404
        return found

    def object_lookup(self, *, pk) -> None:
        self._user(pk)

    def get(self, request, pk):
        member = self._user(pk)
        return self.page(
            "company_user.html",
            member=member,
            shown=_user_form(member),
            roles=DealerRole.choices,
            removable=not user_services.is_last_owner(member),
        )

    def post(self, request, pk):
        member = self._user(pk)
        try:
            if request.POST.get("action") == "remove":
                user_services.user_remove_from_company(user=member, by=request.user)
                messages.success(request, _("%(email)s is removed.") % {"email": member.email})
                return HttpResponseRedirect(reverse("portal:company-users"))
            data = _form_data(request.POST, USER_FIELDS, checkboxes=("is_active",))
            serializer = api.CompanyUserUpdateSerializer(data=data)
            if not serializer.is_valid():
                return self._refused(member, _invalid(serializer))
            user_services.user_update_for_company(
                user=member, by=request.user, **serializer.validated_data
            )
        except DomainError as exc:
            return self._refused(member, exc.errors or {"form": [field_problems(exc)]}, exc)
        messages.success(request, _("%(email)s is saved.") % {"email": member.email})
        return HttpResponseRedirect(reverse("portal:company-users"))

    def _refused(self, member, errors, exc=None):
        member.refresh_from_db()
        # the form as it was sent, beside its errors (not the stored values it did not change)
        shown = {name: self.request.POST.get(name, "") for name in USER_FIELDS}
        shown["is_active"] = "is_active" in self.request.POST
        return render(
            self.request,
            "portal/company_user.html",
            {
                "member": member,
                "shown": shown,
                "roles": DealerRole.choices,
                "errors": errors,
                "removable": not user_services.is_last_owner(member),
            },
            status=exc.status_code if exc is not None else 400,
        )


class AddressesView(PortalView):
    perms = {"GET": "accounts.view_address", "POST": ADDRESSES}

    def _context(self, **extra):
        addresses = self.scoped(Address.objects.order_by("type", "-is_default", "title"))
        return {"addresses": list(addresses), "types": Address.Type.choices, **extra}

    def get(self, request):
        return self.page("addresses.html", **self._context())

    def post(self, request):
        data = _form_data(request.POST, ADDRESS_FIELDS, checkboxes=("is_default",))
        serializer = api.AddressInputSerializer(data=data)
        if serializer.is_valid():
            try:
                address_services.address_create(
                    customer=request.user.customer,
                    data=serializer.validated_data,
                    by=request.user,
                )
            except DomainError as exc:
                errors = exc.errors or {"form": [field_problems(exc)]}
            else:
                messages.success(request, _("The address is added."))
                return HttpResponseRedirect(reverse("portal:addresses"))
        else:
            errors = _invalid(serializer)
        return render(
            request,
            "portal/addresses.html",
            self._context(errors=errors, posted=request.POST),
            status=400,
        )


class AddressView(PortalView):
    perms = {"GET": ADDRESSES, "POST": ADDRESSES}

    def _address(self, pk) -> Address:
        found = self.scoped(Address.objects.all()).filter(pk=pk).first()
        if found is None:
            raise Http404
        return found

    def object_lookup(self, *, pk) -> None:
        self._address(pk)

    def get(self, request, pk):
        return self.page("address.html", address=self._address(pk), types=Address.Type.choices)

    def post(self, request, pk):
        address = self._address(pk)
        if request.POST.get("action") == "delete":
            address_services.address_delete(address=address, by=request.user)
            messages.success(request, _("The address is deleted."))
            return HttpResponseRedirect(reverse("portal:addresses"))
        data = _form_data(request.POST, ADDRESS_FIELDS, checkboxes=("is_default",))
        serializer = api.AddressInputSerializer(data=data)
        if serializer.is_valid():
            changes = dict(serializer.validated_data)
            # the form shows the box as it is: left so, it asks for nothing (the address moved
            # to the other type does not take that type's default with it)
            if changes.get("is_default") == address.is_default:
                changes.pop("is_default")
            try:
                address_services.address_update(address=address, data=changes, by=request.user)
            except DomainError as exc:
                errors = exc.errors or {"form": [field_problems(exc)]}
            else:
                messages.success(request, _("The address is saved."))
                return HttpResponseRedirect(reverse("portal:addresses"))
        else:
            errors = _invalid(serializer)
        address.refresh_from_db()
        return render(
            request,
            "portal/address.html",
            {
                "address": address,
                "types": Address.Type.choices,
                "errors": errors,
                "posted": request.POST,
            },
            status=400,
        )
