"""Two-factor sign-in to the back office (TOTP with recovery codes, django-otp).

Required for superusers and the groups of STAFF_TWO_FACTOR_GROUPS (Super Admin, Finance
Manager); optional for other staff, and asked for once they set it up. Every test signs in
through the real admin login page and the real two-factor pages.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts import lockout
from apps.accounts.models import AuthEvent
from apps.accounts.services.two_factor import recovery_code_digest
from tests.conftest import staff_login, totp_now
from tests.factories import DEFAULT_PASSWORD, DealerUserFactory, StaffUserFactory

pytestmark = [pytest.mark.django_db]

SETUP = "/admin/two-factor/setup/"
VERIFY = "/admin/two-factor/verify/"
MANAGE = "/admin/two-factor/"
ADMIN_PAGES = ["/admin/", "/admin/accounts/user/", "/admin/password_change/", "/admin/auth/"]
CODE_ITEM = re.compile(r"<li>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</li>")


def password_login(client: Client, user, password: str = DEFAULT_PASSWORD):
    return client.post("/admin/login/?next=/admin/", {"username": user.email, "password": password})


def signed_in_client(user) -> Client:
    """A session past the password, not (yet) past the code."""
    client = Client()
    assert password_login(client, user).status_code == 302
    return client


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def enrol(client: Client, user) -> list[str]:
    """Go through the enrolment page with the right code; the recovery codes it shows."""
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    page = client.post(SETUP, {"code": totp_now(device), "next": "/admin/"})
    assert page.status_code == 200
    return CODE_ITEM.findall(page.content.decode())


def wrong_code(client: Client, user):
    """Post a wrong code as soon as django-otp's own delay after the last one allows (set
    aside here: the rule under test is the lockout's)."""
    TOTPDevice.objects.filter(user=user).update(throttling_failure_count=0)
    StaticDevice.objects.filter(user=user).update(throttling_failure_count=0)
    return client.post(VERIFY, {"code": "000000"})


def opens_the_admin(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


REQUIRED = {
    "super admin group": {"groups": ["Super Admin"]},
    "finance manager": {"groups": ["Finance Manager"]},
    "superuser": {"is_superuser": True},
}


# --- who must, who may ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", REQUIRED.values(), ids=REQUIRED.keys())
def test_required_roles_open_no_admin_page_before_enrolling(who):
    # given: the password was right
    client = signed_in_client(StaffUserFactory(**who))

    # then: every admin page sends them to the enrolment step, with the page to come back to
    for url in ADMIN_PAGES:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(SETUP), url
    assert client.post("/admin/accounts/user/add/", {"email": "x@example.com"})[
        "Location"
    ].startswith(SETUP)
    # the steps themselves and logout open
    assert client.get(SETUP).status_code == 200
    assert client.post("/admin/logout/").status_code == 200
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_the_enrolment_step_shows_no_work_queues_and_no_app_list():
    client = signed_in_client(StaffUserFactory(is_superuser=True))
    page = client.get(SETUP).content.decode()
    assert "<svg" in page  # the QR code, drawn inline
    assert "/admin/accounts/" not in page and "data-queue" not in page
    assert 'action="/admin/logout/"' in page
    # the code form (shared with the verification step) with its own button
    assert 'name="code"' in page and 'value="Turn on two-factor sign-in"' in page


def test_optional_roles_are_not_forced_but_asked_once_enrolled():
    staff = StaffUserFactory(groups=["Customer Service"])
    assert opens_the_admin(signed_in_client(staff))

    enrolled(staff)

    client = signed_in_client(staff)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)


def test_the_group_list_is_a_setting(settings):
    settings.STAFF_TWO_FACTOR_GROUPS = ["Customer Service"]
    assert not opens_the_admin(signed_in_client(StaffUserFactory(groups=["Customer Service"])))
    assert opens_the_admin(signed_in_client(StaffUserFactory(groups=["Finance Manager"])))


# --- enrolment -----------------------------------------------------------------------------------


def test_enrolment_with_the_right_code_turns_it_on_and_shows_ten_recovery_codes_once():
    user = StaffUserFactory(groups=["Finance Manager"])
    client = signed_in_client(user)

    # the page: a QR code of the otpauth URI and the secret in base32 for typing
    page = client.get(f"{SETUP}?next=/admin/finance/").content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert "<svg" in page
    assert device.config_url.split("secret=")[1][:8] in page.replace(" ", "")
    assert client.get(SETUP).status_code == 200
    assert TOTPDevice.objects.get(user=user).pk == device.pk  # a reload keeps the secret

    response = client.post(SETUP, {"code": totp_now(device), "next": "/admin/finance/"})

    codes = CODE_ITEM.findall(response.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert 'href="/admin/finance/"' in response.content.decode()  # continue where they went
    device.refresh_from_db()
    assert device.confirmed
    assert sorted(
        StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
    ) == sorted(recovery_code_digest(code) for code in codes)
    assert opens_the_admin(client)
    assert AuthEvent.objects.filter(kind="two_factor_enrolled", user=user).exists()
    # shown once: no page shows them again
    assert client.get(SETUP)["Location"] == MANAGE
    manage = client.get(MANAGE).content.decode()
    assert not any(code in manage for code in codes)
    assert "10 unused recovery codes" in manage


def test_a_wrong_enrolment_code_is_refused_and_turns_nothing_on():
    user = StaffUserFactory(is_superuser=True)
    client = signed_in_client(user)
    client.get(SETUP)

    response = client.post(SETUP, {"code": "000000"})

    assert response.status_code == 200
    assert "This code is not right." in response.content.decode()
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert not StaticToken.objects.filter(device__user=user).exists()
    assert client.get("/admin/")["Location"].startswith(SETUP)


# --- the code at sign-in -------------------------------------------------------------------------


def test_the_code_from_the_app_opens_the_back_office_for_that_session_only():
    user = StaffUserFactory(is_superuser=True)
    device = enrolled(user)
    first, second = signed_in_client(user), signed_in_client(user)
    assert first.get("/admin/accounts/user/")["Location"].startswith(
        f"{VERIFY}?next=%2Fadmin%2Faccounts%2Fuser%2F"
    )

    response = first.post(VERIFY, {"code": totp_now(device), "next": "/admin/accounts/user/"})

    assert response.status_code == 302 and response["Location"] == "/admin/accounts/user/"
    assert opens_the_admin(first)
    assert not opens_the_admin(second)  # the other session gave no code
    assert second.get("/admin/")["Location"].startswith(VERIFY)
    # a new sign-in in the same browser asks again
    first.post("/admin/logout/")
    password_login(first, user)
    assert not opens_the_admin(first)
    assert AuthEvent.objects.filter(
        kind="login", user=user, detail="session, authenticator app"
    ).exists()
    assert AuthEvent.objects.filter(kind="login_password", user=user).count() == 3


def test_a_wrong_code_is_refused():
    user = StaffUserFactory(is_superuser=True)
    enrolled(user)
    client = signed_in_client(user)

    response = client.post(VERIFY, {"code": "123456"})

    assert response.status_code == 200
    assert "This code is not right." in response.content.decode()
    assert not opens_the_admin(client)
    assert AuthEvent.objects.filter(
        kind="login_failed", user=user, detail="bad two-factor code"
    ).exists()


def test_a_code_already_used_is_told_as_such_and_refused():
    """A second sign-in within the same 30 seconds, with the code the app still shows, was
    told "This code is not right." (django-otp takes each step's code once)."""
    user = StaffUserFactory(is_superuser=True)
    device = enrolled(user)
    first, second = signed_in_client(user), signed_in_client(user)
    code = totp_now(device)
    assert first.post(VERIFY, {"code": code}).status_code == 302

    response = second.post(VERIFY, {"code": code})

    page = response.content.decode()
    assert response.status_code == 200 and "This code was used already" in page
    assert not opens_the_admin(second)


def test_a_recovery_code_works_once_and_is_used_up():
    user = StaffUserFactory(groups=["Finance Manager"])
    codes = enrol(signed_in_client(user), user)
    code = codes[3]

    client = signed_in_client(user)
    typed = code.replace("-", " ", 1).upper()  # as read out: groups and case do not matter
    response = client.post(VERIFY, {"code": typed, "next": "/admin/"})
    assert response.status_code == 302
    assert "a recovery code: 9 are left" in client.get("/admin/").content.decode()
    assert not StaticToken.objects.filter(
        device__user=user, token=recovery_code_digest(code)
    ).exists()
    assert StaticToken.objects.filter(device__user=user).count() == 9
    assert AuthEvent.objects.filter(
        kind="login", user=user, detail="session, recovery code, 9 left"
    ).exists()

    again = signed_in_client(user)
    refused = again.post(VERIFY, {"code": code})
    assert refused.status_code == 200 and "This code is not right." in refused.content.decode()
    assert not opens_the_admin(again)


def test_recovery_codes_are_kept_only_as_digests_so_a_copy_of_the_database_signs_nobody_in():
    user = StaffUserFactory(groups=["Finance Manager"])
    codes = enrol(signed_in_client(user), user)
    stored = list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))

    assert len(stored) == 10
    plain = {code.replace("-", "") for code in codes}
    assert not plain & set(stored) and not set(codes) & set(stored)
    # what is stored does not sign in when typed as a code
    client = signed_in_client(user)
    refused = client.post(VERIFY, {"code": stored[0]})
    assert refused.status_code == 200 and "This code is not right." in refused.content.decode()
    assert StaticToken.objects.filter(device__user=user).count() == 10


def test_recovery_codes_made_before_digests_still_sign_in_once_after_the_migration():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("apps.accounts.migrations.0007_recovery_code_digests")
    user = StaffUserFactory(groups=["Finance Manager"])
    enrolled(user)
    device = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    StaticToken.objects.create(device=device, token="k3j4xq7m")  # as codes were kept before
    StaticToken.objects.create(device=device, token="a2b3c4d5")

    migration.digest_stored_codes(apps, None)
    migration.digest_stored_codes(apps, None)  # again: digests are left as they are

    assert set(device.token_set.values_list("token", flat=True)) == {
        recovery_code_digest("k3j4xq7m"),
        recovery_code_digest("a2b3c4d5"),
    }
    client = signed_in_client(user)
    assert client.post(VERIFY, {"code": "K3J4-XQ7M", "next": "/admin/"}).status_code == 302
    assert opens_the_admin(client)
    assert device.token_set.count() == 1


def test_new_recovery_codes_void_the_old_ones():
    user = StaffUserFactory(is_superuser=True)
    client = signed_in_client(user)
    old = enrol(client, user)

    page = client.post(f"{MANAGE}recovery-codes/")

    new = CODE_ITEM.findall(page.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    other = signed_in_client(user)
    refused = other.post(VERIFY, {"code": old[0]})
    assert "This code is not right." in refused.content.decode()
    assert not opens_the_admin(other)
    # django-otp then makes the next try wait a second; a try within it is not looked at
    waiting = other.post(VERIFY, {"code": new[0]})
    assert "wait 1 second" in waiting.content.decode()
    StaticDevice.objects.filter(user=user).update(throttling_failure_count=0)
    assert other.post(VERIFY, {"code": new[0]}).status_code == 302
    assert AuthEvent.objects.filter(kind="recovery_codes_new", user=user).exists()


# --- lockout -------------------------------------------------------------------------------------


def test_wrong_codes_count_towards_the_lockout_and_lock_the_account():
    user = StaffUserFactory(is_superuser=True)
    device = enrolled(user)
    client = signed_in_client(user)

    for _ in range(5):
        wrong_code(client, user)

    assert lockout.is_account_locked(user.email)
    assert AuthEvent.objects.filter(kind="lockout", email=user.email).exists()
    # the right code no longer passes, nor does the password
    refused = client.post(VERIFY, {"code": totp_now(device)})
    assert refused.status_code == 200 and "Too many failed logins" in refused.content.decode()
    assert not opens_the_admin(client)
    assert password_login(Client(), user).status_code == 200


def test_signing_in_with_the_password_again_does_not_forgive_wrong_codes():
    user = StaffUserFactory(is_superuser=True)
    enrolled(user)
    for _ in range(4):
        wrong_code(signed_in_client(user), user)

    wrong_code(signed_in_client(user), user)

    assert lockout.is_account_locked(user.email)


def test_a_locked_account_cannot_pass_the_code_step():
    # given: a session at the code step, then the account is locked (wrong passwords elsewhere)
    user = StaffUserFactory(groups=["Finance Manager"])
    device = enrolled(user)
    client = signed_in_client(user)
    for _ in range(5):
        password_login(Client(), user, "wrong")
    assert lockout.is_account_locked(user.email)

    response = client.post(VERIFY, {"code": totp_now(device)})

    assert response.status_code == 200
    assert not opens_the_admin(client)
    device.refresh_from_db()
    assert device.last_t == -1  # the code was not even looked at


def test_a_right_code_forgets_earlier_failures():
    user = StaffUserFactory(is_superuser=True)
    device = enrolled(user)
    client = signed_in_client(user)
    for _ in range(4):
        wrong_code(client, user)
    device.refresh_from_db()
    device.throttle_reset()

    assert client.post(VERIFY, {"code": totp_now(device)}).status_code == 302

    password_login(Client(), user, "wrong")
    assert not lockout.is_account_locked(user.email)


def test_the_admin_password_login_honours_the_lockout_and_reveals_no_account():
    """Locked, even the right password is refused, and the form says so (as the portal and
    the API do; it said the password was wrong). An address nobody has locks the same way
    and reads the same: the lock tells nothing of who has an account."""
    staff = StaffUserFactory(groups=["Customer Service"])
    nobody = StaffUserFactory.build(email="nobody@example.com")
    for _ in range(5):
        password_login(Client(), staff, "wrong")
        password_login(Client(), nobody, "wrong")

    response = password_login(Client(), staff)
    unknown = password_login(Client(), nobody, "any")

    assert response.status_code == 200 and "_auth_user_id" not in response.client.session
    error = re.search(r'<p class="errornote">\s*(.*?)\s*</p>', response.content.decode(), re.S)
    assert error[1] == "Too many failed logins. Try again in 15 minutes."
    same = re.search(r'<p class="errornote">\s*(.*?)\s*</p>', unknown.content.decode(), re.S)
    assert same[1] == error[1]


# --- turning it on and off -----------------------------------------------------------------------


def test_optional_staff_turn_it_on_and_off_from_the_two_factor_page():
    user = StaffUserFactory(groups=["Sales Manager"])
    client = signed_in_client(user)
    assert "Set up two-factor sign-in" in client.get(MANAGE).content.decode()
    enrol(client, user)
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    device.last_t = -1  # the enrolment used this time step's code
    device.save()

    wrong = client.post(f"{MANAGE}disable/", {"code": "000000"}, follow=True)
    assert "This code is not right." in wrong.content.decode()
    assert TOTPDevice.objects.filter(user=user).exists()
    device.refresh_from_db()
    device.throttle_reset()
    client.post(f"{MANAGE}disable/", {"code": totp_now(device)})

    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticToken.objects.filter(device__user=user).exists()
    assert AuthEvent.objects.filter(kind="two_factor_disabled", user=user).exists()
    assert opens_the_admin(signed_in_client(user))  # no code asked any more


def test_a_required_role_cannot_turn_it_off():
    user = StaffUserFactory(groups=["Super Admin"])
    client = staff_login(Client(), user)
    assert "cannot be turned off" in client.get(MANAGE).content.decode()
    device = TOTPDevice.objects.get(user=user)

    response = client.post(f"{MANAGE}disable/", {"code": totp_now(device)}, follow=True)

    assert "requires two-factor sign-in" in response.content.decode()
    assert TOTPDevice.objects.filter(user=user).exists()


def test_a_super_admin_resets_a_lost_phone_and_the_person_enrols_again():
    person = StaffUserFactory(groups=["Finance Manager"])
    theirs = staff_login(Client(), person)
    super_admin = staff_login(Client(), StaffUserFactory(is_superuser=True))

    response = super_admin.post(
        "/admin/accounts/user/",
        {"action": "reset_two_factor", "_selected_action": [person.pk]},
        follow=True,
    )

    assert "Two-factor sign-in reset for 1 user." in response.content.decode()
    assert not TOTPDevice.objects.filter(user=person).exists()
    # the open session (on the lost laptop, perhaps) is signed out: it set up a new
    # authenticator of its own, with no password and no old factor
    assert theirs.get("/admin/")["Location"].startswith("/admin/login/")
    assert theirs.get(SETUP)["Location"].startswith("/admin/login/")
    assert not TOTPDevice.objects.filter(user=person).exists()
    assert AuthEvent.objects.filter(kind="two_factor_disabled", user=person).exists()
    # with the password, the person sets up a new one
    again = signed_in_client(person)
    assert again.get("/admin/")["Location"].startswith(SETUP)
    assert len(enrol(again, person)) == 10


def test_only_super_admins_are_offered_the_two_factor_reset():
    person = StaffUserFactory(groups=["Finance Manager"])
    staff_login(Client(), person)  # enrolled
    assert TOTPDevice.objects.filter(user=person).exists()
    DealerUserFactory()  # a list with a row shows its actions
    service = staff_login(Client(), StaffUserFactory(groups=["Customer Service"]))
    page = service.get("/admin/accounts/user/")
    assert page.status_code == 200
    assert "unlock_selected" in page.content.decode()
    assert "reset_two_factor" not in page.content.decode()
    tried = service.post(
        "/admin/accounts/user/",
        {"action": "reset_two_factor", "_selected_action": [person.pk]},
    )
    assert tried.status_code in (200, 302)  # Django's "no action selected", not a 403
    assert TOTPDevice.objects.filter(user=person).exists()


def test_no_screen_shows_or_makes_authenticator_secrets():
    client = staff_login(Client(), StaffUserFactory(is_superuser=True))
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert client.get("/admin/otp_static/staticdevice/").status_code == 404


def test_the_two_factor_pages_need_a_staff_session():
    for url in (MANAGE, SETUP, VERIFY):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


# --- the dealer API ------------------------------------------------------------------------------


def test_staff_with_two_factor_get_no_dealer_api_tokens(api_client):
    user = StaffUserFactory(is_superuser=True)

    response = api_client.post(
        "/api/v1/auth/token", {"email": user.email, "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 401
    assert response.json()["code"] == "two_factor_staff"
    # a wrong password answers as for anyone: nothing about two-factor
    wrong = api_client.post("/api/v1/auth/token", {"email": user.email, "password": "wrong"})
    assert wrong.json()["code"] == "invalid_credentials"


def test_a_refresh_token_stops_working_once_its_staff_user_enrols(api_client):
    user = StaffUserFactory(groups=["Sales Manager"])
    tokens = api_client.post(
        "/api/v1/auth/token", {"email": user.email, "password": DEFAULT_PASSWORD}
    ).json()

    enrolled(user)

    response = api_client.post("/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]})
    assert response.status_code == 401
    assert response.json()["code"] == "two_factor_staff"


def test_the_verification_step_shows_the_shared_code_form():
    staff = StaffUserFactory(is_superuser=True)
    enrolled(staff)
    page = signed_in_client(staff).get(VERIFY).content.decode()
    assert 'name="code"' in page and 'value="Verify"' in page and 'name="next"' in page
