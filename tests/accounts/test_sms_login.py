"""The optional SMS code at sign-in (a user's own choice, ``sms_login``): after the password a
6-digit code goes to their phone, valid 5 minutes; the API asks for it with 401
``sms_code_required`` and takes it as ``sms_code``, the portal on a second page. A wrong code
counts as a failed login (the lockout rules apply), 5 make it void; only a digest of the code
is kept, and the SMS log does not keep it either."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db.models import F
from django.test import Client

from apps.accounts.models import AuthEvent, SmsLoginCode
from apps.accounts.services import auth
from apps.notifications.models import Notification
from apps.notifications.services import notification_deliver
from tests.factories import DEFAULT_PASSWORD, CustomerFactory, DealerUserFactory, StaffUserFactory

pytestmark = [pytest.mark.django_db]
TOKEN = "/api/v1/auth/token"


@pytest.fixture
def user():
    return DealerUserFactory(phone="0532 123 45 67", sms_login=True)


def sent_code(user) -> str:
    return Notification.objects.filter(user=user, template="otp").latest("id").context["code"]


def test_the_api_asks_for_the_code_it_sends_and_then_answers_the_tokens(api_client, user):
    first = api_client.post(TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD})
    assert first.status_code == 401 and first.json()["code"] == "sms_code_required"
    assert "67" in first.json()["detail"] and "access" not in first.json()
    sms = Notification.objects.get(user=user, template="otp")
    assert sms.channel == "sms" and sms.to == "+905321234567"
    assert not AuthEvent.objects.filter(user=user, kind="login").exists()  # not yet signed in

    wrong = api_client.post(
        TOKEN,
        {"email": user.email, "password": DEFAULT_PASSWORD, "sms_code": "000000"}
        if sent_code(user) != "000000"
        else {"email": user.email, "password": DEFAULT_PASSWORD, "sms_code": "111111"},
    )
    assert wrong.status_code == 401 and wrong.json()["code"] == "sms_code_invalid"
    right = api_client.post(
        TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD, "sms_code": sent_code(user)}
    )
    assert right.status_code == 200 and {"access", "refresh"} <= set(right.json())
    assert AuthEvent.objects.filter(user=user, kind="login").count() == 1
    again = api_client.post(  # a code works once
        TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD, "sms_code": sent_code(user)}
    )
    assert again.status_code == 401 and again.json()["code"] == "sms_code_expired"


def test_a_code_needs_the_right_password_too(api_client, user):
    api_client.post(TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD})
    response = api_client.post(
        TOKEN, {"email": user.email, "password": "wrong", "sms_code": sent_code(user)}
    )
    assert response.status_code == 401 and response.json()["code"] == "invalid_credentials"


def _age(user, seconds: int) -> None:
    SmsLoginCode.objects.filter(user=user).update(sent_at=F("sent_at") - timedelta(seconds=seconds))


def test_another_sign_in_within_a_minute_sends_no_second_sms(api_client, user):
    for _ in range(3):
        api_client.post(TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD})
    assert Notification.objects.filter(user=user, template="otp").count() == 1
    _age(user, auth.SMS_RESEND_SECONDS + 1)
    api_client.post(TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD})
    assert Notification.objects.filter(user=user, template="otp").count() == 2


def test_a_code_is_good_for_five_minutes(api_client, user):
    api_client.post(TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD})
    _age(user, auth.SMS_CODE_SECONDS + 1)
    response = api_client.post(
        TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD, "sms_code": sent_code(user)}
    )
    assert response.status_code == 401 and response.json()["code"] == "sms_code_expired"
    assert not SmsLoginCode.objects.exists()


def test_only_a_digest_of_the_code_is_kept(api_client, user):
    api_client.post(TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD})
    stored = SmsLoginCode.objects.get(user=user)
    assert stored.digest != sent_code(user) and len(stored.digest) == 64  # an HMAC-SHA256


def test_wrong_codes_count_as_failed_logins_and_lock_the_account(api_client, user):
    api_client.post(TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD})
    code = sent_code(user)
    bad = "111111" if code != "111111" else "222222"
    for _ in range(auth.SMS_CODE_TRIES):
        api_client.post(TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD, "sms_code": bad})
    assert (
        AuthEvent.objects.filter(user=user, kind="login_failed", detail="bad SMS code").count() == 5
    )
    locked = api_client.post(
        TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD, "sms_code": code}
    )
    assert locked.status_code == 401 and locked.json()["code"] == "account_locked"


def test_wrong_codes_lock_the_account_from_the_records_when_redis_is_down(api_client, user):
    """With the counters' store down the lock is read from the auth log: the wrong SMS codes
    are counted there as well as wrong passwords."""
    from apps.accounts import lockout

    api_client.post(TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD})
    code = sent_code(user)
    bad = "111111" if code != "111111" else "222222"
    for _ in range(auth.SMS_CODE_TRIES):
        api_client.post(TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD, "sms_code": bad})
    assert lockout._locked_from_records("account", user.email) is not None


def test_without_a_mobile_number_the_user_is_told_not_signed_in(api_client):
    user = DealerUserFactory(phone="", sms_login=True)
    response = api_client.post(TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 401 and response.json()["code"] == "sms_phone_missing"


def test_the_sms_log_keeps_no_code_once_sent(api_client, user):
    api_client.post(TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD})
    sms = Notification.objects.get(user=user, template="otp")
    notification_deliver(sms)  # the console backend
    sms.refresh_from_db()
    assert sms.status == "sent" and sms.context == {} and sms.subject == "(one-time code)"


def test_users_without_the_option_sign_in_with_the_password_alone(api_client):
    user = DealerUserFactory(phone="0532 123 45 67")
    response = api_client.post(TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    assert not Notification.objects.filter(template="otp").exists()


# --- the portal ---------------------------------------------------------------------------------


def test_the_portal_asks_for_the_code_on_a_second_page(user):
    client = Client()
    response = client.post(
        "/portal/login/",
        {"email": user.email, "password": DEFAULT_PASSWORD, "next": "/portal/orders/"},
    )
    assert response.status_code == 302 and response["Location"] == "/portal/login/code/"
    assert client.get("/portal/").status_code == 302  # not signed in yet
    page = client.get("/portal/login/code/").content.decode()
    assert "67" in page and 'autocomplete="one-time-code"' in page
    code = sent_code(user)
    wrong = client.post("/portal/login/code/", {"code": "111111" if code != "111111" else "222222"})
    assert wrong.status_code == 401 and 'role="alert"' in wrong.content.decode()
    done = client.post("/portal/login/code/", {"code": f"{code[:3]} {code[3:]}"})
    assert done.status_code == 302 and done["Location"] == "/portal/orders/"
    assert client.get("/portal/").status_code == 200
    assert client.get("/portal/login/code/").status_code == 302  # nothing pending any more


def test_the_code_page_without_a_password_first_leads_to_sign_in():
    client = Client()
    assert client.get("/portal/login/code/")["Location"] == "/portal/login/"
    assert client.post("/portal/login/code/", {"code": "123456"})["Location"] == "/portal/login/"


def test_staff_are_still_sent_to_the_back_office():
    staff = StaffUserFactory()
    response = Client().post("/portal/login/", {"email": staff.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 403


def test_the_profile_turns_the_code_on_with_a_mobile_number():
    from tests.portal.test_portal import browser

    client, user = browser(SimpleNamespace(customer=CustomerFactory()))
    refused = client.post("/portal/profile/", {"action": "sms", "sms_login": "on", "phone": "12"})
    assert refused.status_code == 400 and 'id="phone-error"' in refused.content.decode()
    user.refresh_from_db()
    assert not user.sms_login
    client.post("/portal/profile/", {"action": "sms", "sms_login": "on", "phone": "0532 123 45 67"})
    user.refresh_from_db()
    assert user.sms_login and user.phone == "0532 123 45 67"
    client.post("/portal/profile/", {"action": "sms", "phone": "0532 123 45 67"})
    user.refresh_from_db()
    assert not user.sms_login


@pytest.mark.parametrize(
    ("sms_login", "phone"),
    [
        ("on", "\u0660\u0665\u0663\u0662\u0661\u0662\u0663\u0664\u0665\u0666\u0667"),
        ("", "x" * 10000),  # switching it off took any text as the phone, cut to 32
        ("", "<script>\x07"),
    ],
    ids=["arabic digits", "switching off with a long text", "switching off with a script"],
)
def test_the_profile_takes_only_a_phone_number_as_the_phone(sms_login, phone):
    """Arabic-Indic digits were taken as a mobile number: every sign-in then sent its code to
    '+٠٥٣٢...', which no SMS reaches, and the user could not sign in."""
    from tests.portal.test_portal import browser

    client, user = browser(SimpleNamespace(customer=CustomerFactory()))
    user.phone = "0532 000 00 00"
    user.save(update_fields=["phone"])
    body = {"action": "sms", "phone": phone, **({"sms_login": "on"} if sms_login else {})}
    refused = client.post("/portal/profile/", body)
    assert refused.status_code == 400 and 'id="phone-error"' in refused.content.decode()
    user.refresh_from_db()
    assert (user.phone, user.sms_login) == ("0532 000 00 00", False)
