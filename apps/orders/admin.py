"""The back office of orders: the list (filters, search, the credit approval queue), a
read-only detail (lines, status history, the stock reservation, the dealer's account) and
the actions that move orders on.

Nothing about an order is edited by hand: every action calls a service of
``apps.orders.services`` (``order_credit_approve``, ``order_credit_reject``,
``order_set_status`` with the actor ``staff``, ``order_cancel``), which asks the status
machine, moves the stock, records the history and writes the outbox event. Each action
reports, per order, the success or the service's refusal. Who may do what comes from the
role groups (``apps/accounts/roles.py``): ``orders.approve_credit`` (Finance Manager),
``orders.manage_fulfilment`` (Customer Service), ``orders.cancel_order``. A staff user without
``accounts.view_all_customers`` (a sales manager) sees the orders of their own dealers only
(``DealerScopedAdminMixin``).
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.accounts.admin.common import AuditHistoryMixin, _domain_message
from apps.accounts.admin.scoping import DealerScopedAdminMixin
from apps.accounts.selectors import customer_credit_summary
from apps.core.admin_mixins import ReadOnlyAdminMixin, StatusHistoryInlineMixin, money_column
from apps.core.exceptions import Conflict, DomainError
from apps.core.money import money_text
from apps.inventory.models import StockMovement
from apps.orders.models import Order, OrderLine, OrderStatus, OrderStatusChange
from apps.orders.notes import order_note_shown, status_note_shown
from apps.orders.services import (
    order_cancel,
    order_credit_approve,
    order_credit_reject,
    order_payment_received,
    order_reference,
    order_set_status,
)
from apps.orders.states import STAFF, allowed
from apps.pricing.engine import source_label

S = OrderStatus
APPROVE_CREDIT = "orders.approve_credit"
MANAGE_FULFILMENT = "orders.manage_fulfilment"
CANCEL = "orders.cancel_order"
ACTION_TEMPLATE = "admin/orders/order/action_form.html"
FROM_ORDER = "_from_order"  # set by the buttons of the detail page: come back to the order


# --- forms of the actions that ask for something ------------------------------------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Kept in the order's status history; the dealer sees it."),
    )


class PaidForm(forms.Form):
    note = forms.CharField(
        label=_("how it was paid"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_("Kept in the order's status history; the dealer sees it."),
    )


class ShipForm(forms.Form):
    tracking_number = forms.CharField(label=_("tracking number"), max_length=64, required=False)
    carrier = forms.CharField(label=_("carrier"), max_length=64, required=False)
    note = forms.CharField(
        label=_("note"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
    )


# --- filters ------------------------------------------------------------------------------------


class QueueFilter(admin.SimpleListFilter):
    """Work queues: orders waiting for finance, orders to fulfil, orders on the road."""

    title = _("queue")
    parameter_name = "queue"
    QUEUES = {
        "credit": (_("credit approval queue"), Q(status=S.AWAITING_CREDIT_APPROVAL)),
        "fulfil": (_("to fulfil"), Q(status__in=[S.CONFIRMED, S.PROCESSING])),
        "transit": (_("shipped, not delivered"), Q(status=S.SHIPPED)),
    }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _q) in self.QUEUES.items()]

    def queryset(self, request, queryset):
        queue = self.QUEUES.get(self.value() or "")
        return queryset.filter(queue[1]) if queue else queryset


# --- inlines (read-only) ------------------------------------------------------------------------


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = (
        "sku",
        "name",
        "quantity",
        "list_price_text",
        "unit_net_text",
        "discount_text",
        "price_source_label",
        "campaign_name",
        "vat_rate",
        "line_net_text",
        "line_vat_text",
        "line_gross_text",
        "serial_numbers",
    )
    readonly_fields = fields
    # amounts as people read them (a unit price's third and fourth decimals only when set)
    list_price_text = money_column("list_price", _("list price"))
    unit_net_text = money_column("unit_net", _("unit price (net)"))
    discount_text = money_column("discount", _("discount per unit"))
    line_net_text = money_column("line_net", _("line net"))
    line_vat_text = money_column("line_vat", _("line VAT"))
    line_gross_text = money_column("line_gross", _("line gross"))

    @admin.display(description=_("price source"))
    def price_source_label(self, line):
        return source_label(line.price_source)


class OrderStatusChangeInline(StatusHistoryInlineMixin, ReadOnlyInline):
    model = OrderStatusChange
    statuses = OrderStatus
    verbose_name_plural = _("status history")
    note_shown = staticmethod(status_note_shown)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by", "api_key")


# --- the order admin ----------------------------------------------------------------------------


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, DealerScopedAdminMixin, AuditHistoryMixin, admin.ModelAdmin):
    dealer_scope = "customer"  # sales managers: the orders of their own dealers
    list_display = (
        "number",
        "dealer",
        "status",
        "payment_method",
        "grand_total_text",
        "created_at",
    )
    list_filter = (
        QueueFilter,
        "status",
        ("customer", admin.RelatedOnlyFieldListFilter),
        "created_at",
        "payment_method",
    )
    search_fields = ("number", "customer__code", "customer__name", "po_number")
    list_select_related = ("customer",)
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    inlines = (OrderLineInline, OrderStatusChangeInline)
    change_form_template = "admin/orders/order/change_form.html"
    change_list_template = "admin/orders/order/change_list.html"
    actions = (
        "approve_credit",
        "reject_credit",
        "confirm_payment",
        "mark_processing",
        "mark_shipped",
        "mark_delivered",
        "cancel_orders",
    )
    readonly_fields = (
        "number",
        "dealer_link",
        "status",
        "payment_method",
        "placed_by",
        "po_number",
        "note_text",
        "created_at",
        "updated_at",
        "currency",
        "subtotal_net_text",
        "vat_total_text",
        "grand_total_text",
        "shipping_address_display",
        "billing_address_display",
        "tracking_number",
        "carrier",
        "approved_by",
        "approved_at",
        "confirmed_at",
        "shipped_at",
        "delivered_at",
        "cancelled_at",
        "invoiced_at",
        "reservation",
        "dealer_account",
    )

    subtotal_net_text = money_column("subtotal_net", _("subtotal (net)"))
    vat_total_text = money_column("vat_total", _("VAT"))
    grand_total_text = money_column("grand_total", _("grand total"))

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer", "placed_by")

    # an order is never added, edited or deleted by hand: the actions move it
    def has_approve_credit_permission(self, request) -> bool:
        return request.user.has_perm(APPROVE_CREDIT)

    def has_fulfilment_permission(self, request) -> bool:
        return request.user.has_perm(MANAGE_FULFILMENT)

    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm(CANCEL)

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (
                None,
                {
                    "fields": (
                        ("number", "status"),
                        ("dealer_link", "placed_by"),
                        ("payment_method", "po_number"),
                        "note_text",
                        ("created_at", "created_by"),
                        ("updated_at", "updated_by"),
                    )
                },
            ),
            (
                _("Amounts"),
                {"fields": ("currency", "subtotal_net_text", "vat_total_text", "grand_total_text")},
            ),
            (_("Addresses"), {"fields": ("shipping_address_display", "billing_address_display")}),
            (
                _("Approval and fulfilment"),
                {
                    "fields": (
                        ("tracking_number", "carrier"),
                        ("approved_by", "approved_at"),
                        ("confirmed_at", "shipped_at"),
                        ("delivered_at", "cancelled_at"),
                        "invoiced_at",
                    )
                },
            ),
            (_("Stock reservation"), {"fields": ("reservation",)}),
        ]
        if request.user.has_perm("finance.view_ledgerentry"):
            fieldsets.append((_("Dealer account"), {"fields": ("dealer_account",)}))
        return fieldsets

    # --- columns and read-only fields ---

    @admin.display(description=_("dealer"), ordering="customer__code")
    def dealer(self, obj: Order) -> str:
        return f"{obj.customer.code} · {obj.customer.name}"

    @admin.display(description=_("dealer"))
    def dealer_link(self, obj: Order) -> str:
        url = reverse("admin:accounts_customer_change", args=[obj.customer_id])
        return format_html('<a href="{}">{} · {}</a>', url, obj.customer.code, obj.customer.name)

    @staticmethod
    def _address(snapshot: dict) -> str:
        if not snapshot:
            return "-"
        parts = [
            snapshot.get("title"),
            snapshot.get("line1"),
            snapshot.get("line2"),
            " ".join(p for p in (snapshot.get("postal_code"), snapshot.get("district")) if p),
            " ".join(p for p in (snapshot.get("city"), snapshot.get("country")) if p),
            snapshot.get("phone"),
        ]
        return format_html_join(mark_safe("<br>"), "{}", ((p,) for p in parts if p))

    @admin.display(description=_("note"))
    def note_text(self, obj: Order) -> str:
        return order_note_shown(obj.note)  # the system's own note in the reader's language

    @admin.display(description=_("shipping address"))
    def shipping_address_display(self, obj: Order) -> str:
        return self._address(obj.shipping_address)

    @admin.display(description=_("billing address"))
    def billing_address_display(self, obj: Order) -> str:
        return self._address(obj.billing_address)

    @admin.display(description=_("reservation"))
    def reservation(self, obj: Order) -> str:
        """The stock movements of the order (reservation, release, sale) and what it still
        holds reserved."""
        reference = order_reference(obj.number)
        movements = list(
            StockMovement.objects.filter(reference=reference)
            .select_related("product", "warehouse")
            .order_by("created_at", "id")
        )
        if not movements:
            return gettext("No stock movements.")
        held = sum(m.reserved_after - m.reserved_before for m in movements)
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} → {}</td></tr>",
            (
                (
                    timezone.localtime(m.created_at).strftime("%Y-%m-%d %H:%M"),
                    m.get_kind_display(),
                    m.product.sku,
                    m.warehouse.code,
                    m.quantity,
                    m.reserved_before,
                    m.reserved_after,
                )
                for m in movements
            ),
        )
        url = (
            reverse("admin:inventory_stockmovement_changelist") + "?" + urlencode({"q": reference})
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
            '</tr></thead><tbody>{}</tbody></table><p>{} <a href="{}">{}</a></p>',
            gettext("at"),
            gettext("kind"),
            gettext("SKU"),
            gettext("warehouse"),
            gettext("quantity"),
            gettext("reserved"),
            rows,
            gettext("Units still reserved: %(n)d.") % {"n": held},
            url,
            gettext("All movements of %(ref)s") % {"ref": reference},
        )

    @admin.display(description=_("dealer account"))
    def dealer_account(self, obj: Order) -> str:
        """Balance, credit limit, open orders and available credit: what finance weighs when
        an order waits for credit approval."""
        summary = customer_credit_summary(customer=obj.customer)
        rows = [
            (gettext("balance"), summary["balance"]),
            (gettext("credit limit"), summary["credit_limit"]),
            (gettext("open orders"), summary["open_orders_total"]),
            (gettext("available credit"), summary["available_credit"]),
            (gettext("overdue"), summary["overdue_total"]),
        ]
        if obj.status == S.AWAITING_CREDIT_APPROVAL:
            rows.append(
                (
                    gettext("available credit after approving this order"),
                    summary["available_credit"] - obj.grand_total,
                )
            )
        table = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td></tr>",
            ((k, money_text(v, currency_code=obj.currency)) for k, v in rows),
        )
        url = (
            reverse("admin:finance_ledgerentry_changelist")
            + "?"
            + urlencode({"customer__id__exact": obj.customer_id})
        )
        return format_html(
            '<table>{}</table><p><a href="{}">{}</a></p>',
            table,
            url,
            gettext("The dealer's ledger"),
        )

    # --- list and detail extras ---

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        if self.has_approve_credit_permission(request):
            extra_context["credit_queue_count"] = (
                self.get_queryset(request).filter(status=S.AWAITING_CREDIT_APPROVAL).count()
            )
            extra_context["credit_queue_url"] = (
                reverse("admin:orders_order_changelist") + "?" + urlencode({"queue": "credit"})
            )
        return super().changelist_view(request, extra_context=extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        order = self.get_object(request, object_id)
        if order is not None:
            extra_context["order_actions"] = self.order_actions(request, order)
            extra_context["changelist_url"] = reverse("admin:orders_order_changelist")
            extra_context["action_checkbox_name"] = helpers.ACTION_CHECKBOX_NAME
            extra_context["from_order"] = FROM_ORDER
        return super().change_view(request, object_id, form_url, extra_context)

    def order_actions(self, request, order: Order) -> list[tuple[str, str]]:
        """The actions this user may take on this order now: ``(action name, label)``."""
        available = self.get_actions(request)
        buttons = {
            "approve_credit": (S.CONFIRMED, gettext("Approve credit")),
            "confirm_payment": (S.CONFIRMED, gettext("Confirm as paid…")),
            "reject_credit": (S.REJECTED, gettext("Reject credit…")),
            "mark_processing": (S.PROCESSING, gettext("Mark processing")),
            "mark_shipped": (S.SHIPPED, gettext("Mark shipped…")),
            "mark_delivered": (S.DELIVERED, gettext("Mark delivered")),
            "cancel_orders": (S.CANCELLED, gettext("Cancel order…")),
        }
        out = []
        for name, (to, label) in buttons.items():
            if name not in available or not allowed(order.status, to, STAFF):
                continue
            credit = name in ("approve_credit", "reject_credit")
            if credit and order.status != S.AWAITING_CREDIT_APPROVAL:
                continue
            if name == "confirm_payment" and order.status != S.AWAITING_PAYMENT:
                continue
            out.append((name, label))
        return out

    # --- running the actions ---

    def _run(
        self,
        request,
        queryset,
        *,
        service: Callable[[Order], object],
        done: str,
    ):
        """Call ``service`` for each order; one message per refusal, one listing the orders
        that moved. A button of the detail page comes back to its order."""
        moved, unchanged = [], []
        for order in queryset.select_related("customer").order_by("created_at", "id"):
            try:
                result = service(order)
            except DomainError as exc:
                self.message_user(
                    request, f"{order.number}: {_domain_message(exc)}", messages.ERROR
                )
                continue
            changed = result[1] if isinstance(result, tuple) else True
            if changed:
                moved.append(order.number)
                self.log_change(request, order, done)
            else:
                unchanged.append(order.number)
        if moved:
            self.message_user(
                request,
                gettext("%(done)s: %(orders)s.") % {"done": done, "orders": ", ".join(moved)},
                messages.SUCCESS,
            )
        if unchanged:
            self.message_user(
                request,
                gettext("Already in that status, nothing changed: %(orders)s.")
                % {"orders": ", ".join(unchanged)},
                messages.WARNING,
            )
        return self._back(request, queryset)

    def _back(self, request, queryset):
        if request.POST.get(FROM_ORDER):
            order = queryset.first()
            if order is not None:
                return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))
        return None  # the change list

    def _with_form(self, request, queryset, *, action, form_class, title, question, run, done):
        """An action that asks for something first (a reason, a tracking number): the
        intermediate page (``title``, the button's words), then ``run(order, **cleaned_data)``
        per order, reported as ``done`` ("Marked shipped: SO-...")."""
        form = form_class(request.POST if request.POST.get("post") else None)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            return self._run(request, queryset, service=lambda order: run(order, **data), done=done)
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "question": question,
            "submit_label": title,
            "opts": self.model._meta,
            "orders": [
                (order, money_text(order.grand_total, currency_code=order.currency))
                for order in queryset.select_related("customer").order_by("created_at", "id")
            ],
            "form": form,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "from_order": FROM_ORDER if request.POST.get(FROM_ORDER) else "",
            "media": self.media + form.media,
        }
        return TemplateResponse(request, ACTION_TEMPLATE, context)

    @admin.action(
        description=_("Approve credit of selected orders"), permissions=["approve_credit"]
    )
    def approve_credit(self, request, queryset):
        def approve(order: Order) -> Order:
            if order.status != S.AWAITING_CREDIT_APPROVAL:
                raise Conflict(
                    gettext("Not waiting for credit approval (%(status)s).")
                    % {"status": order.get_status_display()},
                    code="invalid_transition",
                )
            return order_credit_approve(order=order, by=request.user)

        return self._run(request, queryset, service=approve, done=gettext("Credit approved"))

    @admin.action(
        description=_("Reject credit of selected orders…"), permissions=["approve_credit"]
    )
    def reject_credit(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            action="reject_credit",
            form_class=ReasonForm,
            title=gettext("Reject credit"),
            done=gettext("Credit rejected"),
            question=gettext(
                "Reject these orders over the credit limit? Their reservations are released. "
                "Say why."
            ),
            run=lambda order, reason: order_credit_reject(
                order=order, by=request.user, reason=reason
            ),
        )

    def _set_status(self, request, order: Order, status: str, **kwargs):
        return order_set_status(order=order, status=status, actor=STAFF, by=request.user, **kwargs)

    @admin.action(
        description=_("Confirm selected orders as paid by other means…"),
        permissions=["approve_credit"],
    )
    def confirm_payment(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            action="confirm_payment",
            form_class=PaidForm,
            title=gettext("Confirm as paid"),
            done=gettext("Confirmed as paid"),
            question=gettext(
                "These orders wait for a card payment. Confirm them as paid by other means "
                "(a bank transfer)? Say how they were paid: the dealer sees it. Book the "
                "money itself as a payment (the ERP's payments feed, or a ledger entry)."
            ),
            run=lambda order, note: order_payment_received(order=order, by=request.user, note=note),
        )

    @admin.action(description=_("Mark selected orders processing"), permissions=["fulfilment"])
    def mark_processing(self, request, queryset):
        return self._run(
            request,
            queryset,
            service=lambda order: self._set_status(request, order, S.PROCESSING),
            done=gettext("Marked processing"),
        )

    @admin.action(description=_("Mark selected orders shipped…"), permissions=["fulfilment"])
    def mark_shipped(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            action="mark_shipped",
            form_class=ShipForm,
            title=gettext("Mark shipped"),
            done=gettext("Marked shipped"),
            question=gettext(
                "Ship these orders? Their reservations become sales; serial-tracked lines take "
                "the oldest serial numbers in stock."
            ),
            run=lambda order, tracking_number, carrier, note: self._set_status(
                request,
                order,
                S.SHIPPED,
                tracking_number=tracking_number,
                carrier=carrier,
                note=note,
            ),
        )

    @admin.action(description=_("Mark selected orders delivered"), permissions=["fulfilment"])
    def mark_delivered(self, request, queryset):
        return self._run(
            request,
            queryset,
            service=lambda order: self._set_status(request, order, S.DELIVERED),
            done=gettext("Marked delivered"),
        )

    @admin.action(description=_("Cancel selected orders…"), permissions=["cancel"])
    def cancel_orders(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            action="cancel_orders",
            form_class=ReasonForm,
            title=gettext("Cancel orders"),
            done=gettext("Cancelled"),
            question=gettext(
                "Cancel these orders? Their reservations are released, and an order the ERP "
                "invoiced gets a credit note for its invoices. Orders already shipped cannot be "
                "cancelled. Say why."
            ),
            run=lambda order, reason: order_cancel(
                order=order, by=request.user, reason=reason, actor=STAFF
            ),
        )
