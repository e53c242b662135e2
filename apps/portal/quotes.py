"""Quotes in the portal: the company's quote requests, a new request (SKUs and quantities with
an optional target price, or the cart's lines), and a sent quote's page where it is accepted
(an order at exactly the quoted prices, through the API's ``quote_accept``) or rejected."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.accounts.models import Address
from apps.core.clock import business_today
from apps.core.exceptions import DomainError
from apps.core.money import line_amounts
from apps.orders.models import Order, PaymentMethod
from apps.portal.forms import (
    ORDER_FIELDS,
    amount_typed,
    line_problems,
    order_form_posted,
    posted_id,
)
from apps.portal.views import PortalView, form_once
from apps.quotes.models import Quote, QuoteStatus
from apps.quotes.services import quote_accept, quote_reject, quote_request

ENTRY_ROWS = 6


def _entries(posted) -> list[dict[str, str]]:
    """The form's line boxes: as they were sent, beside the problems of the lines (a request
    refused for one unknown SKU kept none of the lines typed), else empty."""
    columns = ("sku", "quantity", "target_price")
    sent = {name: posted.getlist(name)[:200] for name in columns} if posted is not None else {}
    rows = max([ENTRY_ROWS, *(len(values) for values in sent.values())])

    def cell(name: str, i: int) -> str:
        values = sent.get(name) or []
        return values[i] if i < len(values) else ""

    return [{"index": i} | {name: cell(name, i) for name in columns} for i in range(rows)]


class QuoteListView(PortalView):
    perms = {"GET": "quotes.view_quote", "POST": "quotes.add_quote"}

    def _context(self, request, **extra):
        quotes = self.scoped(Quote.objects.select_related("order").order_by("-created_at", "-id"))
        status = request.GET.get("status", "")
        if status in QuoteStatus.values:
            quotes = quotes.filter(status=status)
        return {
            "page_obj": Paginator(quotes, 25).get_page(request.GET.get("page")),
            "statuses": QuoteStatus.choices,
            "status": status,
            "entries": _entries(extra.get("posted")),
            **extra,
        }

    def get(self, request):
        return self.page("quotes.html", **self._context(request))

    def post(self, request):
        """A new request: the typed lines, or the cart's (``from_cart``)."""
        from_cart = "from_cart" in request.POST
        lines = []
        try:
            if not from_cart:
                skus = request.POST.getlist("sku")
                quantities = request.POST.getlist("quantity")
                targets = request.POST.getlist("target_price")
                for index, sku in enumerate(skus[:200]):
                    if not sku.strip():
                        continue
                    line = {
                        "sku": sku.strip(),
                        "quantity": (quantities[index] if index < len(quantities) else "") or "1",
                    }
                    lines.append(line)
                    typed = targets[index] if index < len(targets) else ""
                    target = amount_typed(typed, f"lines.{len(lines) - 1}.target_price")
                    if target:
                        line["target_price"] = target
            number, replayed = form_once(
                request,
                "quote",
                lambda: (
                    quote_request(
                        user=request.user,
                        lines=lines,
                        note=request.POST.get("note", ""),
                        valid_until_wanted=request.POST.get("valid_until_wanted") or None,
                        from_cart=from_cart,
                    ).number
                ),
            )
        except DomainError as exc:
            return render(
                request,
                "portal/quotes.html",
                self._context(
                    request,
                    error=line_problems(exc, [line["sku"] for line in lines], list_field="lines"),
                    posted=request.POST,
                ),
                status=exc.status_code,
            )
        if replayed:  # a second submit of the same form
            messages.info(request, _("Quote request %(n)s was sent already.") % {"n": number})
        else:
            messages.success(
                request,
                _("Quote request %(n)s is sent: we will e-mail you our prices.") % {"n": number},
            )
        return HttpResponseRedirect(reverse("portal:quote", args=[number]))


class QuoteView(PortalView):
    perms = {"GET": "quotes.view_quote", "POST": "quotes.add_quote"}

    def _quote(self, number) -> Quote:
        found = (
            self.scoped(Quote.objects.select_related("order").prefetch_related("lines"))
            .filter(number=number)
            .first()
        )
        if found is None:
            raise Http404
        return found

    def object_lookup(self, *, number) -> None:
        self._quote(number)

    def _context(self, quote: Quote, **extra):
        lines, net, vat = [], 0, 0
        for line in quote.lines.all():
            amounts = None
            if quote.priced and line.unit_net is not None:
                amounts = line_amounts(line.unit_net, line.quantity, line.vat_rate)
                net, vat = net + amounts[0], vat + amounts[1]
            lines.append({"line": line, "amounts": amounts})
        addresses = self.scoped(Address.objects.order_by("-is_default", "title"))
        return {
            "quote": quote,
            "lines": lines,
            "totals": {"net": net, "vat": vat, "gross": net + vat} if quote.priced else None,
            "acceptable": quote.status == QuoteStatus.SENT
            and quote.valid_until is not None
            and quote.valid_until >= business_today(),
            "shipping": [a for a in addresses if a.type == Address.Type.SHIPPING],
            "billing": [a for a in addresses if a.type == Address.Type.BILLING],
            "methods": PaymentMethod.choices,
            **extra,
        }

    def get(self, request, number):
        return self.page("quote.html", **self._context(self._quote(number)))

    def post(self, request, number):
        quote = self._quote(number)
        try:
            if request.POST.get("action") == "reject":
                quote_reject(quote=quote, user=request.user, reason=request.POST.get("reason", ""))
                messages.success(request, _("Quote %(n)s is rejected.") % {"n": quote.number})
                return HttpResponseRedirect(reverse("portal:quote", args=[quote.number]))
            if not request.user.has_perm("orders.place_order"):
                raise PermissionDenied
            number_placed, replayed = form_once(
                request,
                "quote-accept",
                lambda: (
                    quote_accept(
                        quote=quote,
                        user=request.user,
                        **order_form_posted(request),
                        # the version on the page: a counter-offer sent meanwhile is not taken blind
                        version=posted_id(request.POST.get("version"), "version"),
                    ).number
                ),
            )
        except DomainError as exc:
            quote = self._quote(number)  # as it is now (an expiry at acceptance is recorded)
            return render(
                request,
                "portal/quote.html",
                self._context(
                    quote,
                    # an error on ``lines.N`` names its product, a short line says what is there
                    error=" ".join(
                        line_problems(
                            exc,
                            [line.sku for line in quote.lines.all()],
                            list_field="lines",
                            labels=ORDER_FIELDS,
                        )
                    ),
                    posted=request.POST,
                ),
                status=exc.status_code,
            )
        if not replayed:  # a double click: the first submit's order, told once
            order = Order.objects.get(number=number_placed)
            messages.success(
                request,
                _(
                    "Quote %(q)s is accepted: order %(n)s is placed at the quoted prices "
                    "(%(status)s)."
                )
                % {"q": quote.number, "n": order.number, "status": order.get_status_display()},
            )
        return HttpResponseRedirect(reverse("portal:order", args=[number_placed]))
