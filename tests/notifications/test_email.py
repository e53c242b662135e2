"""E-mail notifications: registration received, company approved / rejected, password reset
and invitation, each logged (channel, to, template, subject, status, sent_at) and sent through
Django's e-mail backend from a Celery task after the transaction commits; a mail server that
is down leaves a failed entry with the error; the hook for later order and payment e-mails."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.db import transaction
from django.template import TemplateDoesNotExist

from apps.accounts.models import CustomerStatus, DealerRole
from apps.accounts.services.customers import customer_approve, customer_reject
from apps.notifications.models import Notification
from apps.notifications.services import (
    email_message_id,
    email_notify,
    notification_deliver,
    notify_customer_users,
)
from tests.conftest import closed_port
from tests.factories import CustomerFactory, DealerUserFactory

pytestmark = [pytest.mark.django_db]

REGISTER = "/api/v1/auth/register"


def registration(email="owner@anadolu.example"):
    return {
        "company": {
            "name": "Anadolu Elektrik A.Ş.",
            "tax_number": "4540536920",
            "tax_office": "Kadıköy",
            "phone": "+90 216 111 22 33",
        },
        "owner": {
            "email": email,
            "password": "Very-Strong-2026!",
            "first_name": "Mehmet",
            "last_name": "Demir",
        },
        "consents": {"terms": True, "kvkk": True},
    }


def test_registration_received_is_mailed_and_logged_in_the_callers_language(
    api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            REGISTER, registration(), format="json", HTTP_ACCEPT_LANGUAGE="tr"
        )
    assert response.status_code == 202
    # "received" follows the e-mail verification (whose own e-mail is the first)
    link = re.search(r"uid=([\w-]+)&token=([\w-]+)", mail.outbox.pop().body)
    with django_capture_on_commit_callbacks(execute=True):
        verified = api_client.post(
            f"{REGISTER}/verify", {"uid": link.group(1), "token": link.group(2)}
        )
    assert verified.status_code == 204

    (message,) = mail.outbox
    assert message.to == ["owner@anadolu.example"]
    assert "Anadolu Elektrik A.Ş." in message.subject
    assert "Mehmet" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "<p>" in html
    log = Notification.objects.get(template="accounts/registration_received")
    assert (log.channel, log.to, log.template, log.status, log.language) == (
        "email",
        "owner@anadolu.example",
        "accounts/registration_received",
        "sent",
        "tr",
    )
    assert log.subject == message.subject and log.sent_at is not None
    assert log.customer.tax_number == "4540536920" and log.user.email == message.to[0]


def test_nothing_is_mailed_when_the_registration_fails(
    api_client, django_capture_on_commit_callbacks
):
    data = registration()
    data["owner"]["password"] = "short"
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(REGISTER, data, format="json")
    assert response.status_code == 400
    assert mail.outbox == [] and Notification.objects.count() == 0


def test_approval_mails_the_owners_in_the_language_they_registered_in(
    django_capture_on_commit_callbacks,
):
    customer = CustomerFactory(status=CustomerStatus.PENDING, code="D000007")
    owner = DealerUserFactory(customer=customer, role=DealerRole.OWNER, email="o@x.example")
    DealerUserFactory(customer=customer, role=DealerRole.VIEWER)
    Notification.objects.create(
        channel="email",
        to=owner.email,
        template="accounts/registration_received",
        customer=customer,
        language="tr",
        status="sent",
    )

    with django_capture_on_commit_callbacks(execute=True):
        customer_approve(customer=customer, by=None)

    (message,) = mail.outbox
    assert message.to == ["o@x.example"]
    assert "D000007" in message.body
    assert "/portal/login/" in message.body  # where to sign in, not the start page
    log = Notification.objects.get(template="accounts/customer_approved")
    assert (log.status, log.language) == ("sent", "tr")


def test_rejection_mails_the_reason(django_capture_on_commit_callbacks):
    customer = CustomerFactory(status=CustomerStatus.PENDING)
    DealerUserFactory(customer=customer, role=DealerRole.OWNER, email="o@x.example")

    with django_capture_on_commit_callbacks(execute=True):
        customer_reject(customer=customer, reason="Tax number does not match", by=None)

    (message,) = mail.outbox
    assert "Tax number does not match" in message.body
    assert "Tax number does not match" in message.alternatives[0][0]
    assert Notification.objects.get().template == "accounts/customer_rejected"


def test_a_rejected_dealer_is_told_where_to_write_back(
    settings, django_capture_on_commit_callbacks
):
    """The sender is a no-reply address: the rejection used to say "reply to this e-mail". It
    names ``SUPPORT_EMAIL``, which every e-mail also carries as its Reply-To; without one it
    points at the sales representative, and no e-mail asks for a reply."""
    customer = CustomerFactory(status=CustomerStatus.PENDING)
    DealerUserFactory(customer=customer, role=DealerRole.OWNER, email="o@x.example")
    settings.SUPPORT_EMAIL = "destek@distributor.example"

    with django_capture_on_commit_callbacks(execute=True):
        customer_reject(customer=customer, reason="Tax number does not match", by=None)

    (message,) = mail.outbox
    assert message.reply_to == ["destek@distributor.example"]
    # in the company's language (the portal's: Turkish)
    assert "bize yazın: destek@distributor.example" in message.body
    assert '<a href="mailto:destek@distributor.example">' in message.alternatives[0][0]

    settings.SUPPORT_EMAIL = ""
    mail.outbox.clear()
    other = CustomerFactory(status=CustomerStatus.PENDING)
    DealerUserFactory(customer=other, role=DealerRole.OWNER, email="p@x.example")
    with django_capture_on_commit_callbacks(execute=True):
        customer_reject(customer=other, reason="Unknown company", by=None)

    (message,) = mail.outbox
    assert message.reply_to == []
    assert "satış temsilcinizle görüşün" in message.body
    assert "yanıtla" not in message.body  # "reply to this e-mail", as it said
    assert "yanıtla" not in message.alternatives[0][0]


def test_a_company_name_ending_in_a_period_ends_no_sentence(
    settings, django_capture_on_commit_callbacks
):
    """ "Anadolu Ltd. Şti." read "...Ltd. Şti.." in the English rejection: the sentence no
    longer ends on the name."""
    settings.PORTAL_LANGUAGE_CODE = "en"
    customer = CustomerFactory(status=CustomerStatus.PENDING, name="Anadolu Elektrik Ltd. Şti.")
    DealerUserFactory(customer=customer, role=DealerRole.OWNER, email="o@x.example")

    with django_capture_on_commit_callbacks(execute=True):
        customer_reject(customer=customer, reason="Tax number does not match", by=None)

    (message,) = mail.outbox
    assert "Anadolu Elektrik Ltd. Şti. could not be approved" in message.body
    assert ".." not in message.body and ".." not in message.alternatives[0][0]


def test_a_password_reset_link_is_not_kept_in_the_log_once_sent(
    api_client, django_capture_on_commit_callbacks
):
    user = DealerUserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post("/api/v1/auth/password-reset", {"email": user.email})

    assert "token=" in mail.outbox[0].body
    log = Notification.objects.get()
    assert (log.template, log.status, log.context) == ("accounts/password_reset", "sent", {})


def test_a_mail_server_that_is_down_leaves_a_failed_entry(
    settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = False, 2
    user = DealerUserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        email_notify(
            template="accounts/password_reset",
            to=user.email,
            user=user,
            context={"link": "http://x/", "minutes": 60},
        )

    log = Notification.objects.get()
    assert log.status == "failed" and log.sent_at is None
    assert "ConnectionRefusedError" in log.error
    assert log.attempts >= 1
    assert log.context == {"link": "http://x/", "minutes": 60}  # kept for a later retry


def test_the_hook_mails_the_users_of_a_company_in_the_given_roles(
    django_capture_on_commit_callbacks,
):
    customer = CustomerFactory()
    DealerUserFactory(customer=customer, role=DealerRole.OWNER, email="owner@c.example")
    DealerUserFactory(customer=customer, role=DealerRole.FINANCE, email="finance@c.example")
    DealerUserFactory(customer=customer, role=DealerRole.VIEWER, email="viewer@c.example")
    DealerUserFactory(
        customer=customer, role=DealerRole.FINANCE, email="gone@c.example", is_active=False
    )

    with django_capture_on_commit_callbacks(execute=True):
        logs = notify_customer_users(
            customer=customer,
            template="accounts/customer_approved",
            roles=[DealerRole.OWNER, DealerRole.FINANCE],
        )

    assert sorted(log.to for log in logs) == ["finance@c.example", "owner@c.example"]
    assert sorted(m.to[0] for m in mail.outbox) == ["finance@c.example", "owner@c.example"]


def test_nothing_is_sent_for_a_rolled_back_transaction(django_capture_on_commit_callbacks):
    user = DealerUserFactory()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        email_notify(template="accounts/password_reset", to=user.email, user=user)
        raise RuntimeError
    assert mail.outbox == [] and Notification.objects.count() == 0


def test_an_unknown_template_fails_the_entry_not_the_caller(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email_notify(template="orders/not_written_yet", to="a@b.example")
    log = Notification.objects.get()
    assert log.status == "failed" and TemplateDoesNotExist.__name__ in log.error


def test_an_email_sent_again_keeps_its_message_id_in_the_senders_domain(
    settings, django_capture_on_commit_callbacks
):
    """A mail server that took a message but timed out before it answered gets the same
    message again from the retry: the reader's mail program sees one e-mail, not two."""
    settings.DEFAULT_FROM_EMAIL = "Anadolu Dağıtım <no-reply@mail.anadolu.example>"
    user = DealerUserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        email_notify(template="accounts/password_reset", to=user.email, user=user)
    log = Notification.objects.get()
    log.status, log.context = "failed", {"link": "http://x/", "minutes": 60}
    log.save()

    notification_deliver(log)

    first, again = (message.message()["Message-ID"] for message in mail.outbox)
    assert first == again
    assert re.fullmatch(rf"<\d{{14}}\.notification-{log.pk}@mail\.anadolu\.example>", first)
    other = email_notify(template="accounts/password_reset", to=user.email, user=user)
    assert email_message_id(other) != first
