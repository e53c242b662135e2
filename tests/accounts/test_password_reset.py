"""Password reset: 202 always (no enumeration), a time-limited e-mailed token, 204 on confirm,
and every old session's refresh token revoked."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from apps.accounts.models import AuthEvent
from tests.factories import DEFAULT_PASSWORD, DealerUserFactory

pytestmark = [pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Brand-New-Secret-42"


def request_reset(client, email):
    return client.post("/api/v1/auth/password-reset", {"email": email})


def reset_link_parts() -> tuple[str, str]:
    body = mail.outbox[-1].body
    uid = re.search(r"uid=([\w-]+)", body).group(1)
    token = re.search(r"token=([\w-]+)", body).group(1)
    return uid, token


def test_reset_answers_202_whether_or_not_the_account_exists(api_client):
    user = DealerUserFactory()
    known = request_reset(api_client, user.email)
    unknown = request_reset(api_client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]


def test_reset_sends_nothing_to_an_inactive_user(api_client):
    user = DealerUserFactory(is_active=False)
    assert request_reset(api_client, user.email).status_code == 202
    assert mail.outbox == []


def test_confirm_sets_the_password_and_revokes_old_refresh_tokens(api_client):
    user = DealerUserFactory()
    old = api_client.post(
        "/api/v1/auth/token", {"email": user.email, "password": DEFAULT_PASSWORD}
    ).json()
    request_reset(api_client, user.email)
    uid, token = reset_link_parts()

    response = api_client.post(
        "/api/v1/auth/password-reset/confirm",
        {"uid": uid, "token": token, "new_password": NEW_PASSWORD},
    )

    assert response.status_code == 204
    login = api_client.post("/api/v1/auth/token", {"email": user.email, "password": NEW_PASSWORD})
    assert login.status_code == 200
    assert (
        api_client.post("/api/v1/auth/token/refresh", {"refresh": old["refresh"]}).status_code
        == 401
    )
    assert AuthEvent.objects.filter(kind="password_reset_done", user=user).exists()


def test_a_reset_token_works_once(api_client):
    user = DealerUserFactory()
    request_reset(api_client, user.email)
    uid, token = reset_link_parts()
    payload = {"uid": uid, "token": token, "new_password": NEW_PASSWORD}
    assert api_client.post("/api/v1/auth/password-reset/confirm", payload).status_code == 204
    payload["new_password"] = "Another-Secret-43"
    second = api_client.post("/api/v1/auth/password-reset/confirm", payload)
    assert second.status_code == 400
    assert "token" in second.json()["errors"]


def test_a_reset_token_works_once_when_sent_in_parallel(api_client, settings):
    """Eight parallel confirms of one link each set a password (six 204s in the race
    sweep): the link is checked under the user's lock, so one sets it and the rest find the
    link used."""
    import threading  # here: only this test runs requests in parallel

    from django.db import connection
    from rest_framework.test import APIClient

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    user = DealerUserFactory()
    request_reset(api_client, user.email)
    uid, token = reset_link_parts()
    statuses: list = []
    start = threading.Barrier(8)
    # each client loads its middleware at its first request: one at a time, here (metrics
    # middleware registered at once by many threads collide)
    clients = [APIClient() for _ in range(8)]
    for client in clients:
        client.get("/health/live")

    def confirm(n: int):
        try:
            payload = {"uid": uid, "token": token, "new_password": f"Race-Secret-{n}-x9!"}
            start.wait(timeout=10)
            response = clients[n].post("/api/v1/auth/password-reset/confirm", payload)
            statuses.append(response.status_code)
        except Exception as exc:  # said by the assertion below, not lost in the thread
            statuses.append(repr(exc)[:300])
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [204] + [400] * 7
    assert AuthEvent.objects.filter(kind="password_reset_done", user=user).count() == 1


def test_a_reset_token_expires(api_client, settings):
    user = DealerUserFactory()
    request_reset(api_client, user.email)
    uid, token = reset_link_parts()
    # Django's token clock is naive local time; a day past the one-hour limit is past it
    # whatever the machine's time zone
    assert settings.PASSWORD_RESET_TIMEOUT == 3600
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        response = api_client.post(
            "/api/v1/auth/password-reset/confirm",
            {"uid": uid, "token": token, "new_password": NEW_PASSWORD},
        )
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_a_weak_new_password_answers_400_and_keeps_the_old(api_client):
    user = DealerUserFactory()
    request_reset(api_client, user.email)
    uid, token = reset_link_parts()
    response = api_client.post(
        "/api/v1/auth/password-reset/confirm", {"uid": uid, "token": token, "new_password": "abc"}
    )
    assert response.status_code == 400
    assert "new_password" in response.json()["errors"]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


@pytest.mark.parametrize("uid", ["", "!!!", "MTIzNDU2Nzg5"])
def test_a_bad_uid_answers_400(api_client, uid):
    response = api_client.post(
        "/api/v1/auth/password-reset/confirm",
        {"uid": uid or "x", "token": "abc-def", "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 400
