"""E-mails of the accounts domain, sent off the request path. Safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from apps.accounts.models import User


def _send(*, to: str, template: str, context: dict, language: str | None = None) -> None:
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"emails/accounts/{template}_subject.txt", context).strip()
        text = render_to_string(f"emails/accounts/{template}.txt", context)
        html = render_to_string(f"emails/accounts/{template}.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    message.send()


@shared_task(
    name="accounts.send_password_reset_email",
    autoretry_for=(OSError,),
    max_retries=5,
    retry_backoff=True,
)
def send_password_reset_email(user_id: int, uid: str, token: str, invite: bool = False) -> None:
    user = User.objects.filter(pk=user_id).select_related("customer").first()
    if user is None:
        return
    link = f"{settings.PASSWORD_RESET_URL}?uid={uid}&token={token}"
    _send(
        to=user.email,
        template="invitation" if invite else "password_reset",
        context={
            "user": user,
            "link": link,
            "uid": uid,
            "token": token,
            "minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
            "company": user.customer,
        },
    )
