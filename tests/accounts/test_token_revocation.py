"""Ending sessions: a rotated refresh token used again revokes its whole chain (theft
detection); logout and a password change end the access tokens already issued; stored
passwords use Argon2."""

from __future__ import annotations

import jwt
import pytest
from django.conf import settings as django_settings
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from apps.accounts.models import AuthEvent, User
from config import settings as project_settings
from tests.factories import DEFAULT_PASSWORD, DealerUserFactory

pytestmark = [pytest.mark.django_db]

REFRESH = "/api/v1/auth/token/refresh"


def login(client, user, password=DEFAULT_PASSWORD) -> dict:
    response = client.post("/api/v1/auth/token", {"email": user.email, "password": password})
    assert response.status_code == 200, response.json()
    return response.json()


def refresh(client, token):
    return client.post(REFRESH, {"refresh": token})


def me(access):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get("/api/v1/me")


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_reusing_a_rotated_refresh_token_revokes_its_whole_chain(api_client):
    user = DealerUserFactory()
    first = login(api_client, user)
    second = refresh(api_client, first["refresh"]).json()
    newest = refresh(api_client, second["refresh"]).json()
    other_session = login(api_client, user)
    assert claims(newest["refresh"])["fam"] == claims(first["refresh"])["fam"]

    reused = refresh(api_client, first["refresh"])

    assert reused.status_code == 401
    assert refresh(api_client, newest["refresh"]).status_code == 401  # the thief's, maybe
    # the access token the chain gave last (maybe the thief's) ends at once, not in 15 minutes
    assert me(newest["access"]).json()["code"] == "token_revoked"
    assert refresh(api_client, other_session["refresh"]).status_code == 200
    first_alarm = AuthEvent.objects.filter(kind="token_reuse", user=user).earliest("id")
    assert "1 live" in first_alarm.detail


def test_a_refresh_token_already_used_to_log_out_revokes_nothing_else(api_client):
    user = DealerUserFactory()
    mine = login(api_client, user)
    other = login(api_client, user)
    assert api_client.post("/api/v1/auth/logout", {"refresh": mine["refresh"]}).status_code == 205
    assert refresh(api_client, mine["refresh"]).status_code == 401
    assert refresh(api_client, other["refresh"]).status_code == 200


def test_after_logout_the_old_access_token_answers_401(api_client):
    user = DealerUserFactory()
    tokens = login(api_client, user)
    assert me(tokens["access"]).status_code == 200

    assert api_client.post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}).status_code == 205

    response = me(tokens["access"])
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"


def test_after_logout_other_sessions_refresh_and_carry_on(api_client):
    user = DealerUserFactory()
    leaving = login(api_client, user)
    staying = login(api_client, user)
    api_client.post("/api/v1/auth/logout", {"refresh": leaving["refresh"]})

    assert me(staying["access"]).status_code == 401  # every access token issued before
    renewed = refresh(api_client, staying["refresh"])
    assert renewed.status_code == 200
    assert me(renewed.json()["access"]).status_code == 200


def test_after_a_password_reset_the_old_access_token_answers_401(api_client):
    user = DealerUserFactory()
    tokens = login(api_client, user)
    user.refresh_from_db()  # the reset token covers last_login, which the login set

    response = api_client.post(
        "/api/v1/auth/password-reset/confirm",
        {
            "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
            "new_password": "Brand-New-Secret-42",
        },
    )

    assert response.status_code == 204
    assert me(tokens["access"]).status_code == 401
    assert refresh(api_client, tokens["refresh"]).status_code == 401


def test_after_a_password_change_anywhere_old_tokens_answer_401(api_client):
    # as the back office or `manage.py changepassword` do it: no service of ours involved
    user = DealerUserFactory()
    tokens = login(api_client, user)
    user.set_password("Changed-In-The-Admin-7")
    user.save()

    response = me(tokens["access"])
    assert response.status_code == 401
    assert response.json()["code"] == "password_changed"
    assert refresh(api_client, tokens["refresh"]).status_code == 401
    fresh = login(api_client, user, password="Changed-In-The-Admin-7")
    assert me(fresh["access"]).status_code == 200


def test_deactivating_a_user_ends_their_access_tokens_at_once(api_client, dealer_client):
    owner = dealer_client("owner")
    member = DealerUserFactory(customer=owner.user.customer, role="purchasing")
    tokens = login(api_client, member)

    owner.patch(f"/api/v1/company/users/{member.pk}", {"is_active": False}, format="json")

    member.refresh_from_db()
    member.is_active = True  # even if reactivated at once, the old token stays dead
    member.save(update_fields=["is_active"])
    assert me(tokens["access"]).status_code == 401


def test_stored_passwords_use_argon2(api_client, settings):
    # the suite hashes with MD5 for speed; this test runs the production hasher list
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    assert django_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    data = {
        "company": {
            "name": "Anadolu Elektrik",
            "tax_number": "4540536920",
            "tax_office": "Kadıköy",
            "phone": "+90 216 111 22 33",
        },
        "owner": {
            "email": "owner@anadolu.example",
            "password": "Very-Strong-2026!",
            "first_name": "Mehmet",
            "last_name": "Demir",
        },
        "consents": {"terms": True, "kvkk": True},
    }
    assert api_client.post("/api/v1/auth/register", data, format="json").status_code == 202

    stored = User.objects.values_list("password", flat=True).get(email="owner@anadolu.example")
    assert stored.startswith("argon2$argon2id$")
    assert User.objects.get(email="owner@anadolu.example").check_password("Very-Strong-2026!")
