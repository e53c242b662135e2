"""Requisition lists in the portal: the lists a user sees (their own and the company's shared
ones), one list's lines (change, remove, add a SKU, import a file, export CSV), its lines (or
the ticked ones) into the cart with each line's problem said, "Add to list" from a product
page and "Save as a list" from an order, all through ``apps.orders.services.lists``."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from apps.core.exceptions import DomainError
from apps.orders.models import Order, RequisitionListItem
from apps.orders.selectors import requisition_list_detail_queryset, requisition_list_visible
from apps.orders.services.lists import (
    list_create,
    list_csv,
    list_delete,
    list_import,
    list_item_add,
    list_item_delete,
    list_item_update,
    list_to_cart,
    list_update,
)
from apps.portal.forms import posted_id
from apps.portal.views import BUY_PERMS, PortalView, added_once, field_problems
from apps.pricing.lines import products_by_sku


def _say(request, exc: DomainError) -> None:
    messages.error(request, field_problems(exc))


class ListIndexView(PortalView):
    perms = BUY_PERMS  # lists are for those who order, as in the API

    def _lists(self, request):
        return requisition_list_detail_queryset(
            requisition_list_visible(user=request.user)
        ).order_by("name", "id")

    def get(self, request):
        return self.page("lists.html", lists=list(self._lists(request)))

    def post(self, request):
        try:
            created = list_create(
                user=request.user,
                name=request.POST.get("name", ""),
                shared="shared" in request.POST,
            )
        except DomainError as exc:
            # a mistake of the name beside it, with what was typed; anything else above
            errors = exc.errors or {}
            return render(
                request,
                "portal/lists.html",
                {
                    "lists": list(self._lists(request)),
                    "errors": errors,
                    "error": "" if "name" in errors else field_problems(exc),
                    "posted": request.POST,
                },
                status=exc.status_code,
            )
        return HttpResponseRedirect(reverse("portal:list", args=[created.pk]))


class ListView(PortalView):
    perms = BUY_PERMS

    def _list(self, request, pk):
        found = (
            requisition_list_detail_queryset(requisition_list_visible(user=request.user))
            .filter(pk=pk)
            .first()
        )
        if found is None:
            raise Http404
        return found

    def object_lookup(self, *, pk) -> None:
        self._list(self.request, pk)

    def get(self, request, pk):
        reqlist = self._list(request, pk)
        if request.GET.get("format") == "csv":
            response = HttpResponse(list_csv(reqlist=reqlist), content_type="text/csv")
            response["Content-Disposition"] = f'attachment; filename="list-{reqlist.pk}.csv"'
            return response
        return self.page("list.html", reqlist=reqlist, editable=reqlist.can_edit(by=request.user))

    def post(self, request, pk):
        reqlist = self._list(request, pk)
        action = request.POST.get("action", "")
        here = reverse("portal:list", args=[reqlist.pk])
        try:
            if action == "to_cart":
                return self._to_cart(request, reqlist)
            if action == "add":
                try:
                    list_item_add(
                        by=request.user,
                        reqlist=reqlist,
                        sku=request.POST.get("sku", "").strip(),
                        quantity=request.POST.get("quantity", "1") or "1",
                    )
                except DomainError as exc:  # beside the field, with what was typed
                    return self._refused_add(request, reqlist, exc)
            elif action == "quantity":
                list_item_update(
                    by=request.user,
                    item=self._item(reqlist, request.POST.get("item")),
                    quantity=request.POST.get("quantity", ""),
                )
            elif action == "remove":
                list_item_delete(
                    by=request.user, item=self._item(reqlist, request.POST.get("item"))
                )
            elif action == "rename":
                list_update(
                    by=request.user,
                    reqlist=reqlist,
                    name=request.POST.get("name", ""),
                    shared="shared" in request.POST,
                )
            elif action == "import":
                result = list_import(
                    by=request.user, reqlist=reqlist, upload=request.FILES.get("file")
                )
                messages.success(
                    request,
                    _("%(n)d of %(rows)d lines were added to the list.")
                    % {"n": result.added, "rows": result.rows},
                )
                for error in result.errors:
                    messages.error(
                        request, f"{error['line']}. {error['sku'] or '-'}: {error['error']}"
                    )
            elif action == "delete":
                list_delete(by=request.user, reqlist=reqlist)
                messages.success(request, _("The list is deleted."))
                return HttpResponseRedirect(reverse("portal:lists"))
            else:
                raise Http404
        except DomainError as exc:
            _say(request, exc)
        return HttpResponseRedirect(here)

    def _refused_add(self, request, reqlist, exc: DomainError):
        errors = {
            ("quantity" if name == "quantity" else "sku"): messages_
            for name, messages_ in (exc.errors or {"sku": [field_problems(exc)]}).items()
        }
        return render(
            request,
            "portal/list.html",
            {
                "reqlist": reqlist,
                "editable": reqlist.can_edit(by=request.user),
                "errors": errors,
                "posted": request.POST,
            },
            status=exc.status_code,
        )

    @staticmethod
    def _item(reqlist, pk) -> RequisitionListItem:
        item = next((i for i in reqlist.items.all() if str(i.pk) == str(pk)), None)
        if item is None:
            raise Http404
        return item

    def _to_cart(self, request, reqlist):
        chosen = [posted_id(value, "item_ids") for value in request.POST.getlist("item_ids")]
        result = added_once(
            request,
            "list-to-cart",
            lambda: list_to_cart(
                user=request.user,
                reqlist=reqlist,
                item_ids=[pk for pk in chosen if pk is not None] or None,  # none ticked: all
            ),
        )
        if result is None:  # the same form again: in the cart once already
            return HttpResponseRedirect(reverse("portal:cart"))
        if result.added:
            messages.success(
                request,
                _("%(n)d lines of the list are in your cart.") % {"n": len(result.added)},
            )
        for problem in result.problems:
            messages.error(request, f"{problem['sku']}: {problem['message']}")
        return HttpResponseRedirect(reverse("portal:cart"))


class ListAddView(PortalView):
    """ "Add to list" from a product page: to one of the user's lists, or a new one."""

    perms = {"POST": "orders.place_order"}
    http_method_names = ["post"]

    def post(self, request):
        sku = request.POST.get("sku", "").strip()
        quantity = request.POST.get("quantity", "1") or "1"
        target = request.POST.get("list", "")
        try:
            if target == "new":
                reqlist = list_create(
                    user=request.user,
                    name=request.POST.get("name", "") or _("My list"),
                    items=[{"sku": sku, "quantity": quantity}],
                )
            else:
                reqlist = (
                    requisition_list_visible(user=request.user)
                    .filter(pk=posted_id(target, "list"))
                    .first()
                )
                if reqlist is None:
                    raise Http404
                list_item_add(by=request.user, reqlist=reqlist, sku=sku, quantity=quantity)
            messages.success(request, _("Added to the list “%(name)s”.") % {"name": reqlist.name})
        except DomainError as exc:
            _say(request, exc)
        back = request.POST.get("back", "")
        if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            return HttpResponseRedirect(back)
        return HttpResponseRedirect(reverse("portal:lists"))


class OrderToListView(PortalView):
    """ "Save as a list" from an order: a new private list of its lines."""

    perms = {"POST": "orders.place_order"}
    http_method_names = ["post"]

    def object_lookup(self, *, number) -> None:
        if not self.scoped(Order.objects.all()).filter(number=number).exists():
            raise Http404

    def post(self, request, number):
        order = self.scoped(Order.objects.prefetch_related("lines")).filter(number=number).first()
        if order is None:
            raise Http404
        lines = list(order.lines.all())
        # a product no longer sold is left out and named, as "Order again" does: it blocked
        # the whole list with a bare "Unknown product."
        sold = products_by_sku(line.sku for line in lines)
        kept = [line for line in lines if line.sku in sold]
        if not kept:
            messages.error(request, _("None of the order's products is sold any more."))
            return HttpResponseRedirect(reverse("portal:order", args=[order.number]))
        try:
            reqlist = list_create(
                user=request.user,
                name=_("Order %(n)s") % {"n": order.number},
                items=[{"sku": line.sku, "quantity": line.quantity} for line in kept],
            )
        except DomainError as exc:
            _say(request, exc)
            return HttpResponseRedirect(reverse("portal:order", args=[order.number]))
        messages.success(request, _("The order's lines are saved as a list."))
        for line in lines:
            if line.sku not in sold:
                messages.warning(request, f"{line.sku}: {_('No longer sold.')}")
        return HttpResponseRedirect(reverse("portal:list", args=[reqlist.pk]))
