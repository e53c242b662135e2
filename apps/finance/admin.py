"""The back office of the current account: the ledger, read-only, and the two ways staff add
to it.

Entries are immutable (the model refuses changes and deletes, and so does a database
trigger): a mistake is corrected with a new entry. "Add ledger entry" posts an opening
balance, invoice, payment or credit note through ``ledger_post`` (``finance.add_ledgerentry``);
"Add adjustment" posts a signed correction with a required reason through ``ledger_adjust``
(``finance.adjust_ledger``). Filtered by one dealer, the list shows the dealer's balance,
credit limit, open orders and available credit. A sales manager sees the ledgers of their own
dealers only.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.accounts.admin.common import AuditHistoryMixin
from apps.accounts.admin.scoping import DealerScopedAdminMixin, scoped_form_class
from apps.accounts.models import Customer
from apps.accounts.selectors import customer_list_for_staff
from apps.core.admin_mixins import (
    DealerColumn,
    NamedRelationsMixin,
    ReadOnlyAdminMixin,
    money_column,
)
from apps.core.admin_site import SafeAutocompleteSelect
from apps.core.clock import business_today
from apps.core.exceptions import DomainError
from apps.core.exports import neutralize_cell
from apps.core.money import money_text, round2
from apps.core.text import is_digits, key_text
from apps.finance.card_messages import card_message_shown
from apps.finance.descriptions import EntryDescriptions
from apps.finance.models import (
    BalanceConfirmation,
    CardPayment,
    CardRefund,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Payment,
    PaymentReminder,
)
from apps.finance.selectors import (
    AGING_BUCKETS,
    aging_by_dealer,
    balance_as_of,
    customer_credit_summary,
)
from apps.finance.services.card_payments import card_refund
from apps.finance.services.confirmations import confirmation_send, quarter_end_before
from apps.finance.services.ledger import ledger_adjust, ledger_post

Kind = LedgerEntry.Kind
ADD_PERMISSION = "finance.add_ledgerentry"
ADJUST_PERMISSION = "finance.adjust_ledger"
FORM_TEMPLATE = "admin/finance/ledgerentry/entry_form.html"
CUSTOMER_FILTER = "customer__id__exact"


def _amount_field(help_text) -> forms.DecimalField:
    return forms.DecimalField(
        label=_("amount"), max_digits=14, decimal_places=2, help_text=help_text
    )


class _ServiceForm(forms.Form):
    """A form whose data a finance service checks: the service's errors go to the fields."""

    def add_service_errors(self, exc: DomainError) -> None:
        for field, words in (exc.errors or {}).items():
            self.add_error(field if field in self.fields else None, list(words))
        if not exc.errors:
            self.add_error(None, str(exc.detail))


class _LedgerForm(_ServiceForm):
    """The dealer, chosen with the customer admin's search; the admin scopes the choice to the
    dealers the user sees (``scoped_form_class``)."""

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"] = forms.ModelChoiceField(
            label=_("dealer"),
            queryset=Customer.objects.all(),
            widget=SafeAutocompleteSelect(LedgerEntry._meta.get_field("customer"), admin_site),
        )
        self.order_fields(["customer"])


class AdjustmentForm(_LedgerForm):
    amount = _amount_field(
        _("Positive: the dealer owes more; negative: the dealer owes less. Not zero.")
    )
    reason = forms.CharField(
        label=_("reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Required: kept with the entry, which can never be changed or deleted."),
    )

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError(gettext("An adjustment cannot be zero."))
        return amount


class EntryForm(_LedgerForm):
    kind = forms.ChoiceField(
        label=_("kind"),
        # adjustments have their own form; refunds come from card refunds only
        choices=[(k.value, k.label) for k in Kind if k not in (Kind.ADJUSTMENT, Kind.REFUND)],
    )
    amount = _amount_field(
        _(
            "Signed as it changes the balance: an invoice or an opening debt is positive, a "
            "payment or a credit note negative."
        )
    )
    entry_date = forms.DateField(label=_("date"), initial=business_today)
    due_date = forms.DateField(label=_("due date"), required=False)
    document_number = forms.CharField(
        label=_("document number"), max_length=64, required=False, validators=[key_text]
    )
    description = forms.CharField(label=_("description"), max_length=255, required=False)
    reason = forms.CharField(
        label=_("note"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_(
            "Required for an invoice, payment or credit note typed here: they normally come "
            "from the ERP, so say why this one is entered by hand."
        ),
    )

    # the documents the ERP normally sends: typed by hand, each names its document and why
    DOCUMENT_KINDS = (Kind.INVOICE, Kind.PAYMENT, Kind.CREDIT_NOTE)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") in self.DOCUMENT_KINDS:
            if (
                "document_number" not in self.errors
                and not (cleaned.get("document_number") or "").strip()
            ):
                self.add_error(
                    "document_number",
                    gettext("Give the number of the invoice, receipt or credit note."),
                )
            if not (cleaned.get("reason") or "").strip():
                self.add_error(
                    "reason", gettext("Say why this entry is typed here, not sent by the ERP.")
                )
        entry_date, due_date = cleaned.get("entry_date"), cleaned.get("due_date")
        if entry_date and due_date and due_date < entry_date:
            # as an ERP invoice's: one due before its date is overdue the day it is booked
            self.add_error("due_date", gettext("The due date cannot be before the entry date."))
        return cleaned


# the system-written descriptions in every language, built once (on first use)
_DESCRIPTIONS = EntryDescriptions()


@admin.register(LedgerEntry)
class LedgerEntryAdmin(DealerColumn, DealerScopedAdminMixin, AuditHistoryMixin, admin.ModelAdmin):
    dealer_scope = "customer"  # sales managers: the ledgers of their own dealers
    list_display = (
        "entry_date",
        "dealer",
        "kind",
        "amount_text",
        "document_number",
        "description_text",
        "short_reason",
        "due_date",
    )  # who posted it and when: on the entry's page
    list_filter = (("customer", admin.RelatedOnlyFieldListFilter), "kind", "entry_date")

    @admin.display(description=_("Amount"), ordering="amount")
    def amount_text(self, obj):
        return money_text(obj.amount)

    search_fields = ("customer__code", "customer__name", "document_number", "description")
    list_select_related = ("customer", "created_by")
    date_hierarchy = "entry_date"
    ordering = ("-entry_date", "-id")
    change_list_template = "admin/finance/ledgerentry/change_list.html"
    fields = (
        "customer",
        "kind",
        "amount",
        "entry_date",
        "due_date",
        "document_number",
        "description_text",
        "reason",
        "created_by",
        "created_at",
    )
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description=_("description"))
    def description_text(self, obj: LedgerEntry) -> str:
        return _DESCRIPTIONS(obj.kind, obj.description)  # the system's texts in the reader's

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer", "created_by")

    # rows are immutable: no change, no delete; adding goes through the services
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return request.user.has_perm(ADD_PERMISSION)

    def has_adjust_permission(self, request) -> bool:
        return request.user.has_perm(ADJUST_PERMISSION)

    @admin.display(description=_("reason"))
    def short_reason(self, obj: LedgerEntry) -> str:
        return Truncator(obj.reason).chars(60)

    def get_urls(self):
        own = [
            path(
                "adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="finance_ledgerentry_adjust",
            ),
            path(
                "aging/",
                self.admin_site.admin_view(self.aging_view),
                name="finance_ledgerentry_aging",
            ),
        ]
        return own + super().get_urls()

    # --- the list: the dealer's account when filtered by one dealer ---

    def _filtered_customer(self, request) -> Customer | None:
        raw = request.GET.get(CUSTOMER_FILTER, "")
        if not is_digits(raw):
            return None
        return customer_list_for_staff(user=request.user).filter(pk=int(raw)).first()

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        customer = self._filtered_customer(request)
        query = {"customer": customer.pk} if customer else {}
        if customer is not None:
            summary = customer_credit_summary(customer=customer)
            extra_context["dealer"] = customer
            extra_context["dealer_summary"] = [
                (gettext("balance"), summary["balance"]),
                (gettext("credit limit"), summary["credit_limit"]),
                (gettext("open orders"), summary["open_orders_total"]),
                (gettext("available credit"), summary["available_credit"]),
                (gettext("overdue"), summary["overdue_total"]),
            ]
        if self.has_adjust_permission(request):
            extra_context["adjust_url"] = self._url("adjust", query)
        extra_context["aging_url"] = self._url("aging", {})
        return super().changelist_view(request, extra_context=extra_context)

    # --- the aging report: every dealer the user sees, by bucket ---

    AGING_COLUMNS = (
        ("code", _("code"), "code"),
        ("name", _("dealer"), "name"),
        *((b.code, b.label, f"aging_{b.code}") for b in AGING_BUCKETS),
        ("total", _("total open"), "aging_total"),
    )

    def aging_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = business_today()
        columns = {code: (label, field) for code, label, field in self.AGING_COLUMNS}
        order = request.GET.get("o", "-total")
        key = order.lstrip("-")
        if key not in columns:
            order, key = "-total", "total"
        dealers = aging_by_dealer(customer_list_for_staff(user=request.user), today=today)
        query = (request.GET.get("q") or "").strip()[:100]
        if query:
            dealers = dealers.filter(Q(code__icontains=query) | Q(name__icontains=query))
        show_all = request.GET.get("all") == "1"
        if not show_all:
            dealers = dealers.filter(aging_total__gt=0)
        field = columns[key][1]
        dealers = dealers.order_by(f"-{field}" if order.startswith("-") else field, "code")
        amounts = [f"aging_{b.code}" for b in AGING_BUCKETS] + ["aging_total"]
        rows = list(dealers.values("pk", "code", "name", *amounts))
        totals = [sum((row[a] for row in rows), Decimal("0.00")) for a in amounts]
        if request.GET.get("format") == "csv":
            return self._aging_csv(rows, amounts, totals, today)
        base = {k: v for k, v in {"q": query, "all": "1" if show_all else ""}.items() if v}
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Aging report"),
            "opts": self.model._meta,
            "as_of": today,
            "q": query,
            "order": order,
            "show_all": show_all,
            "export_query": urlencode({**base, "o": order, "format": "csv"}),
            "columns": [
                {
                    "label": label,
                    "numeric": code not in ("code", "name"),
                    "sorted": ("desc" if order.startswith("-") else "asc") if code == key else "",
                    "sort_query": urlencode(
                        {**base, "o": code if order == f"-{code}" else f"-{code}"}
                    ),
                }
                for code, label, _field in self.AGING_COLUMNS
            ],
            # written for people (grouped, two places, ₺): the database's sums may carry more
            # places (SQLite's ten)
            "rows": [
                {**row, "amounts": [money_text(round2(row[a])) for a in amounts]} for row in rows
            ],
            "totals": [money_text(round2(total)) for total in totals],
        }
        return TemplateResponse(request, "admin/finance/aging.html", context)

    def _aging_csv(self, rows, amounts, totals, today) -> HttpResponse:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([str(label) for _code, label, _field in self.AGING_COLUMNS])
        for row in rows:
            writer.writerow(
                [neutralize_cell(row["code"]), neutralize_cell(row["name"])]
                + [f"{row[a]:.2f}" for a in amounts]
            )
        writer.writerow([gettext("Total"), ""] + [f"{t:.2f}" for t in totals])
        response = HttpResponse(
            ("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="aging-{today:%Y%m%d}.csv"'
        return response

    @staticmethod
    def _url(name: str, query: dict) -> str:
        url = reverse(f"admin:finance_ledgerentry_{name}")
        return f"{url}?{urlencode(query)}" if query else url

    # --- adding: an entry (ledger_post) or an adjustment (ledger_adjust) ---

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        return self._form_view(
            request,
            form_class=EntryForm,
            title=gettext("Add ledger entry"),
            intro=gettext(
                "An opening balance, an invoice, a payment or a credit note. Entries cannot be "
                "changed or deleted afterwards: a mistake is corrected with an adjustment."
            ),
            post=lambda request, data: ledger_post(
                customer=data["customer"],
                kind=data["kind"],
                amount=data["amount"],
                by=request.user,
                reason=data.get("reason", ""),
                description=data.get("description", ""),
                document_number=data.get("document_number", ""),
                entry_date=data.get("entry_date"),
                due_date=data.get("due_date"),
                once_per_document=True,  # booked twice, it doubled the balance
            ),
        )

    def adjust_view(self, request):
        if not self.has_adjust_permission(request):
            raise PermissionDenied
        return self._form_view(
            request,
            form_class=AdjustmentForm,
            title=gettext("Add adjustment"),
            intro=gettext(
                "A manual correction of the dealer's balance. Say why: the reason stays with "
                "the entry, which cannot be changed or deleted."
            ),
            post=lambda request, data: ledger_adjust(
                customer=data["customer"],
                amount=data["amount"],
                reason=data["reason"],
                by=request.user,
            ),
        )

    def _form_view(self, request, *, form_class, title, intro, post):
        # the dealer the list was filtered by: ?customer=<id> (our links) or the admin's own
        # ?_changelist_filters=customer__id__exact%3D<id> (its "Add" button)
        filters = QueryDict(request.GET.get("_changelist_filters", ""))
        customer = request.GET.get("customer") or filters.get(CUSTOMER_FILTER) or ""
        initial = {"customer": customer} if is_digits(customer) else {}
        form = scoped_form_class(form_class, self.admin_site, request)(
            request.POST if request.method == "POST" else None,
            initial=initial,
            admin_site=self.admin_site,
        )
        if form.is_bound and form.is_valid():
            try:
                entry = post(request, form.cleaned_data)
            except DomainError as exc:
                form.add_service_errors(exc)
            else:
                self.log_addition(request, entry, [{"added": {}}])
                self.message_user(
                    request,
                    gettext("%(kind)s of %(amount)s recorded for %(dealer)s.")
                    % {
                        "kind": entry.get_kind_display().capitalize(),
                        "amount": entry.amount,
                        "dealer": entry.customer.code,
                    },
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    self._url("changelist", {CUSTOMER_FILTER: entry.customer_id})
                )
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "intro": intro,
            "opts": self.model._meta,
            "form": form,
            "media": self.media + form.media,
            "cancel_url": reverse("admin:finance_ledgerentry_changelist"),
        }
        return TemplateResponse(request, FORM_TEMPLATE, context)


# --- documents from the ERP (read-only: the ERP is their source) -------------------------------


class InvoiceLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = InvoiceLine
    fields = InvoiceLine.DOCUMENT_FIELDS
    readonly_fields = fields
    extra = 0
    can_delete = False


class PaymentReminderInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PaymentReminder
    fields = ("stage", "sent_on", "open_amount")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("payment reminders sent (the e-mails are in the notification log)")


@admin.register(Invoice)
class InvoiceAdmin(
    DealerColumn, ReadOnlyAdminMixin, DealerScopedAdminMixin, AuditHistoryMixin, admin.ModelAdmin
):
    dealer_scope = "customer"
    list_display = (
        "number",
        "dealer",
        "profile",
        "issue_date",
        "due_date",
        "gross_total_text",
        "order",
        "created_at",
    )
    gross_total_text = money_column("gross_total", _("gross"))
    list_filter = ("profile", "issue_date", "due_date")
    search_fields = ("number", "ettn", "customer__code", "customer__name", "order__number")
    list_select_related = ("customer", "order")
    date_hierarchy = "issue_date"
    ordering = ("-issue_date", "-id")
    inlines = [InvoiceLineInline, PaymentReminderInline]
    fields = (
        "number",
        "ettn",
        "profile",
        "customer",
        "order",
        "issue_date",
        "due_date",
        "currency",
        "net_total",
        "vat_total",
        "gross_total",
        "xml",
        "pdf",
        "created_at",
    )
    readonly_fields = fields
    show_full_result_count = False


@admin.register(Payment)
class PaymentAdmin(
    DealerColumn, ReadOnlyAdminMixin, DealerScopedAdminMixin, AuditHistoryMixin, admin.ModelAdmin
):
    dealer_scope = "customer"
    list_display = ("reference", "dealer", "method", "payment_date", "amount_text", "created_at")
    amount_text = money_column("amount", _("amount"))
    list_filter = ("method", "payment_date")
    search_fields = ("reference", "customer__code", "customer__name")
    list_select_related = ("customer",)
    date_hierarchy = "payment_date"
    ordering = ("-payment_date", "-id")
    fields = (
        "reference",
        "customer",
        "amount",
        "payment_date",
        "method",
        "invoice_numbers",
        "created_at",
    )
    readonly_fields = fields
    show_full_result_count = False


# --- balance confirmations (mutabakat) ---------------------------------------------------------


class ConfirmationForm(_LedgerForm):
    as_of = forms.DateField(
        label=_("balance as of"),
        help_text=_("The balance is the dealer's ledger up to this day (not later than today)."),
    )


@admin.register(BalanceConfirmation)
class BalanceConfirmationAdmin(
    NamedRelationsMixin, DealerColumn, DealerScopedAdminMixin, AuditHistoryMixin, admin.ModelAdmin
):
    """Open, confirmed, disputed and deemed-accepted confirmations; "Add" sends one."""

    dealer_scope = "customer"
    list_display = (
        "dealer",
        "as_of",
        "balance_text",
        "status",
        "respond_by",
        "answered_at",
        "their_balance_text",
        "sent_by",
    )
    balance_text = money_column("balance", _("balance"))
    their_balance_text = money_column("their_balance", _("the dealer's balance"))
    list_filter = ("status", "as_of")
    search_fields = ("customer__code", "customer__name")
    list_select_related = ("customer", "sent_by")
    ordering = ("-as_of", "-id")
    fields = (
        "customer",
        "as_of",
        "balance",
        "ledger_balance_now",
        "status",
        "respond_by",
        "sent_at",
        "sent_by",
        "answered_at",
        "answered_by",
        "dispute_reason",
        "their_balance",
    )
    readonly_fields = fields

    @admin.display(description=_("ledger balance as of the date, now"))
    def ledger_balance_now(self, obj: BalanceConfirmation) -> str:
        """An answered confirmation stays as answered; an entry dated into its period later
        (an open one is restated) shows here as a different figure."""
        now = balance_as_of(obj.customer_id, obj.as_of)
        if now == obj.balance:
            return f"{now:.2f}"
        return gettext(
            "%(now)s (differs from the confirmation: entries dated into its period came later)"
        ) % {"now": f"{now:.2f}"}

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = scoped_form_class(ConfirmationForm, self.admin_site, request)(
            request.POST if request.method == "POST" else None,
            initial={"as_of": quarter_end_before(business_today())},
            admin_site=self.admin_site,
        )
        if form.is_bound and form.is_valid():
            try:
                confirmation = confirmation_send(
                    customer=form.cleaned_data["customer"],
                    as_of=form.cleaned_data["as_of"],
                    by=request.user,
                )
            except DomainError as exc:
                form.add_service_errors(exc)
            else:
                self.log_addition(request, confirmation, [{"added": {}}])
                self.message_user(
                    request,
                    gettext("Balance confirmation sent to %(dealer)s: %(balance)s as of %(day)s.")
                    % {
                        "dealer": confirmation.customer.code,
                        "balance": money_text(confirmation.balance),
                        "day": date_format(confirmation.as_of),
                    },
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:finance_balanceconfirmation_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Send a balance confirmation"),
            "intro": gettext(
                "The dealer's owners and finance users are asked to confirm the balance as of "
                "the date, or to dispute it; without an answer it counts as accepted."
            ),
            "opts": self.model._meta,
            "form": form,
            "media": self.media + form.media,
            "cancel_url": reverse("admin:finance_balanceconfirmation_changelist"),
        }
        return TemplateResponse(request, FORM_TEMPLATE, context)


# --- card payments (taken online; refunds by finance staff) -------------------------------------

REFUND_PERMISSION = "finance.refund_cardpayment"


class CardRefundInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CardRefund
    extra = 0
    fields = (
        "created_at",
        "amount",
        "status",
        "reason",
        "message",
        "created_by",
        "completed_at",
    )
    readonly_fields = fields


class RefundForm(_ServiceForm):
    amount = forms.DecimalField(
        label=_("amount"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text=_("Empty: all that is left. On the day of the payment only all of it."),
    )
    reason = forms.CharField(
        label=_("reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


@admin.register(CardPayment)
class CardPaymentAdmin(
    DealerColumn, ReadOnlyAdminMixin, DealerScopedAdminMixin, AuditHistoryMixin, admin.ModelAdmin
):
    """Card payments (3-D Secure), read-only: the gateway decides them. Finance staff refund
    a succeeded one (the "Refund" action, or the link on the payment)."""

    dealer_scope = "customer"
    list_display = (
        "reference",
        "dealer",
        "amount_text",
        "status",
        "needs_review",
        "order",
        "card_masked",
        "refunded_amount_text",
        "created_at",
    )
    amount_text = money_column("amount", _("amount"))
    refunded_amount_text = money_column("refunded_amount", _("refunded"))
    list_filter = ("status", "needs_review", "provider", "created_at")
    search_fields = ("reference", "xact_id", "customer__code", "customer__name", "order__number")
    list_select_related = ("customer", "order")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    fields = (
        "reference",
        "customer",
        "created_by",
        "amount",
        "currency",
        "status",
        "needs_review",
        "message_text",
        "order",
        "invoice_numbers",
        "provider",
        "session_id",
        "xact_id",
        "card_masked",
        "refunded_amount",
        "payment",
        "created_at",
        "completed_at",
        "refund_link",
    )
    readonly_fields = fields
    inlines = [CardRefundInline]
    actions = ["refund"]
    show_full_result_count = False

    def has_refund_permission(self, request) -> bool:
        return request.user.has_perm(REFUND_PERMISSION)

    @admin.display(description=_("message"))
    def message_text(self, obj: CardPayment) -> str:
        return card_message_shown(obj.message)  # the system's texts in the reader's language

    @admin.display(description=_("refund"))
    def refund_link(self, obj: CardPayment) -> str:
        if obj.refundable <= 0:
            return "-"
        return format_html(
            '<a class="button" href="{}">{}</a>',
            reverse("admin:finance_cardpayment_refund", args=[obj.pk]),
            gettext("Refund…"),
        )

    @admin.action(description=_("Refund the selected payment"), permissions=["refund"])
    def refund(self, request, queryset):
        chosen = list(queryset.values_list("pk", flat=True)[:2])
        if len(chosen) != 1:
            self.message_user(request, gettext("Refund one payment at a time."), messages.WARNING)
            return None
        return HttpResponseRedirect(reverse("admin:finance_cardpayment_refund", args=chosen))

    def get_urls(self):
        return [
            path(
                "<path:object_id>/refund/",
                self.admin_site.admin_view(self.refund_view),
                name="finance_cardpayment_refund",
            ),
            *super().get_urls(),
        ]

    def refund_view(self, request, object_id: str):
        if not self.has_refund_permission(request):
            raise PermissionDenied
        payment = self.get_object(request, object_id)  # scoped: another dealer's is not found
        if payment is None:
            raise Http404
        form = RefundForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            try:
                refund = card_refund(
                    card_payment=payment,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
            except DomainError as exc:
                form.add_service_errors(exc)
            else:
                self.log_change(
                    request,
                    payment,
                    [
                        {
                            "added": {
                                "name": str(CardRefund._meta.verbose_name),
                                "object": str(refund),
                            }
                        }
                    ],
                )
                level, text = {
                    CardRefund.Status.SUCCEEDED: (
                        messages.SUCCESS,
                        gettext("%(amount)s refunded to the card; the dealer's balance is up."),
                    ),
                    CardRefund.Status.PENDING: (
                        messages.WARNING,
                        gettext(
                            "The gateway did not answer: the refund of %(amount)s is pending "
                            "and is checked with the gateway within minutes."
                        ),
                    ),
                    CardRefund.Status.FAILED: (
                        messages.ERROR,
                        gettext("The gateway refused the refund of %(amount)s: %(message)s"),
                    ),
                }[refund.status]
                self.message_user(
                    request,
                    text % {"amount": money_text(refund.amount), "message": refund.message},
                    level,
                )
                return HttpResponseRedirect(
                    reverse("admin:finance_cardpayment_change", args=[payment.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Refund card payment %(reference)s") % {"reference": payment},
            "intro": gettext(
                "%(amount)s paid by card %(card)s; %(left)s can be refunded. The money goes back "
                "to the card and the dealer's balance goes up by as much."
            )
            % {
                "amount": money_text(payment.amount),
                "card": payment.card_masked or "-",
                "left": money_text(payment.refundable),
            },
            "opts": self.model._meta,
            "form": form,
            "media": self.media + form.media,
            "cancel_url": reverse("admin:finance_cardpayment_change", args=[payment.pk]),
        }
        return TemplateResponse(request, FORM_TEMPLATE, context)
