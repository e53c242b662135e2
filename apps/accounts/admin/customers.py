"""Customers: approval, suspension, credit limits, sales reps, addresses, users."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Q
from django.http import HttpRequest, HttpResponseRedirect
from django.template.defaultfilters import floatformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from apps.accounts.admin.common import AuditHistoryMixin, _domain_message
from apps.accounts.admin.scoping import DealerScopedAdminMixin
from apps.accounts.events import customer_updated_emit
from apps.accounts.models import (
    Address,
    CreditLimitChange,
    Customer,
    CustomerStatus,
    DealerRole,
    User,
)
from apps.accounts.selectors import customer_credit_summary
from apps.accounts.services.addresses import (
    ADDRESS_FIELDS,
    address_create,
    address_delete,
    address_update,
)
from apps.accounts.services.customers import (
    customer_approve,
    customer_assign_sales_rep,
    customer_reactivate,
    customer_reject,
    customer_set_credit_limit,
    customer_suspend,
)
from apps.accounts.services.users import user_update_for_company
from apps.accounts.validators import normalize_tax_number
from apps.core.admin_mixins import FormPageAdminMixin, ReadOnlyAdminMixin, money_column
from apps.core.exceptions import DomainError
from apps.core.text import capfirst

# --- Customers ----------------------------------------------------------------------------------

# A link from the customer page to a higher app's screen filtered by the customer (pricing: the
# dealer's special prices): (label, url), or None when the staff member may not open it.
CustomerLink = Callable[[HttpRequest, Customer], "tuple[str, str] | None"]
_customer_links: list[CustomerLink] = []


def customer_admin_link_add(link: CustomerLink) -> None:
    """For a higher app to link its list from the customer page, since accounts imports none
    of them (one query each, at most, when the page is shown)."""
    if link not in _customer_links:
        _customer_links.append(link)


class CustomerAdminForm(forms.ModelForm):
    credit_limit_reason = forms.CharField(
        label=capfirst(_("reason for the credit limit change")),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when the credit limit changes; kept in its history."),
    )
    # the limit as this page showed it: a tab left open must not undo a change made meanwhile
    credit_limit_seen = forms.DecimalField(
        required=False, max_digits=14, decimal_places=2, widget=forms.HiddenInput
    )

    class Meta:
        model = Customer
        fields = (
            "code",
            "name",
            "tier",
            "tax_number",
            "tax_office",
            "phone",
            "email",
            "credit_limit",
            "payment_terms_days",
            "sales_rep",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.credit_limit_before = self.instance.credit_limit  # the instance changes on clean
        if "credit_limit_seen" in self.fields:
            self.fields["credit_limit_seen"].initial = self.instance.credit_limit

    def clean_tax_number(self) -> str:
        # the uniqueness constraint is conditional (live rows only): the form cannot see it
        number = normalize_tax_number(self.cleaned_data["tax_number"])
        taken = Customer.objects.filter(tax_number=number).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(
                gettext("A company with this tax number is already registered.")
            )
        return number

    def clean(self):
        cleaned = super().clean()
        self._check_credit_limit_seen(cleaned)
        if self.credit_limit_changed() and not cleaned.get("credit_limit_reason", "").strip():
            self.add_error("credit_limit_reason", gettext("Say why the credit limit changes."))
        return cleaned

    def _check_credit_limit_seen(self, cleaned) -> None:
        """The limit changed since this page was shown (by someone else, or the ERP): kept
        when this page left it as it showed it, else a field error naming the new limit (the
        page then shows it, so saving again is a choice made knowing it)."""
        seen, stored = cleaned.get("credit_limit_seen"), self.credit_limit_before
        if "credit_limit" not in self.fields or seen is None or seen == stored:
            return
        if cleaned.get("credit_limit") == seen:  # not touched on this page: keep the stored
            cleaned["credit_limit"] = stored
            return
        change = CreditLimitChange.objects.filter(customer=self.instance).order_by("-id").first()
        who = (change.changed_by.email if change and change.changed_by else "") or gettext(
            "the ERP or another page"
        )
        self.add_error(
            "credit_limit",
            gettext(
                "The credit limit was changed to %(limit)s by %(who)s after this page was "
                "opened. Check it and save again."
            )
            % {"limit": floatformat(stored, 2), "who": who},
        )
        self.data = self.data.copy()  # shown again with the stored limit as the one seen
        self.data[self.add_prefix("credit_limit_seen")] = str(stored)

    def credit_limit_changed(self) -> bool:
        if "credit_limit" not in self.fields or "credit_limit" not in self.changed_data:
            return False
        new = self.cleaned_data.get("credit_limit")
        return new is not None and new != self.credit_limit_before


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("reason"), widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), max_length=2000
    )


class AddressInline(admin.TabularInline):
    """Saved through the address services: one default per type, audit fields filled."""

    model = Address
    extra = 0
    fields = ("type", "title", "line1", "line2", "district", "city", "postal_code", "country")
    fields += ("phone", "is_default")
    show_change_link = False


class CompanyUserInlineForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ("role", "is_active", "order_limit")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "role" in self.fields:
            self.fields["role"].required = True


class CompanyUserFormSet(forms.BaseInlineFormSet):
    def clean(self):
        """A company keeps at least one active owner (the service says so too; checking here
        turns the refusal into a form error instead of a half-applied save)."""
        super().clean()
        if any(self.errors) or self.instance.pk is None:
            return
        final: dict[int, bool] = {}
        for form in self.forms:
            if form.instance.pk is None or not hasattr(form, "cleaned_data"):
                continue
            data = form.cleaned_data
            final[form.instance.pk] = data.get(
                "role", form.instance.role
            ) == DealerRole.OWNER and data.get("is_active", form.instance.is_active)
        owners = User.objects.filter(
            customer=self.instance, role=DealerRole.OWNER, is_active=True, is_deleted=False
        )
        had_owner = owners.exists()
        others = owners.exclude(pk__in=final).exists()
        if had_owner and not others and not any(final.values()):
            raise forms.ValidationError(gettext("A company must keep at least one active owner."))


class CompanyUserInline(admin.TabularInline):
    """The company's people, read-mostly: role, active flag and order limit change through
    ``user_update_for_company``; users are added by the dealer owner or in the users screen."""

    model = User
    fk_name = "customer"
    form = CompanyUserInlineForm
    formset = CompanyUserFormSet
    extra = 0
    fields = ("email", "full_name", "role", "is_active", "order_limit")
    readonly_fields = ("email", "full_name")
    can_delete = False
    show_change_link = True
    verbose_name = _("company user")
    verbose_name_plural = _("company users")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(is_deleted=False).order_by("email")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("name"))
    def full_name(self, obj: User) -> str:
        return f"{obj.first_name} {obj.last_name}".strip()


class CreditLimitChangeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CreditLimitChange
    extra = 0
    fields = ("changed_at", "changed_by", "old_limit", "new_limit", "reason", "source")
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = _("credit limit history")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by")


@admin.register(Customer)
class CustomerAdmin(
    FormPageAdminMixin, DealerScopedAdminMixin, AuditHistoryMixin, admin.ModelAdmin
):
    dealer_scope = "pk"  # sales managers: the customers assigned to them
    form = CustomerAdminForm

    list_display = ("code", "name", "tier", "status", "credit_limit_text", "sales_rep")
    list_filter = ("tier", "status", ("sales_rep", admin.RelatedOnlyFieldListFilter))
    search_fields = ("code", "name", "tax_number", "email")
    list_select_related = ("sales_rep",)
    inlines = (AddressInline, CompanyUserInline, CreditLimitChangeInline)
    credit_limit_text = money_column("credit_limit", _("credit limit"))
    actions = ("approve_selected", "reject_selected", "suspend_selected", "reactivate_selected")
    always_readonly = (
        "status",
        "status_reason",
        "approved_at",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
    )
    reason_template = "admin/accounts/customer/status_reason.html"

    def has_delete_permission(self, request, obj=None):
        return False  # business data is soft-deleted, never removed from the back office

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "sales_rep":  # a staff member who may see customers looks after one
            may_see = Q(is_superuser=True) | Q(
                groups__permissions__codename="view_customer",
                groups__permissions__content_type__app_label="accounts",
            )
            kwargs["queryset"] = (
                User.objects.filter(is_staff=True, is_active=True)
                .filter(pk__in=User.objects.filter(may_see).values("pk"))
                .order_by("email")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_approve_permission(self, request) -> bool:
        return request.user.has_perm("accounts.approve_customer")

    @staticmethod
    def can_change_credit_limit(request) -> bool:
        return request.user.has_perm("accounts.change_credit_limit")

    @staticmethod
    def can_change_tier(request) -> bool:
        # a pricing decision: those who may change prices (sales managers, for their dealers)
        return request.user.has_perm("pricing.change_price")

    @staticmethod
    def can_assign_sales_rep(request) -> bool:
        # whoever sees the whole customer book decides who looks after a customer
        return request.user.has_perm("accounts.view_all_customers")

    def _editable_credit_limit(self, request, obj) -> bool:
        return self.can_change_credit_limit(request) and self.has_change_permission(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        rep_field = form.base_fields.get("sales_rep")
        if rep_field is not None and obj is not None and obj.sales_rep_id:
            # the current rep stays a choice even if no longer one to pick (saving the page
            # would otherwise post it empty and unassign them)
            rep_field.queryset = User.objects.filter(
                Q(pk__in=rep_field.queryset.values("pk")) | Q(pk=obj.sales_rep_id)
            ).order_by("email")
        if (
            not self._editable_credit_limit(request, obj)
            and "credit_limit_reason" in form.base_fields
        ):
            # a declared field is part of the form whatever the fieldsets say: a reason posted
            # by someone who cannot change the limit would count as a change (log, event)
            form.base_fields = {
                k: v
                for k, v in form.base_fields.items()
                if k not in ("credit_limit_reason", "credit_limit_seen")
            }
        return form

    def get_readonly_fields(self, request, obj=None):
        self._request = request
        fields = [*self.always_readonly, "next_step", "account", "related_lists"]
        if not self.can_change_credit_limit(request):
            # payment terms decide when every invoice falls due: credit control, as the limit
            fields += ["credit_limit", "payment_terms_days"]
        if not self.can_assign_sales_rep(request):
            fields.append("sales_rep")
        if obj is not None and obj.has_erp_code:
            # the ERP's key: every feed (invoices, payments, special prices) names the company
            # by it; renamed here, the next customer feed would make a second company
            fields.append("code")
        if not self.can_change_tier(request):
            fields.append("tier")  # the tier decides every price the dealer pays
        return fields

    def get_fieldsets(self, request, obj=None):
        terms = ["credit_limit", "payment_terms_days", "sales_rep"]
        if self._editable_credit_limit(request, obj):
            terms[1:1] = ["credit_limit_reason", "credit_limit_seen"]
        head = ["code", "name", "tier", "status", "status_reason", "approved_at"]
        if obj is not None:
            head.insert(4, "next_step")
        sets = [(None, {"fields": head})]
        if obj is not None and request.user.has_perm("finance.view_ledgerentry"):
            sets.append((_("Account"), {"fields": ("account",)}))
        if obj is not None and self._links(request, obj):
            sets.append((_("Lists of this dealer"), {"fields": ("related_lists",)}))
        return (
            *sets,
            (_("Tax and contact"), {"fields": ("tax_number", "tax_office", "phone", "email")}),
            (_("Commercial terms"), {"fields": terms}),
            (
                _("Record"),
                {
                    "classes": ("collapse",),
                    "fields": ("created_at", "created_by", "updated_at", "updated_by"),
                },
            ),
        )

    def save_model(self, request, obj: Customer, form, change):
        """Plain fields are saved here; the credit limit and the sales rep go through their
        services (history row, object permissions)."""
        data = form.cleaned_data
        new_limit = data["credit_limit"] if form.credit_limit_changed() else None
        rep_changed = "sales_rep" in form.fields and "sales_rep" in form.changed_data
        new_rep = data.get("sales_rep") if rep_changed else None
        if change:
            stored = Customer.all_objects.get(pk=obj.pk)
            obj.credit_limit = stored.credit_limit
            obj.sales_rep = stored.sales_rep
        else:
            obj.credit_limit = obj._meta.get_field("credit_limit").get_default()
            obj.sales_rep = None
            obj.created_by = request.user
        obj.updated_by = request.user
        obj.save()
        if new_limit is not None and self.can_change_credit_limit(request):
            customer_set_credit_limit(
                customer=obj,
                new_limit=new_limit,
                by=request.user,
                reason=data.get("credit_limit_reason", "").strip(),
                source=CreditLimitChange.Source.ADMIN,
            )
            obj.credit_limit = new_limit
        if rep_changed and self.can_assign_sales_rep(request):
            customer_assign_sales_rep(customer=obj, rep=new_rep, by=request.user)
        if form.changed_data:
            customer_updated_emit(customer=obj, source="admin")

    def save_formset(self, request, form, formset, change):
        if formset.model is Address:
            self._save_addresses(request, form.instance, formset)
        elif formset.model is User:
            self._save_company_users(request, formset)
        else:
            super().save_formset(request, form, formset, change)

    def _save_addresses(self, request, customer: Customer, formset) -> None:
        formset.save(commit=False)  # fills new/changed/deleted_objects for the change message
        for address in formset.deleted_objects:
            address_delete(address=address, by=request.user)
        for address, changed in formset.changed_objects:
            data = {name: getattr(address, name) for name in changed if name in ADDRESS_FIELDS}
            address_update(address=address, data=data, by=request.user)
        for address in formset.new_objects:
            data = {name: getattr(address, name) for name in ADDRESS_FIELDS}
            created = address_create(customer=customer, data=data, by=request.user)
            address.pk = created.pk

    def _save_company_users(self, request, formset) -> None:
        formset.save(commit=False)
        editable = {"role", "is_active", "order_limit"}
        # promotions first, so a swap of owners never leaves the company without one
        pending = sorted(
            formset.changed_objects,
            key=lambda item: not (item[0].role == DealerRole.OWNER and item[0].is_active),
        )
        for user, changed in pending:
            changes = {name: getattr(user, name) for name in changed if name in editable}
            if not changes:
                continue
            try:
                user_update_for_company(
                    user=User.objects.get(pk=user.pk), by=request.user, **changes
                )
            except DomainError as exc:
                self.message_user(request, f"{user}: {_domain_message(exc)}", messages.ERROR)

    # --- the page's own step and figures ---

    @admin.display(description=_("next step"))
    def next_step(self, obj: Customer) -> str:
        request = getattr(self, "_request", None)
        if (
            obj.pk is None
            or obj.status != CustomerStatus.PENDING
            or request is None
            or not self.has_approve_permission(request)
        ):
            return "-"
        return format_html(
            '<a class="button" href="{}">{}</a>',
            reverse("admin:accounts_customer_approve", args=[obj.pk]),
            gettext("Approve"),
        )

    @admin.display(description=_("current account"))
    def account(self, obj: Customer) -> str:
        """Balance, credit limit, open orders, available credit and overdue (finance roles)."""
        if obj.pk is None:
            return "-"
        summary = customer_credit_summary(customer=obj)
        rows = [
            (gettext("Balance"), summary["balance"]),
            (gettext("Credit limit"), summary["credit_limit"]),
            (gettext("Open orders"), summary["open_orders_total"]),
            (gettext("Available credit"), summary["available_credit"]),
            (gettext("Overdue"), summary["overdue_total"]),
        ]
        return format_html(
            "<table>{}</table>",
            format_html_join(
                "",
                '<tr><th scope="row">{}</th><td style="text-align:right">{} ₺</td></tr>',
                ((label, floatformat(amount, "2g")) for label, amount in rows),
            ),
        )

    def _links(self, request, obj: Customer) -> list[tuple[str, str]]:
        cached = getattr(request, "_customer_links", None)
        if cached is None or cached[0] != obj.pk:
            found = [link(request, obj) for link in _customer_links]
            cached = (obj.pk, [link for link in found if link is not None])
            request._customer_links = cached
        return cached[1]

    @admin.display(description=_("lists"))
    def related_lists(self, obj: Customer) -> str:
        request = getattr(self, "_request", None)
        if obj.pk is None or request is None:
            return "-"
        return format_html(
            '<ul class="related-lists">{}</ul>',
            format_html_join(
                "",
                '<li><a href="{}">{}</a></li>',
                ((url, label) for label, url in self._links(request, obj)),
            ),
        )

    def get_urls(self):
        approve = path(
            "<path:object_id>/approve/",
            self.admin_site.admin_view(self.approve_view),
            name="accounts_customer_approve",
        )
        return [approve, *super().get_urls()]

    def approve_view(self, request, object_id: str):
        """The pending customer's page's "Approve": a confirmation, then ``customer_approve``."""
        customer = self.step_object(request, object_id, "accounts.approve_customer")
        back = self.change_url(customer)
        if request.method == "POST":
            try:
                customer_approve(customer=customer, by=request.user)
            except DomainError as exc:
                self.message_user(request, _domain_message(exc), messages.ERROR)
            else:
                self.message_user(
                    request,
                    gettext("%(customer)s is approved.") % {"customer": customer},
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(back)
        return self.form_page(
            request,
            forms.Form(),
            title=gettext("Approve %(customer)s") % {"customer": customer},
            intro=gettext(
                "The company becomes active: its users can sign in and order, and its owner "
                "is told by e-mail."
            ),
            cancel_url=back,
        )

    # --- status actions (approve_customer permission) ---

    def _run(self, request, queryset, service, done, **kwargs) -> None:
        succeeded = 0
        for customer in queryset:
            try:
                service(customer=customer, by=request.user, **kwargs)
            except DomainError as exc:
                self.message_user(request, f"{customer}: {_domain_message(exc)}", messages.ERROR)
            else:
                succeeded += 1
        if succeeded:
            message = done(succeeded) % {"count": succeeded}
            self.message_user(request, message, messages.SUCCESS)

    def _run_with_reason(self, request, queryset, *, action, service, title, question, done):
        form = ReasonForm(request.POST if request.POST.get("post") else None)
        if form.is_bound and form.is_valid():
            self._run(request, queryset, service, done, reason=form.cleaned_data["reason"])
            return None  # back to the change list
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "question": question,
            "submit_label": title,
            "opts": self.model._meta,
            "queryset": queryset,
            "form": form,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(request, self.reason_template, context)

    @admin.action(description=_("Approve selected customers"), permissions=["approve"])
    def approve_selected(self, request, queryset):
        self._run(
            request,
            queryset,
            customer_approve,
            lambda n: ngettext("%(count)d customer approved.", "%(count)d customers approved.", n),
        )

    @admin.action(description=_("Reject selected customers…"), permissions=["approve"])
    def reject_selected(self, request, queryset):
        return self._run_with_reason(
            request,
            queryset,
            action="reject_selected",
            service=customer_reject,
            title=gettext("Reject registrations"),
            question=gettext("Reject the registration of these companies? Say why."),
            done=lambda n: ngettext(
                "%(count)d customer rejected.", "%(count)d customers rejected.", n
            ),
        )

    @admin.action(description=_("Suspend selected customers…"), permissions=["approve"])
    def suspend_selected(self, request, queryset):
        return self._run_with_reason(
            request,
            queryset,
            action="suspend_selected",
            service=customer_suspend,
            title=gettext("Suspend customers"),
            question=gettext(
                "Suspend these companies? Their users cannot log in until they "
                "are reactivated. Say why."
            ),
            done=lambda n: ngettext(
                "%(count)d customer suspended.", "%(count)d customers suspended.", n
            ),
        )

    @admin.action(description=_("Reactivate selected customers"), permissions=["approve"])
    def reactivate_selected(self, request, queryset):
        self._run(
            request,
            queryset,
            customer_reactivate,
            lambda n: ngettext(
                "%(count)d customer reactivated.", "%(count)d customers reactivated.", n
            ),
        )
