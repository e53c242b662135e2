"""Quote e-mails, both ways (queued in the transaction, sent after it commits):
``quotes/quote_requested`` and ``quotes/quote_accepted`` to sales (``staff_alert``: the
dealer's sales rep, else the staff who may answer quotes and see every dealer), in the back
office's language; ``quotes/quote_sent`` to the dealer user who asked, in the company's
language."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation

from apps.accounts.services.alerts import staff_alert
from apps.core.links import back_office_link, portal_link
from apps.notifications.services import customer_language, email_notify
from apps.quotes.models import Quote, QuoteStatus


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
                "target_price": (
                    f"{line.target_price:.4f}" if line.target_price is not None else ""
                ),
            }
            for line in quote.lines.all()
        ],
        "portal_url": portal_link("quotes", quote.number),
    }


def quote_staff_notify(quote: Quote, *, template: str) -> None:
    """``quotes/quote_requested`` or ``quotes/quote_accepted`` to sales, in their language."""
    staff_alert(
        customer=quote.customer,
        permission="quotes.answer_quote",
        template=template,
        context=lambda: {
            **_context(quote),
            "back_office_url": back_office_link(
                "admin:quotes_quote_answer"
                if template == "quotes/quote_requested"
                else "admin:quotes_quote_change",
                quote.pk,
            ),
        },
    )


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
