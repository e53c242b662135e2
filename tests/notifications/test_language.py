"""The language of what a dealer receives is the company's (``customer_language``): the one it
registered in, else the portal's (``PORTAL_LANGUAGE_CODE``, Turkish) for a company the ERP or
staff created. Not that of the request that caused the e-mail (an English-speaking API call, a
staff member's admin), nor that of the worker that sends it, nor that of the company's first
e-mail whatever it was."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.utils import translation

from apps.accounts.services.auth import password_link_send
from apps.notifications.models import Notification
from apps.notifications.services import customer_language
from tests.factories import (
    DEFAULT_PASSWORD,
    DealerUserFactory,
    StaffUserFactory,
)
from tests.notifications.test_email import REGISTER, registration
from tests.orders.conftest import Shop, place

pytestmark = [pytest.mark.django_db]


def test_a_company_the_erp_created_gets_a_reset_link_asked_in_english_in_turkish(
    api_client, django_capture_on_commit_callbacks
):
    user = DealerUserFactory(first_name="Ayşe")
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post("/api/v1/auth/password-reset", {"email": user.email})  # no language

    log = Notification.objects.get(template="accounts/password_reset")
    assert log.language == "tr"
    assert "parola" in mail.outbox[0].subject.lower()


def test_a_reset_link_sent_by_the_worker_speaks_the_company_language_not_the_workers():
    user = DealerUserFactory()
    with translation.override("en"):  # a Celery worker runs in LANGUAGE_CODE
        password_link_send(user=user)
    assert Notification.objects.get(user=user).language == "tr"


def test_one_english_e_mail_does_not_turn_the_company_english(
    dealer_client, django_capture_on_commit_callbacks
):
    shop = Shop(dealer_client)
    shop.product("A-1", price="100")
    customer = shop.owner.user.customer
    # the company's first e-mail, written in English before this rule (or to a staff member)
    Notification.objects.create(
        channel="email", to=shop.owner.user.email, template="accounts/password_reset",
        customer=customer, language="en", status="sent",
    )  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        place(shop.owner, [("A-1", 1)])

    placed = Notification.objects.get(template="orders/order_placed")
    assert placed.language == "tr" and customer_language(customer) == "tr"


def test_a_company_that_registered_in_english_gets_english_whatever_the_request_speaks(
    api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            REGISTER, registration(), format="json", HTTP_ACCEPT_LANGUAGE="en"
        )
    assert response.status_code == 202
    owner = Notification.objects.get(template="accounts/registration_verify").user
    assert customer_language(owner.customer) == "en"

    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(
            "/api/v1/auth/password-reset", {"email": owner.email}, HTTP_ACCEPT_LANGUAGE="tr"
        )
    reset = Notification.objects.get(template="accounts/password_reset")
    assert reset.language == "en"


def test_a_registration_that_asks_for_no_language_makes_a_turkish_company(
    api_client, django_capture_on_commit_callbacks
):
    """As docs/dealer-api.md's curl registers (no ``Accept-Language``): the company got the
    API's default, English, for good. A company speaks the portal's language
    (``PORTAL_LANGUAGE_CODE``) unless its registration asked for another; the API's own
    answer stays in the API's default."""
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(REGISTER, registration(), format="json")
    assert response.status_code == 202
    assert response.json()["detail"].startswith("Thank you.")
    verify = Notification.objects.get(template="accounts/registration_verify")
    assert verify.language == "tr" and customer_language(verify.user.customer) == "tr"
    assert "Merhaba" in mail.outbox[-1].body


def test_an_invitation_and_a_sign_in_code_speak_the_company_language(
    dealer_client, api_client, django_capture_on_commit_callbacks
):
    owner = dealer_client("owner")
    with django_capture_on_commit_callbacks(execute=True):
        created = owner.post(
            "/api/v1/company/users",
            {"email": "davet@example.com", "role": "viewer", "first_name": "Can"},
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert created.status_code == 201
    invitation = Notification.objects.get(template="accounts/invitation")
    assert invitation.language == "tr"
    assert re.search(r"davet|şifre|parola", mail.outbox[-1].body.lower())

    user = DealerUserFactory(phone="0532 123 45 67", sms_login=True)
    answer = api_client.post(
        "/api/v1/auth/token", {"email": user.email, "password": DEFAULT_PASSWORD}
    )  # no language
    assert answer.status_code == 401 and answer.json()["code"] == "sms_code_required"
    assert Notification.objects.get(user=user, template="otp").language == "tr"


def test_staff_get_their_e_mails_in_the_language_of_the_request(api_client):
    staff = StaffUserFactory()
    with translation.override("en"):
        password_link_send(user=staff)
    assert Notification.objects.get(user=staff).language == "en"
