"""JWT login, lifetimes, claims, refresh rotation and reuse, logout; refused accounts."""

from datetime import timedelta

import jwt
import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import AuthEvent, CustomerStatus
from tests.conftest import login
from tests.factories import DEFAULT_PASSWORD, DealerUserFactory, StaffUserFactory

pytestmark = [pytest.mark.django_db]


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def token_pair(client, user, password=DEFAULT_PASSWORD):
    return client.post("/api/v1/auth/token", {"email": user.email, "password": password})


def test_login_returns_access_and_refresh_with_the_documented_claims(api_client):
    user = DealerUserFactory(role="purchasing")
    response = token_pair(api_client, user)
    assert response.status_code == 200
    access = claims(response.json()["access"])
    assert access["sub"] == str(user.pk)
    assert access["email"] == user.email
    assert access["role"] == "purchasing"
    assert access["customer_id"] == user.customer_id
    assert access["token_type"] == "access"
    assert claims(response.json()["refresh"])["token_type"] == "refresh"


def test_access_lives_15_minutes_and_refresh_7_days(api_client):
    user = DealerUserFactory()
    tokens = token_pair(api_client, user).json()
    access, refresh = claims(tokens["access"]), claims(tokens["refresh"])
    assert access["exp"] - access["iat"] == 15 * 60
    assert refresh["exp"] - refresh["iat"] == 7 * 24 * 3600


def test_access_token_stops_working_after_15_minutes(api_client):
    user = DealerUserFactory()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        login(api_client, user)
        assert api_client.get("/api/v1/me").status_code == 200
        traveller.shift(timedelta(minutes=14, seconds=50))
        assert api_client.get("/api/v1/me").status_code == 200
        traveller.shift(timedelta(seconds=20))
        response = api_client.get("/api/v1/me")
        assert response.status_code == 401
        assert response.json()["code"] == "token_not_valid"


def test_refresh_token_expires_after_7_days(api_client):
    user = DealerUserFactory()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        refresh = token_pair(api_client, user).json()["refresh"]
        traveller.shift(timedelta(days=7, seconds=1))
        response = api_client.post("/api/v1/auth/token/refresh", {"refresh": refresh})
        assert response.status_code == 401


def test_login_email_is_case_insensitive(api_client):
    user = DealerUserFactory(email="mixed@example.com")
    response = api_client.post(
        "/api/v1/auth/token", {"email": "  MiXeD@Example.COM ", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200
    assert claims(response.json()["access"])["sub"] == str(user.pk)


@pytest.mark.parametrize(
    "body",
    [{"email": "nobody@example.com", "password": DEFAULT_PASSWORD}, {"password": "x"}, {}],
)
def test_bad_credentials_answer_401_or_400_and_issue_nothing(api_client, body):
    DealerUserFactory(email="someone@example.com")
    response = api_client.post("/api/v1/auth/token", body)
    assert response.status_code in (400, 401)
    assert "access" not in response.json()


def test_wrong_password_answers_401_invalid_credentials(api_client):
    user = DealerUserFactory()
    response = token_pair(api_client, user, password="wrong-password")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert AuthEvent.objects.filter(kind="login_failed", email=user.email).count() == 1


def test_refresh_rotates_and_the_old_refresh_token_answers_401(api_client):
    user = DealerUserFactory()
    first = token_pair(api_client, user).json()
    rotated = api_client.post("/api/v1/auth/token/refresh", {"refresh": first["refresh"]})
    assert rotated.status_code == 200
    assert rotated.json()["refresh"] != first["refresh"]
    reused = api_client.post("/api/v1/auth/token/refresh", {"refresh": first["refresh"]})
    assert reused.status_code == 401


def test_refresh_reads_claims_afresh(api_client):
    user = DealerUserFactory(role="viewer")
    refresh = token_pair(api_client, user).json()["refresh"]
    user.role = "finance"
    user.save()
    access = api_client.post("/api/v1/auth/token/refresh", {"refresh": refresh}).json()["access"]
    assert claims(access)["role"] == "finance"


def test_an_access_token_is_not_a_refresh_token(api_client):
    tokens = token_pair(api_client, DealerUserFactory()).json()
    response = api_client.post("/api/v1/auth/token/refresh", {"refresh": tokens["access"]})
    assert response.status_code == 401


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_the_bearer_scheme_is_read_in_any_case(api_client, scheme):
    """RFC 9110: an authentication scheme's name is case-insensitive; ``bearer`` was 401."""
    access = token_pair(api_client, DealerUserFactory()).json()["access"]
    response = api_client.get("/api/v1/me", HTTP_AUTHORIZATION=f"{scheme} {access}")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("kind", ["garbage", "refresh token"])
def test_a_bad_bearer_token_answers_401_in_the_error_format(api_client, kind):
    """``{detail, code, errors}`` with no field errors: the token library's own messages
    (its token classes) are not fields of the request."""
    token = "garbage"
    if kind == "refresh token":
        token = token_pair(api_client, DealerUserFactory()).json()["refresh"]
    response = api_client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "token_not_valid" and body["errors"] == {}
    assert isinstance(body["detail"], str) and body["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("exp", [1e20, -1e20])
def test_a_signed_token_whose_expiry_is_no_time_answers_401(api_client, exp):
    # only a holder of the signing key can make one; still a 401, never an overflow's 500
    import jwt
    from rest_framework_simplejwt.state import token_backend

    access = token_pair(api_client, DealerUserFactory()).json()["access"]
    claims = {**token_backend.decode(access), "exp": exp}
    forged = jwt.encode(claims, token_backend.signing_key, algorithm=token_backend.algorithm)
    response = api_client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_garbage_refresh_token_answers_401(api_client):
    response = api_client.post("/api/v1/auth/token/refresh", {"refresh": "not.a.token"})
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_logout_answers_205_and_the_refresh_token_stops_working(api_client):
    user = DealerUserFactory()
    tokens = token_pair(api_client, user).json()
    response = api_client.post("/api/v1/auth/logout", {"refresh": tokens["refresh"]})
    assert response.status_code == 205
    refreshed = api_client.post("/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]})
    assert refreshed.status_code == 401
    assert AuthEvent.objects.filter(kind="logout", user=user).exists()


def test_logout_with_a_used_token_answers_401(api_client):
    tokens = token_pair(api_client, DealerUserFactory()).json()
    api_client.post("/api/v1/auth/logout", {"refresh": tokens["refresh"]})
    assert api_client.post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}).status_code == 401


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (CustomerStatus.PENDING, "customer_pending"),
        (CustomerStatus.SUSPENDED, "customer_suspended"),
        (CustomerStatus.REJECTED, "customer_inactive"),
    ],
)
def test_users_of_pending_suspended_or_rejected_companies_cannot_log_in(api_client, status, code):
    """The password is right: authenticated, not allowed (API.md's 403), as a request with a
    good token of that company answers; a wrong password says nothing of the company."""
    user = DealerUserFactory(customer__status=status)
    response = token_pair(api_client, user)
    assert response.status_code == 403
    assert response.json()["code"] == code
    wrong = api_client.post("/api/v1/auth/token", {"email": user.email, "password": "Wrong-2026!"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_credentials"


def test_inactive_user_cannot_log_in(api_client):
    user = DealerUserFactory(is_active=False)
    response = token_pair(api_client, user)
    assert response.status_code == 401
    assert response.json()["code"] == "user_inactive"


def test_existing_access_token_stops_working_when_the_company_is_suspended(api_client):
    user = DealerUserFactory()
    tokens = login(api_client, user)
    assert api_client.get("/api/v1/me").status_code == 200
    user.customer.status = CustomerStatus.SUSPENDED
    user.customer.save()
    response = api_client.get("/api/v1/me")
    # the token is good: authenticated, not allowed (a 401 sent clients to log in again)
    assert response.status_code == 403
    assert response.json()["code"] == "customer_suspended"
    refreshed = APIClient().post("/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]})
    assert refreshed.status_code == 403 and refreshed.json()["code"] == "customer_suspended"


def test_existing_access_token_stops_working_when_the_user_is_deactivated(api_client):
    user = DealerUserFactory()
    login(api_client, user)
    user.is_active = False
    user.save()
    assert api_client.get("/api/v1/me").status_code == 401


def test_login_and_failures_are_written_to_the_auth_log_with_ip_and_agent(api_client):
    user = DealerUserFactory()
    api_client.post(
        "/api/v1/auth/token",
        {"email": user.email, "password": DEFAULT_PASSWORD},
        HTTP_USER_AGENT="ERP-Connector/1.0",
        REMOTE_ADDR="10.1.2.3",
    )
    event = AuthEvent.objects.get(kind="login", user=user)
    assert event.ip_address == "10.1.2.3"
    assert event.user_agent == "ERP-Connector/1.0"


def test_staff_can_obtain_a_token_but_is_not_a_dealer(api_client):
    staff = StaffUserFactory()
    login(api_client, staff)
    me = api_client.get("/api/v1/me").json()
    assert me["is_staff"] is True and me["company"] is None
    assert api_client.get("/api/v1/company").status_code == 403


def test_malformed_authorization_header_answers_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer nonsense")
    assert api_client.get("/api/v1/me").status_code == 401
    api_client.credentials()
    assert api_client.get("/api/v1/me").status_code == 401
