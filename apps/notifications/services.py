"""Sending e-mail and SMS: ``email_notify`` / ``sms_notify`` log a ``Notification`` and queue
its sending (a Celery task, after the transaction commits); ``notify_customer_users`` e-mails
every active user of a company in some roles (the hook for order and payment e-mails).

E-mail templates live in ``templates/emails/<template>{_subject.txt,.txt,.html}`` and get the
notification's ``context`` plus ``user``, ``customer`` and ``company`` (the customer); SMS
templates in ``templates/sms/<template>.txt``. Both are rendered in the notification's
language (unless given: the recipient's company's, ``customer_language``, else the active
language when it was queued), so every string goes through gettext.
"""

from __future__ import annotations

from collections.abc import Iterable
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME
from django.template.loader import render_to_string
from django.utils import timezone, translation

from apps.core.transactions import after_commit
from apps.notifications.models import Notification
from apps.notifications.sms import get_sms_backend, normalize_phone

# what exists, for the admin and for later domains (orders and payments fill theirs in)
EMAIL_TEMPLATES = {
    "accounts/registration_verify": "a company registered; its owner verifies the e-mail",
    "accounts/registration_received": "a registration was verified; waits for approval",
    "accounts/registration_waiting": "staff: a verified registration waits for approval",
    "accounts/registration_email_taken": "a registration named an address that has an account",
    "accounts/registration_duplicate_tax_number": "staff: a registration named a known tax no.",
    "accounts/customer_approved": "staff approved a registration",
    "accounts/customer_rejected": "staff rejected a registration (with the reason)",
    "accounts/password_reset": "a password reset link",
    "accounts/invitation": "a new company user chooses a password",
    "finance/payment_reminder": "invoices due soon or overdue (owners and finance users)",
    "finance/balance_confirmation": "a balance confirmation (mutabakat) to answer",
    "finance/confirmation_disputed": "finance staff: a dealer disputed a balance confirmation",
    "orders/approval_needed": "owners: a purchasing user's order over its limit waits for them",
    "orders/credit_approval_waiting": "finance staff: an order waits for credit approval",
    "returns/return_requested": "staff: a dealer asked for a return",
    "quotes/quote_requested": "sales: a dealer asked for a quote",
    "quotes/quote_sent": "a quote's prices (or its refusal) to the dealer who asked",
    "quotes/quote_accepted": "sales: a dealer accepted a quote (the order's number)",
}
SMS_TEMPLATES = {"otp": "a one-time code", "payment_reminder": "invoices due soon or overdue"}


# the e-mail a company's registration sends first: it is written in the language the company
# registered in, which then is the company's (``customer_language``)
REGISTRATION_TEMPLATE = "accounts/registration_verify"


def _language(language: str | None, *, user=None, customer=None) -> str:
    """``language`` if given; else, for someone of a company, the company's language (a reset
    link or a sign-in code reaches a dealer in the dealer's language, not in that of the request
    or of the worker that sends it); else the active language."""
    if language:
        return language
    company = customer if customer is not None else getattr(user, "customer", None)
    if company is not None:
        return customer_language(company)
    return translation.get_language() or settings.LANGUAGE_CODE


def _queue(notification: Notification) -> Notification:
    def send():
        # here, not at the top: the tasks module imports this one (the task calls the service)
        from apps.notifications.tasks import notification_send

        notification_send.delay(notification.pk)

    # robust: a mail server or broker that is down never fails the request that committed
    after_commit(send, name="send notification")
    return notification


def email_notify(
    *,
    template: str,
    to: str,
    context: dict[str, Any] | None = None,
    user=None,
    customer=None,
    language: str | None = None,
) -> Notification:
    """Queue an e-mail from ``template`` to ``to`` (sent after the transaction commits)."""
    return _queue(
        Notification.objects.create(
            channel=Notification.Channel.EMAIL,
            to=to,
            template=template,
            context=context or {},
            language=_language(language, user=user, customer=customer),
            user=user,
            customer=customer if customer is not None else getattr(user, "customer", None),
        )
    )


def sms_notify(
    *,
    template: str,
    to: str,
    context: dict[str, Any] | None = None,
    user=None,
    customer=None,
    language: str | None = None,
) -> Notification:
    """Queue an SMS from ``templates/sms/<template>.txt`` to the number ``to`` (OTP codes,
    order notices)."""
    return _queue(
        Notification.objects.create(
            channel=Notification.Channel.SMS,
            to=normalize_phone(to),
            template=template,
            context=context or {},
            language=_language(language, user=user, customer=customer),
            user=user,
            customer=customer if customer is not None else getattr(user, "customer", None),
        )
    )


def notify_customer_users(
    *,
    customer,
    template: str,
    context: dict[str, Any] | None = None,
    roles: Iterable[str] | None = None,
    language: str | None = None,
) -> list[Notification]:
    """E-mail every active user of ``customer`` (those of ``roles`` only, when given): the
    hook order and payment e-mails use (``orders/order_placed``, ``payments/succeeded``...)."""
    users = customer.users.filter(is_active=True, is_deleted=False).order_by("id")
    if roles is not None:
        users = users.filter(role__in=list(roles))
    return [
        email_notify(
            template=template,
            to=user.email,
            context=context,
            user=user,
            customer=customer,
            language=language,
        )
        for user in users
    ]


def customer_language(customer) -> str:
    """The language of a company's e-mails and SMS: the one it registered in (its first
    registration e-mail's), else the portal's (``PORTAL_LANGUAGE_CODE``: a dealer the ERP or
    staff created reads what the portal speaks). Staff decisions, the worker's reminders and a
    reset link asked for without a language all reach the dealer in the dealer's language."""
    registered = (
        Notification.objects.filter(customer=customer, template=REGISTRATION_TEMPLATE)
        .order_by("id")
        .values_list("language", flat=True)
        .first()
    )
    return registered or settings.PORTAL_LANGUAGE_CODE


def _template_context(notification: Notification) -> dict[str, Any]:
    return {
        **notification.context,
        "user": notification.user,
        "customer": notification.customer,
        "company": notification.customer,
        "support_email": settings.SUPPORT_EMAIL,
    }


def email_render(notification: Notification) -> tuple[str, str, str]:
    """``(subject, text, html)`` of an e-mail notification, in its language."""
    context = _template_context(notification)
    base = f"emails/{notification.template}"
    with translation.override(notification.language):
        subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
        text = render_to_string(f"{base}.txt", context)
        html = render_to_string(f"{base}.html", context)
    return subject, text, html


def email_message_id(notification: Notification) -> str:
    """One Message-ID per notification, whatever the number of tries, in the sender's
    domain: a copy sent again after a mail server took the first one but timed out before it
    answered is the same message to the reader's mail program, not a second e-mail. (Django's
    own would be new on every try, in the host's name: a container's id in a deployment.)"""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or str(DNS_NAME)
    stamp = notification.created_at.strftime("%Y%m%d%H%M%S")
    return f"<{stamp}.notification-{notification.pk}@{domain}>"


def notification_deliver(notification: Notification) -> None:
    """Send it now; the log says sent, or failed with the error (then the error is raised
    again, for the task to retry)."""
    try:
        if notification.channel == Notification.Channel.EMAIL:
            subject, text, html = email_render(notification)
            notification.subject = subject[:255]
            message = EmailMultiAlternatives(
                subject,
                text,
                settings.DEFAULT_FROM_EMAIL,
                [notification.to],
                reply_to=[settings.SUPPORT_EMAIL] if settings.SUPPORT_EMAIL else None,
                headers={"Message-ID": email_message_id(notification)},
            )
            message.attach_alternative(html, "text/html")
            message.send()
        else:
            with translation.override(notification.language):
                text = render_to_string(
                    f"sms/{notification.template}.txt", _template_context(notification)
                ).strip()
            # a one-time code is not kept in the log, not even in the subject
            notification.subject = (
                "(one-time code)" if notification.template == "otp" else text[:255]
            )
            notification.provider_id = get_sms_backend().send(to=notification.to, text=text)[:100]
    except Exception as exc:
        notification.status = Notification.Status.FAILED
        notification.attempts += 1
        notification.attempted_at = timezone.now()
        notification.error = f"{type(exc).__name__}: {exc}"[:500]
        notification.save(update_fields=["status", "attempts", "attempted_at", "error", "subject"])
        raise
    notification.status = Notification.Status.SENT
    notification.attempts += 1
    notification.error = ""
    notification.sent_at = notification.attempted_at = timezone.now()
    notification.context = {}  # links and codes are not kept once sent
    notification.save(
        update_fields=[
            "status",
            "attempts",
            "error",
            "sent_at",
            "attempted_at",
            "context",
            "subject",
            "provider_id",
        ]
    )
