"""Payment reminders: each morning (celery beat, ``finance.payment_reminders``) every dealer
with open invoices due within ``PAYMENT_REMINDER_DAYS_BEFORE`` days, or overdue, gets one
e-mail per stage listing them (and an SMS, a transactional message), to its owners and finance
users. An invoice is reminded at most once per stage: the ``PaymentReminder`` row is claimed
(``INSERT ... ON CONFLICT DO NOTHING``) before anything is queued, so two runs never both send.
Suspending a dealer for debt stays a staff decision (the customer admin's action)."""

from __future__ import annotations

import contextlib
import datetime
from collections import defaultdict

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation

from apps.core.clock import business_today
from apps.core.links import portal_link
from apps.finance.models import Invoice, PaymentReminder
from apps.finance.selectors import finance_contacts, invoice_queryset, overdue_total
from apps.notifications.services import customer_language, email_notify, sms_notify

Stage = PaymentReminder.Stage


def _due(today: datetime.date, customer_ids=None) -> dict[str, list[Invoice]]:
    """The open invoices of each stage not reminded of it yet (of ``customer_ids`` only, when
    given)."""
    soon = today + datetime.timedelta(days=settings.PAYMENT_REMINDER_DAYS_BEFORE)
    candidates = (
        invoice_queryset(today=today)
        .filter(open_amount__gt=0, due_date__lte=soon)
        .select_related("customer")
        .order_by("customer_id", "due_date", "id")
    )
    if customer_ids is not None:
        candidates = candidates.filter(customer_id__in=list(customer_ids))
    stages: dict[str, list[Invoice]] = {Stage.DUE_SOON: [], Stage.OVERDUE: []}
    for invoice in candidates.prefetch_related("reminders"):
        # due today is "due soon" (today): an invoice the ERP sends on its due date (cash
        # terms, a late push) was first heard of when overdue
        stage = Stage.OVERDUE if invoice.due_date < today else Stage.DUE_SOON
        if stage not in {r.stage for r in invoice.reminders.all()}:
            stages[stage].append(invoice)
    return stages


def _claim(invoices: list[Invoice], stage: str, today: datetime.date) -> set[int]:
    """Record the reminders; the ids of the invoices this run claimed (not another run)."""
    if not invoices:
        return set()
    now = timezone.now()
    if connection.vendor != "postgresql":  # the demo's SQLite: one writer at a time
        done = set(
            PaymentReminder.objects.filter(invoice__in=invoices, stage=stage).values_list(
                "invoice_id", flat=True
            )
        )
        fresh = [i for i in invoices if i.pk not in done]
        PaymentReminder.objects.bulk_create(
            PaymentReminder(
                invoice=i, stage=stage, open_amount=i.open_amount, sent_on=today, created_at=now
            )
            for i in fresh
        )
        return {i.pk for i in fresh}
    table = PaymentReminder._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (invoice_id, stage, open_amount, sent_on, created_at) "  # noqa: S608
            "SELECT * FROM unnest(%s::bigint[], %s::text[], %s::numeric[], %s::date[], "
            "%s::timestamptz[]) ON CONFLICT (invoice_id, stage) DO NOTHING RETURNING invoice_id",
            [
                [i.pk for i in invoices],
                [stage] * len(invoices),
                [i.open_amount for i in invoices],
                [today] * len(invoices),
                [now] * len(invoices),
            ],
        )
        return {row[0] for row in cursor.fetchall()}


def payment_reminders_send(
    *, today: datetime.date | None = None, customer_ids=None
) -> dict[str, int]:
    """Send the day's reminders (to the dealers of ``customer_ids`` only, when given):
    ``{stage: invoices reminded}``."""
    today = today or business_today()
    sent = {}
    for stage, invoices in _due(today, customer_ids).items():
        with transaction.atomic():
            claimed = _claim(invoices, stage, today)
            by_customer: dict[int, list[Invoice]] = defaultdict(list)
            for invoice in invoices:
                if invoice.pk in claimed:
                    by_customer[invoice.customer_id].append(invoice)
            for batch in by_customer.values():
                _notify(batch[0].customer, batch, stage, today)
        sent[stage] = len(claimed)
    return sent


def _notify(customer, invoices: list[Invoice], stage: str, today: datetime.date) -> None:
    language = customer_language(customer)
    context = {
        "stage": stage,
        "distributor": settings.COMPANY_NAME,
        "currency": settings.CURRENCY,
        "total": f"{sum(i.open_amount for i in invoices):.2f}",  # of the invoices named
        # what the dealer owes past due in all (the invoices named may be the newest only)
        "overdue": f"{overdue_total(customer=customer, today=today):.2f}",
        "count": len(invoices),
        "portal_url": portal_link("invoices"),
        "invoices": [
            {
                "number": i.number,
                "due_date": i.due_date.isoformat(),
                "days": abs((i.due_date - today).days),
                "open_amount": f"{i.open_amount:.2f}",
            }
            for i in invoices
        ],
    }
    users = finance_contacts(customer=customer)
    with translation.override(language):
        for user in users:
            email_notify(
                template="finance/payment_reminder",
                to=user.email,
                context=context,
                user=user,
                customer=customer,
                language=language,
            )
            # a number the SMS provider cannot take: the e-mail went
            if user.phone:
                with contextlib.suppress(ValueError):
                    sms_notify(
                        template="payment_reminder",
                        to=user.phone,
                        context=context,
                        user=user,
                        customer=customer,
                        language=language,
                    )
