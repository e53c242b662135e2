"""The back office of quotes: a queue by status (with counts), the request with its lines and
every version sent, read-only, and two pages through the quote services:

* "Answer" (``quotes.answer_quote``: Sales Manager): a net unit price per line (the dealer's
  price today and their target shown beside it), a validity date and a note; "Save draft" or
  "Send to the dealer" (again on a sent quote: a counter-offer, the next version);
* "Decline": a reason for the dealer.

A sales manager sees and answers the quotes of their own dealers only.
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.accounts.admin.common import AuditHistoryMixin
from apps.accounts.admin.scoping import DealerScopedAdminMixin
from apps.core.admin_mixins import DealerColumn, FormPageAdminMixin, ReadOnlyAdminMixin
from apps.core.clock import business_today
from apps.core.exceptions import DomainError
from apps.core.money import money_text
from apps.pricing.engine import price_resolve_many
from apps.quotes.models import Quote, QuoteLine, QuoteVersion
from apps.quotes.models import QuoteStatus as S
from apps.quotes.services import quote_answer, quote_decline
from apps.quotes.states import OPEN

ANSWER = "quotes.answer_quote"


class _ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False


class QuoteLineInline(_ReadOnlyInline):
    model = QuoteLine
    fields = ("sku", "name", "quantity", "target_price", "unit_net", "vat_rate")
    readonly_fields = fields


class QuoteVersionInline(_ReadOnlyInline):
    model = QuoteVersion
    fields = ("version", "sent_at", "sent_by", "valid_until", "lines_sent", "note")
    readonly_fields = fields

    @admin.display(description=_("lines"))
    def lines_sent(self, version):
        """The prices this version offered, one line each ("A-1 × 5: 12,50 ₺ net"), not the
        stored JSON."""
        return format_html_join(
            mark_safe("<br>"),
            "{} × {}: {}",
            (
                (line.get("sku", ""), line.get("quantity", ""), _net(line.get("unit_net")))
                for line in version.lines or []
            ),
        )


def _net(amount) -> str:
    try:
        return gettext("%(amount)s net") % {"amount": money_text(amount)}
    except (ArithmeticError, TypeError, ValueError):
        return str(amount)


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("The dealer reads it."),
    )


def answer_form_class(quote: Quote, engine_prices: dict[int, str]):
    """A price per line (the dealer's engine price today and their target in the label), a
    validity date and a note."""
    fields = {}
    for line in quote.lines.all():
        hints = [gettext("%(n)d units") % {"n": line.quantity}]
        if line.target_price is not None:
            hints.append(gettext("target %(p)s") % {"p": money_text(line.target_price)})
        hints.append(gettext("their price today %(p)s") % {"p": engine_prices.get(line.pk, "-")})
        fields[f"price_{line.pk}"] = forms.DecimalField(
            label=f"{line.sku} {line.name}",
            help_text=", ".join(hints),
            min_value=0,
            max_digits=14,
            decimal_places=4,
            required=False,
            initial=line.unit_net,
        )
    fields["valid_until"] = forms.DateField(
        label=_("valid until"),
        initial=quote.valid_until
        or quote.valid_until_wanted
        or business_today() + datetime.timedelta(days=14),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    fields["note"] = forms.CharField(
        label=_("note to the dealer"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        initial=quote.staff_note,
    )
    fields["send"] = forms.TypedChoiceField(
        label=_("what to do"),
        choices=[("1", _("send to the dealer")), ("0", _("save as a draft"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
        initial="1",
    )
    return type("AnswerForm", (forms.Form,), fields)


@admin.register(Quote)
class QuoteAdmin(
    DealerColumn,
    FormPageAdminMixin,
    ReadOnlyAdminMixin,
    DealerScopedAdminMixin,
    AuditHistoryMixin,
    admin.ModelAdmin,
):
    dealer_scope = "customer"  # sales managers: the quotes of their own dealers
    list_display = ("number", "dealer", "status", "version", "valid_until", "created_at", "order")
    list_filter = ("status", "created_at")
    show_facets = admin.ShowFacets.ALWAYS  # the queue: how many wait in each status
    search_fields = ("number", "customer__code", "customer__name", "lines__sku")
    list_select_related = ("customer", "order")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    inlines = (QuoteLineInline, QuoteVersionInline)
    fields = (
        "number",
        "customer",
        "status",
        "next_step",
        "requested_by",
        "note",
        "valid_until_wanted",
        "version",
        "valid_until",
        "staff_note",
        "reject_reason",
        "order",
        "created_at",
        "sent_at",
        "decided_at",
    )
    readonly_fields = fields

    @admin.display(description=_("next step"))
    def next_step(self, obj: Quote) -> str:
        request = getattr(self, "_request", None)
        if request is None or not request.user.has_perm(ANSWER) or obj.status not in OPEN:
            return "-"
        links = [(reverse("admin:quotes_quote_answer", args=[obj.pk]), gettext("Answer"))]
        if obj.status != S.SENT:
            links.append((reverse("admin:quotes_quote_decline", args=[obj.pk]), gettext("Decline")))
        return format_html_join(" ", '<a class="button" href="{}">{}</a>', links)

    def get_readonly_fields(self, request, obj=None):
        self._request = request
        return super().get_readonly_fields(request, obj)

    def get_urls(self):
        return [
            path(
                f"<path:object_id>/{name}/",
                self.admin_site.admin_view(getattr(self, f"{name}_view")),
                name=f"quotes_quote_{name}",
            )
            for name in ("answer", "decline")
        ] + super().get_urls()

    def _quote(self, request, object_id: str) -> Quote:
        return self.step_object(request, object_id, ANSWER)

    def _page(self, request, found, form, *, title, intro):
        return self.form_page(
            request, form, title=title, intro=intro, cancel_url=self.change_url(found)
        )

    def _done(self, request, found, result):
        self.log_change(request, result, [{"changed": {"fields": ["status"]}}])
        self.message_user(
            request,
            gettext("Quote %(n)s is %(status)s.")
            % {"n": result.number, "status": result.get_status_display()},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:quotes_quote_change", args=[found.pk]))

    @staticmethod
    def _errors(form, exc: DomainError) -> None:
        for field, words in (exc.errors or {}).items():
            form.add_error(field if field in form.fields else None, list(words))
        if not exc.errors:
            form.add_error(None, str(exc.detail))

    def answer_view(self, request, object_id: str):
        found = self._quote(request, object_id)
        lines = list(found.lines.select_related("product", "product__category"))
        resolved = price_resolve_many(
            customer=found.customer, items=[(line.product, line.quantity) for line in lines]
        )
        engine = {
            line.pk: (money_text(price.unit_net) if price.sellable else "-")
            for line, price in zip(lines, resolved, strict=True)
        }
        form = answer_form_class(found, engine)(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                result = quote_answer(
                    quote=found,
                    by=request.user,
                    prices={line.pk: data.get(f"price_{line.pk}") for line in lines},
                    valid_until=data["valid_until"],
                    note=data["note"],
                    send=data["send"],
                )
            except DomainError as exc:
                self._errors(form, exc)
            else:
                return self._done(request, found, result)
        return self._page(
            request,
            found,
            form,
            title=gettext("Answer quote %(n)s") % {"n": found.number},
            intro=gettext(
                "%(dealer)s asks: %(note)s A sent answer is e-mailed to the dealer, who may "
                "accept it until the validity date (an order at exactly these prices)."
            )
            % {"dealer": f"{found.customer.code} {found.customer.name}", "note": found.note or "-"},
        )

    def decline_view(self, request, object_id: str):
        found = self._quote(request, object_id)
        form = DeclineForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            try:
                result = quote_decline(
                    quote=found, by=request.user, reason=form.cleaned_data["reason"]
                )
            except DomainError as exc:
                self._errors(form, exc)
            else:
                return self._done(request, found, result)
        return self._page(
            request,
            found,
            form,
            title=gettext("Decline quote %(n)s") % {"n": found.number},
            intro=gettext("The dealer is told by e-mail, with your reason."),
        )
