"""The admin's session login is audited and locked out like the API's."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from apps.accounts.models import AuthEvent
from tests.factories import DEFAULT_PASSWORD, StaffUserFactory

pytestmark = [pytest.mark.django_db]


def admin_login(client, email, password):
    return client.post("/admin/login/?next=/admin/", {"username": email, "password": password})


def test_admin_login_and_failure_are_audited():
    staff = StaffUserFactory(groups=["Customer Service"])
    client = Client()
    admin_login(client, staff.email, "wrong")
    assert AuthEvent.objects.filter(kind="login_failed", email=staff.email).exists()
    response = admin_login(client, staff.email.upper(), DEFAULT_PASSWORD)
    assert response.status_code == 302
    assert AuthEvent.objects.filter(kind="login", user=staff).exists()
    client.post("/admin/logout/")
    assert AuthEvent.objects.filter(kind="logout", user=staff).exists()


def test_admin_login_locks_after_five_failures():
    staff = StaffUserFactory(groups=["Customer Service"])
    client = Client()
    for _ in range(5):
        admin_login(client, staff.email, "wrong")
    response = admin_login(client, staff.email, DEFAULT_PASSWORD)
    assert response.status_code == 200  # the login form again, not a redirect
    assert "_auth_user_id" not in client.session
    assert AuthEvent.objects.filter(kind="lockout", email=staff.email).exists()
    # told it is locked, and for how long (it said the right password was wrong)
    page = response.content.decode()
    assert "Too many failed logins. Try again in 15 minutes." in page
    assert "Please enter the correct" not in page


def test_an_admin_login_under_a_look_alike_spelling_meets_the_same_lock():
    staff = StaffUserFactory(groups=["Customer Service"], email="customer.service@dist.example")
    client = Client()
    for _ in range(5):
        admin_login(client, staff.email, "wrong")
    dotless = staff.email.replace("i", "ı", 1)  # PostgreSQL matches it to the account
    response = admin_login(client, dotless, DEFAULT_PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_tries_on_the_admin_while_locked_do_not_make_the_lock_last_longer():
    """A try refused by the lock (the right password included) is recorded as refused, not
    counted as a failure: the lock lifts 15 minutes after it was earned, also when the
    staff member kept trying meanwhile (the records, read with Redis up, counted each try)."""
    staff = StaffUserFactory(groups=["Customer Service"])
    client = Client()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _ in range(5):
            admin_login(client, staff.email, "wrong")
        for _ in range(6):
            traveller.shift(timedelta(minutes=2))
            assert admin_login(client, staff.email, DEFAULT_PASSWORD).status_code == 200
        refused = AuthEvent.objects.filter(kind="login_failed", email=staff.email)
        assert refused.filter(detail="refused: account locked").count() == 6
        traveller.shift(timedelta(minutes=3, seconds=5))  # 15 minutes after the fifth failure
        assert admin_login(client, staff.email, DEFAULT_PASSWORD).status_code == 302
