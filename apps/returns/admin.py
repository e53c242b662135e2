"""The back office of returns: a queue by status (with counts), the request with its lines,
photos and history, read-only, and one page per step, each through the returns services:

* "Approve or reject" (``returns.decide_returnrequest``: Customer Service), a reason to reject;
* "Record receipt" (``returns.receive_returnrequest``: Customer Service), per line the
  quantity received and whether it is set aside (quarantine) instead of back in stock;
* "Credit" (``returns.credit_returnrequest``: Finance Manager), the credit note at the order's
  prices.

A sales manager sees the returns of their own dealers only.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.accounts.admin.common import AuditHistoryMixin
from apps.accounts.admin.scoping import DealerScopedAdminMixin
from apps.core.admin_mixins import (
    DealerColumn,
    FormPageAdminMixin,
    ReadOnlyAdminMixin,
    StatusHistoryInlineMixin,
    money_column,
)
from apps.core.exceptions import DomainError
from apps.core.money import money_text
from apps.returns.models import (
    ReturnLine,
    ReturnPhoto,
    ReturnRequest,
    ReturnStatus,
    ReturnStatusChange,
)
from apps.returns.services import credit_amounts, return_credit, return_decide, return_receive
from apps.returns.states import STAFF

S = ReturnStatus
STEPS = {
    # url name: (permission, status it starts from, label)
    "decide": ("returns.decide_returnrequest", S.REQUESTED, _("Approve or reject")),
    "receive": ("returns.receive_returnrequest", S.APPROVED, _("Record receipt")),
    "credit": ("returns.credit_returnrequest", S.RECEIVED, _("Credit")),
}


class _ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False


class ReturnLineInline(_ReadOnlyInline):
    model = ReturnLine
    fields = (
        "sku",
        "quantity",
        "reason",
        "reason_text",
        "serial_numbers",
        "received_quantity",
        "quarantined_quantity",
        "received_serials",
    )
    readonly_fields = fields


class ReturnPhotoInline(_ReadOnlyInline):
    model = ReturnPhoto
    fields = ("preview", "content_type", "size", "created_at")
    readonly_fields = fields

    @admin.display(description=_("photo"))
    def preview(self, obj: ReturnPhoto) -> str:
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>', obj.file.url, gettext("Open")
        )


class ReturnStatusChangeInline(StatusHistoryInlineMixin, _ReadOnlyInline):
    model = ReturnStatusChange
    statuses = ReturnStatus

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by", "api_key")


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("decision"),
        choices=[(S.APPROVED, _("approve")), (S.REJECTED, _("reject"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required to reject: the dealer reads it."),
    )


class CreditForm(forms.Form):
    note = forms.CharField(label=_("note"), required=False, max_length=2000)


def receive_form_class(request: ReturnRequest):
    """One quantity (and quarantine box, and serials for tracked products) per line."""
    fields = {}
    for line in request.lines.select_related("order_line__product"):
        fields[f"quantity_{line.pk}"] = forms.IntegerField(
            label=gettext("%(sku)s received (of %(n)d)") % {"sku": line.sku, "n": line.quantity},
            min_value=0,
            max_value=line.quantity,
            initial=line.quantity,
        )
        fields[f"quarantine_{line.pk}"] = forms.BooleanField(
            label=gettext("%(sku)s: set aside (quarantine), not back in stock") % {"sku": line.sku},
            required=False,
        )
        if line.order_line.product.serial_tracked:
            fields[f"serials_{line.pk}"] = forms.CharField(
                label=gettext("%(sku)s serial numbers received") % {"sku": line.sku},
                initial=", ".join(line.serial_numbers),
                required=False,
                help_text=_("Comma-separated, from those the return named."),
            )
    return type("ReceiveForm", (forms.Form,), fields)


@admin.register(ReturnRequest)
class ReturnRequestAdmin(
    DealerColumn,
    FormPageAdminMixin,
    ReadOnlyAdminMixin,
    DealerScopedAdminMixin,
    AuditHistoryMixin,
    admin.ModelAdmin,
):
    dealer_scope = "customer"  # sales managers: the returns of their own dealers
    list_display = ("number", "dealer", "order", "status", "created_at", "credit_total_text")
    list_filter = ("status", "created_at")
    show_facets = admin.ShowFacets.ALWAYS  # the queue: how many wait in each status
    search_fields = ("number", "order__number", "customer__code", "customer__name")
    list_select_related = ("customer", "order")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    inlines = (ReturnLineInline, ReturnPhotoInline, ReturnStatusChangeInline)
    fields = (
        "number",
        "customer",
        "order",
        "status",
        "next_step",
        "requested_by",
        "note",
        "decision_note",
        "credit_net_text",
        "credit_vat_text",
        "credit_total_text",
        "credit_note",
        "created_at",
        "decided_at",
        "received_at",
        "credited_at",
    )
    readonly_fields = fields
    credit_net_text = money_column("credit_net", _("credit (net)"))
    credit_vat_text = money_column("credit_vat", _("credit (VAT)"))
    credit_total_text = money_column("credit_total", _("credit (gross)"))

    @admin.display(description=_("next step"))
    def next_step(self, obj: ReturnRequest) -> str:
        request = getattr(self, "_request", None)
        links = [
            (reverse(f"admin:returns_returnrequest_{name}", args=[obj.pk]), label)
            for name, (permission, status, label) in STEPS.items()
            if obj.status == status and request is not None and request.user.has_perm(permission)
        ]
        if not links:
            return "-"
        return format_html_join(" ", '<a class="button" href="{}">{}</a>', links)

    def get_readonly_fields(self, request, obj=None):
        self._request = request
        return super().get_readonly_fields(request, obj)

    def get_urls(self):
        return [
            path(
                f"<path:object_id>/{name}/",
                self.admin_site.admin_view(getattr(self, f"{name}_view")),
                name=f"returns_returnrequest_{name}",
            )
            for name in STEPS
        ] + super().get_urls()

    # --- the steps ---

    def _return(self, request, object_id: str, step: str) -> ReturnRequest:
        permission, _status, _label = STEPS[step]
        return self.step_object(request, object_id, permission)

    def _page(self, request, found, form, *, title, intro):
        return self.form_page(
            request, form, title=title, intro=intro, cancel_url=self.change_url(found)
        )

    def _run(self, request, found, form, step) -> HttpResponseRedirect | None:
        try:
            result, changed = step()
        except DomainError as exc:
            for field, words in (exc.errors or {}).items():
                field = "note" if field == "reason" else field  # the form's name for it
                form.add_error(field if field in form.fields else None, list(words))
            if not exc.errors:
                form.add_error(None, str(exc.detail))
            return None
        if not changed:  # sent again (a second tab, a reload): the step was taken already
            self.message_user(
                request,
                gettext("Return %(n)s was %(status)s already: nothing changed.")
                % {"n": result.number, "status": result.get_status_display()},
                messages.INFO,
            )
            return HttpResponseRedirect(
                reverse("admin:returns_returnrequest_change", args=[found.pk])
            )
        self.log_change(request, result, [{"changed": {"fields": ["status"]}}])
        self.message_user(
            request,
            gettext("Return %(n)s is %(status)s.")
            % {"n": result.number, "status": result.get_status_display()},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:returns_returnrequest_change", args=[found.pk]))

    def decide_view(self, request, object_id: str):
        found = self._return(request, object_id, "decide")
        form = DecideForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            done = self._run(
                request,
                found,
                form,
                lambda: return_decide(
                    request=found,
                    status=form.cleaned_data["decision"],
                    actor=STAFF,
                    by=request.user,
                    note=form.cleaned_data["note"],
                ),
            )
            if done:
                return done
        return self._page(
            request,
            found,
            form,
            title=gettext("Approve or reject return %(n)s") % {"n": found.number},
            intro=gettext("Order %(order)s of %(dealer)s. The dealer is told by e-mail.")
            % {"order": found.order.number, "dealer": found.customer.code},
        )

    def receive_view(self, request, object_id: str):
        found = self._return(request, object_id, "receive")
        form = receive_form_class(found)(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            lines = []
            for line in found.lines.all():
                item = {
                    "sku": line.sku,
                    "quantity": form.cleaned_data[f"quantity_{line.pk}"],
                    "quarantine": form.cleaned_data[f"quarantine_{line.pk}"],
                }
                if f"serials_{line.pk}" in form.cleaned_data:
                    item["serial_numbers"] = [
                        s.strip()
                        for s in form.cleaned_data[f"serials_{line.pk}"].split(",")
                        if s.strip()
                    ]
                lines.append(item)
            done = self._run(
                request,
                found,
                form,
                lambda: return_receive(request=found, actor=STAFF, by=request.user, lines=lines),
            )
            if done:
                return done
        return self._page(
            request,
            found,
            form,
            title=gettext("Record the receipt of return %(n)s") % {"n": found.number},
            intro=gettext(
                "What came back, per line. Units back in stock go into the warehouse the order "
                "shipped from; quarantined units are set aside, not on hand."
            ),
        )

    def credit_view(self, request, object_id: str):
        found = self._return(request, object_id, "credit")
        form = CreditForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            done = self._run(
                request,
                found,
                form,
                lambda: return_credit(
                    request=found, actor=STAFF, by=request.user, note=form.cleaned_data["note"]
                ),
            )
            if done:
                return done
        net, vat, gross = credit_amounts(found)
        intro = (
            gettext(
                "A credit note of %(gross)s (net %(net)s + VAT %(vat)s) goes on the dealer's "
                "current account: the received quantities at the order's prices."
            )
            % {"gross": money_text(gross), "net": money_text(net), "vat": money_text(vat)}
            if gross > 0
            else gettext(
                "The received goods were sold at 0.00: the return is closed with nothing to "
                "credit (no ledger entry)."
            )
        )
        return self._page(
            request,
            found,
            form,
            title=gettext("Credit return %(n)s") % {"n": found.number},
            intro=intro,
        )
