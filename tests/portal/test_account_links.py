"""The links e-mailed to dealers open pages of the portal: "forgot your password?" from the
sign-in page, the reset link's page (a new password, twice), and the registration's
verification link (confirmed with a button). The services are the API's: same rules, same
answers whatever the address."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client

from apps.accounts.models import Customer, CustomerStatus
from tests.accounts.test_registration_verification import body as registration
from tests.factories import DealerUserFactory

pytestmark = [pytest.mark.django_db]

PASSWORD = "Test-Password-2026"
NEW_PASSWORD = "Yeni-Parola-2026!"


def _link(message) -> str:
    """The e-mailed link as a path with its query (the portal's own address in the tests)."""
    url = re.search(r"https?://\S+\?uid=[\w-]+&token=[\w-]+", message.body).group(0)
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _page(response) -> str:
    text = response.content.decode()
    text = re.sub(r'"X-CSRFToken": "[^"]*"', "", text)  # htmx's header: per response
    return re.sub(r'(nonce|value|content)="[^"]*"', r'\1=""', text)


def _signs_in(email: str, password: str) -> bool:
    response = Client().post("/portal/login/", {"email": email, "password": password})
    return response.status_code == 302


def test_forgot_password_the_link_and_a_new_password_from_the_sign_in_page(
    django_capture_on_commit_callbacks,
):
    user = DealerUserFactory(role="owner", password=PASSWORD, email="sahip@bayi.example")
    browser = Client()
    login = browser.get("/portal/login/").content.decode()
    assert 'href="/portal/password/forgot/"' in login

    answers = []
    for email in ("sahip@bayi.example", "nobody@bayi.example"):
        with django_capture_on_commit_callbacks(execute=True):
            answers.append(browser.post("/portal/password/forgot/", {"email": email}))
    assert answers[0].status_code == answers[1].status_code == 200
    # the same answer for any address (but for the per-response tokens)
    assert _page(answers[0]) == _page(answers[1])
    assert "yeni parola belirleme bağlantısı yola çıktı" in _page(answers[0])  # Turkish
    (message,) = mail.outbox
    assert message.to == [user.email]
    link = _link(message)
    assert link.startswith("/portal/password/reset/?uid=")

    form = browser.get(link)
    assert form.status_code == 200 and 'name="new_password"' in form.content.decode()
    uid = re.search(r'name="uid" value="([^"]+)"', form.content.decode()).group(1)
    token = re.search(r'name="token" value="([^"]+)"', form.content.decode()).group(1)

    differ = browser.post(
        "/portal/password/reset/",
        {"uid": uid, "token": token, "new_password": NEW_PASSWORD, "new_password_again": "x"},
    )
    user.refresh_from_db()
    assert differ.status_code == 400 and user.check_password(PASSWORD)
    weak = browser.post(
        "/portal/password/reset/",
        {"uid": uid, "token": token, "new_password": "123", "new_password_again": "123"},
    )
    user.refresh_from_db()
    assert weak.status_code == 400 and user.check_password(PASSWORD)
    assert "new_password" in weak.content.decode()

    done = browser.post(
        "/portal/password/reset/",
        {
            "uid": uid,
            "token": token,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert done.status_code == 302 and done["Location"] == "/portal/login/"
    assert _signs_in(user.email, NEW_PASSWORD) and not _signs_in(user.email, PASSWORD)

    again = browser.post(
        "/portal/password/reset/",
        {"uid": uid, "token": token, "new_password": PASSWORD, "new_password_again": PASSWORD},
    )
    assert again.status_code == 400  # a link works once
    assert 'href="/portal/password/forgot/"' in again.content.decode()


def test_the_registration_link_opens_a_page_whose_button_confirms_the_address(
    api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer = api_client.post("/api/v1/auth/register", registration(), format="json")
    assert answer.status_code == 202
    (message,) = mail.outbox
    link = _link(message)
    assert link.startswith("/portal/verify-email/?uid=")
    customer = Customer.all_objects.get()
    browser = Client()

    page = browser.get(link)
    assert page.status_code == 200
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.UNVERIFIED  # opening the link confirms nothing
    uid = re.search(r'name="uid" value="([^"]+)"', page.content.decode()).group(1)
    token = re.search(r'name="token" value="([^"]+)"', page.content.decode()).group(1)

    confirmed = browser.post("/portal/verify-email/", {"uid": uid, "token": token})
    assert confirmed.status_code == 200
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.PENDING
    assert "başvurusunu inceliyoruz" in confirmed.content.decode()  # the portal is Turkish
    # pressed again, after staff approved the company: the address is confirmed, sign in
    customer.status = CustomerStatus.ACTIVE
    customer.save(update_fields=["status"])
    again = browser.post("/portal/verify-email/", {"uid": uid, "token": token})
    assert again.status_code == 200
    assert "şirketinizin hesabı açık" in again.content.decode()
    assert 'href="/portal/login/"' in again.content.decode()
    assert browser.post("/portal/verify-email/", {"uid": uid, "token": "1-x"}).status_code == 400


def test_links_sent_with_the_earlier_addresses_still_open_the_pages(client):
    response = client.get("/reset-password?uid=abc&token=def")
    assert response.status_code == 302
    assert response["Location"] == "/portal/password/reset/?uid=abc&token=def"
    response = client.get("/verify-email?uid=abc&token=def")
    assert response["Location"] == "/portal/verify-email/?uid=abc&token=def"


def test_a_bad_link_says_so_and_changes_nothing(client):
    response = client.post(
        "/portal/password/reset/",
        {
            "uid": "bad",
            "token": "bad",
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert response.status_code == 400
    assert client.post("/portal/verify-email/", {"uid": "x", "token": "y"}).status_code == 400
    assert client.post("/portal/password/forgot/", {"email": ""}).status_code == 200
