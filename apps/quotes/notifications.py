"""Quote e-mails, both ways (queued in the transaction, sent after it commits):
``quotes/quote_requested`` and ``quotes/quote_accepted`` to sales (the dealer's sales rep, else
every active staff member who may answer quotes and sees every dealer), ``quotes/quote_sent``
to the dealer user who asked, in the company's language."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import translation

from apps.accounts.admin.scoping import sees_every_dealer
from apps.core.links import portal_link
from apps.notifications.services import customer_language, email_notify
from apps.quotes.models import Quote, QuoteStatus


def _sales_contacts(quote: Quote) -> list:
    """The dealer's sales rep, else the active staff who may answer quotes and see every
    dealer: a sales manager who sees only the dealers assigned to them could not open this
    one's quote, and is not sent its lines either."""
    rep = quote.customer.sales_rep
    if rep is not None and rep.is_active and rep.email:
        return [rep]
    answer = Q(groups__permissions__codename="answer_quote") | Q(
        user_permissions__codename="answer_quote"
    )
    staff = (
        get_user_model()
        .objects.filter(answer | Q(is_superuser=True), is_staff=True, is_active=True)
        .exclude(email="")
        .distinct()
        .order_by("id")
    )
    return [user for user in staff[:100] if sees_every_dealer(user)][:20]


def _context(quote: Quote) -> dict:
    return {
        "number": quote.number,
        "company_name": quote.customer.name,
        "customer_code": quote.customer.code,
        "version": quote.version,
        "declined": quote.status == QuoteStatus.DECLINED,  # whatever an earlier version said
        "valid_until": quote.valid_until.isoformat() if quote.valid_until else "",
        "note": quote.note,
        "staff_note": quote.staff_note,
        "currency": settings.CURRENCY,
        "order_number": quote.order.number if quote.order_id else "",
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                # all four places: the mail's ``amount`` shows a third and fourth when they
                # are not zero, as the order placed at this price will charge them
                "unit_net": f"{line.unit_net:.4f}" if line.unit_net is not None else "",
            }
            for line in quote.lines.all()
        ],
        "portal_url": portal_link("quotes", quote.number),
    }


def quote_staff_notify(quote: Quote, *, template: str) -> None:
    """``quotes/quote_requested`` or ``quotes/quote_accepted`` to sales."""
    context = _context(quote)
    for user in _sales_contacts(quote):
        email_notify(template=template, to=user.email, context=context, user=user)


def quote_sent_notify(quote: Quote) -> None:
    user = quote.requested_by
    if user is None or not user.is_active or not user.email:
        return
    language = customer_language(quote.customer)
    with translation.override(language):
        context = _context(quote)
    email_notify(
        template="quotes/quote_sent",
        to=user.email,
        context=context,
        user=user,
        customer=quote.customer,
        language=language,
    )
