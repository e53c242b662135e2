"""The portal's returns: the company's return requests, a request from a delivered order's
page (lines, reasons, serial numbers, photos) and cancelling one still ``requested``, all
through ``apps.returns.services`` as the API does."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.core.exceptions import DomainError
from apps.core.files import stored_bytes
from apps.orders.models import Order
from apps.portal.forms import line_problems
from apps.portal.views import PortalView, download, field_problems, form_once
from apps.returns.models import ReturnPhoto, ReturnReason, ReturnRequest, ReturnStatus
from apps.returns.services import return_cancel, return_request, return_window_open

RETURN_PERMS = {"GET": "returns.view_returnrequest", "POST": "returns.add_returnrequest"}


class ReturnListView(PortalView):
    perms = {"GET": "returns.view_returnrequest"}

    def get(self, request):
        returns = self.scoped(
            ReturnRequest.objects.select_related("order").order_by("-created_at", "-id")
        )
        status = request.GET.get("status", "")
        if status in ReturnStatus.values:
            returns = returns.filter(status=status)
        page = Paginator(returns, 25).get_page(request.GET.get("page"))
        return self.page(
            "returns.html", page_obj=page, statuses=ReturnStatus.choices, status=status
        )


class ReturnView(PortalView):
    perms = RETURN_PERMS  # POST: cancel, as the API's cancel asks

    def _return(self, number) -> ReturnRequest:
        found = (
            self.scoped(
                ReturnRequest.objects.select_related("order").prefetch_related(
                    "lines", "photos", "status_history"
                )
            )
            .filter(number=number)
            .first()
        )
        if found is None:
            raise Http404
        return found

    def object_lookup(self, *, number) -> None:
        self._return(number)

    def get(self, request, number):
        return self.page("return.html", rma=self._return(number))

    def post(self, request, number):
        rma = self._return(number)
        try:
            return_cancel(request=rma, by=request.user)
            messages.success(request, _("Return %(n)s is cancelled.") % {"n": rma.number})
        except DomainError as exc:
            messages.error(request, field_problems(exc))
        return HttpResponseRedirect(reverse("portal:return", args=[rma.number]))


class ReturnPhotoView(PortalView):
    """A photo sent with one of the company's returns, shown inline."""

    perms = {"GET": "returns.view_returnrequest"}

    def _photo(self, number, photo_id) -> ReturnPhoto:
        found = (
            ReturnPhoto.objects.filter(
                pk=photo_id, request__in=self.scoped(ReturnRequest.objects.filter(number=number))
            )
            .select_related("request")
            .first()
        )
        if found is None:
            raise Http404
        return found

    def object_lookup(self, *, number, photo_id) -> None:
        self._photo(number, photo_id)

    def get(self, request, number, photo_id):
        photo = self._photo(number, photo_id)
        return download(
            stored_bytes,
            photo.file,
            content_type=photo.content_type,
            filename=photo.download_name,
            request=request,
            inline=True,
        )


class ReturnCreateView(PortalView):
    """The return form of one delivered order: a quantity, reason and serial numbers for each
    line to send back, a note and up to five photos."""

    perms = {"GET": "returns.add_returnrequest", "POST": "returns.add_returnrequest"}

    def _order(self, number) -> Order:
        order = self.scoped(Order.objects.prefetch_related("lines")).filter(number=number).first()
        if order is None:
            raise Http404
        return order

    def object_lookup(self, *, number) -> None:
        self._order(number)

    def _context(self, order, posted=None, **extra):
        lines = list(order.lines.all())
        for line in lines:  # what was typed, shown again with the refusal
            line.typed = {
                name: (posted or {}).get(f"{name}_{line.pk}", "")
                for name in ("quantity", "reason", "reason_text", "serials")
            }
        return {
            "order": order,
            "lines": lines,
            "posted": posted,
            "reasons": ReturnReason.choices,
            "window_open": order.status == "delivered" and return_window_open(order),
            **extra,
        }

    def get(self, request, number):
        return self.page("return_form.html", **self._context(self._order(number)))

    def post(self, request, number):
        order = self._order(number)
        lines = []
        for line in order.lines.all():
            quantity = request.POST.get(f"quantity_{line.pk}", "").strip()
            if quantity in ("", "0"):
                continue
            wanted = {
                "sku": line.sku,
                "quantity": quantity,
                "reason": request.POST.get(f"reason_{line.pk}", ""),
            }
            if text := request.POST.get(f"reason_text_{line.pk}", "").strip():
                wanted["reason_text"] = text
            serials = request.POST.get(f"serials_{line.pk}", "").replace(",", " ").split()
            if serials:
                wanted["serial_numbers"] = serials
            lines.append(wanted)
        try:
            number, replayed = form_once(
                request,
                f"return:{order.number}",
                lambda: (
                    return_request(
                        user=request.user,
                        order_number=order.number,
                        lines=lines,
                        note=request.POST.get("note", ""),
                        photos=request.FILES.getlist("photos"),
                    ).number
                ),
            )
        except DomainError as exc:
            return render(
                request,
                "portal/return_form.html",
                self._context(
                    order,
                    error=line_problems(
                        exc,
                        [line["sku"] for line in lines],
                        list_field="lines",
                        labels={"photos": _("Photos")},
                    ),
                    posted=request.POST,
                ),
                status=exc.status_code,
            )
        if replayed:  # a second submit of the same form
            messages.info(request, _("Return %(n)s was requested already.") % {"n": number})
        else:
            messages.success(
                request, _("Return %(n)s is requested: we will let you know.") % {"n": number}
            )
        return HttpResponseRedirect(reverse("portal:return", args=[number]))
