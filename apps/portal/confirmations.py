"""Balance confirmations (mutabakat) in the portal: the ones the distributor sent, and the
owner's or finance user's answer (confirm, or dispute with what does not match and their own
figure), through ``apps.finance.services.confirmations`` as the API does."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.core.exceptions import DomainError
from apps.finance.models import BalanceConfirmation
from apps.finance.services.confirmations import confirmation_confirm, confirmation_dispute
from apps.portal.forms import amount_typed
from apps.portal.views import PortalView, field_problems

READ = "finance.view_ledgerentry"
ANSWER = "finance.answer_balanceconfirmation"


class ConfirmationListView(PortalView):
    perms = {"GET": READ}

    def get(self, request):
        confirmations = self.scoped(BalanceConfirmation.objects.order_by("-as_of", "-id"))
        page = Paginator(confirmations, 25).get_page(request.GET.get("page"))
        return self.page("confirmations.html", page_obj=page)


class ConfirmationView(PortalView):
    perms = {"GET": READ, "POST": ANSWER}

    def _confirmation(self, pk) -> BalanceConfirmation:
        found = (
            self.scoped(BalanceConfirmation.objects.select_related("answered_by"))
            .filter(pk=pk)
            .first()
        )
        if found is None:
            raise Http404
        return found

    def object_lookup(self, *, pk) -> None:
        self._confirmation(pk)

    def get(self, request, pk):
        return self.page("confirmation.html", confirmation=self._confirmation(pk))

    def post(self, request, pk):
        confirmation = self._confirmation(pk)
        try:
            if request.POST.get("answer") == "confirm":
                confirmation_confirm(confirmation=confirmation, by=request.user)
                messages.success(request, _("Thank you: the balance is confirmed."))
            else:
                confirmation_dispute(
                    confirmation=confirmation,
                    by=request.user,
                    reason=request.POST.get("reason", ""),
                    their_balance=(
                        amount_typed(request.POST.get("their_balance", ""), "their_balance") or None
                    ),
                )
                messages.success(
                    request, _("Your objection is recorded: our accounting will contact you.")
                )
        except DomainError as exc:
            return render(
                request,
                "portal/confirmation.html",
                {
                    # as it is now: a late answer finds it deemed accepted, not open
                    "confirmation": self._confirmation(pk),
                    "errors": exc.errors or {},
                    "error": field_problems(exc),
                    "posted": request.POST,
                },
                status=exc.status_code,
            )
        return HttpResponseRedirect(reverse("portal:confirmation", args=[confirmation.pk]))
