"""Anonymous auth calls reveal nothing and cannot be hammered: a password reset request does
the same work for every address (the lookup and the e-mail happen in a queued task); reset
e-mails are limited per address; the auth endpoints are limited per IP (429, Retry-After)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import AuthEvent
from apps.notifications.models import Notification
from tests.factories import DealerUserFactory

pytestmark = [pytest.mark.django_db]

RESET = "/api/v1/auth/password-reset"


def reset_request_work(client, capture, email):
    """The answer, the SQL the request ran and what it left to run after commit."""
    with capture(execute=False) as queued, CaptureQueriesContext(connection) as queries:
        response = client.post(RESET, {"email": email})
    # the statements, with the address and the time as placeholders (the durable queue's row
    # holds both: the same statement for every address)
    statements = [
        re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?\+00:00", "<now>", q["sql"]).replace(
            email, "<email>"
        )
        for q in queries.captured_queries
    ]
    return response, statements, queued


def test_a_reset_request_does_the_same_work_for_known_unknown_and_inactive_addresses(
    api_client, django_capture_on_commit_callbacks
):
    known = DealerUserFactory(email="known@x.example")
    DealerUserFactory(email="inactive@x.example", is_active=False)
    work = {
        email: reset_request_work(api_client, django_capture_on_commit_callbacks, email)
        for email in ("known@x.example", "inactive@x.example", "nobody@x.example")
    }

    answers = {(r.status_code, r.content) for r, _sql, _queued in work.values()}
    assert len(answers) == 1 and next(iter(answers))[0] == 202
    assert len({tuple(sql) for _r, sql, _queued in work.values()}) == 1
    assert all(len(queued) == 1 for _r, _sql, queued in work.values())
    assert Notification.objects.count() == 0 and mail.outbox == []  # nothing in the request

    with django_capture_on_commit_callbacks(execute=True):
        for _r, _sql, queued in work.values():
            queued[0]()  # the queued task (eager here), which queues the e-mail
    (message,) = mail.outbox
    assert message.to == [known.email]


def test_twenty_resets_to_one_address_send_three_emails(
    api_client, django_capture_on_commit_callbacks, settings
):
    settings.RATE_LIMIT_AUTH_IP = None  # this test is about the per-address limit
    user = DealerUserFactory()
    for _ in range(20):
        with django_capture_on_commit_callbacks(execute=True):
            assert api_client.post(RESET, {"email": user.email}).status_code == 202
    assert len(mail.outbox) == 3
    assert (
        AuthEvent.objects.filter(kind="password_reset_requested", detail__contains="limit").count()
        == 17
    )


def test_the_per_address_limit_counts_each_address_apart(
    api_client, django_capture_on_commit_callbacks, settings
):
    settings.PASSWORD_RESET_PER_ADDRESS = "1/h"
    first, second = DealerUserFactory(), DealerUserFactory()
    for email in (first.email, first.email, second.email):
        with django_capture_on_commit_callbacks(execute=True):
            api_client.post(RESET, {"email": email})
    assert sorted(m.to[0] for m in mail.outbox) == sorted([first.email, second.email])


@pytest.mark.usefixtures("frozen_window")
def test_anonymous_auth_calls_are_limited_per_ip_with_retry_after(api_client, settings):
    settings.RATE_LIMIT_AUTH_IP = "3/min"
    office = "203.0.113.9"
    calls = [
        api_client.post(RESET, {"email": "a@x.example"}, REMOTE_ADDR=office),
        api_client.post(
            "/api/v1/auth/token", {"email": "a@x.example", "password": "x"}, REMOTE_ADDR=office
        ),
        api_client.post("/api/v1/auth/register", {}, format="json", REMOTE_ADDR=office),
    ]
    assert [c.status_code for c in calls] == [202, 401, 400]

    refused = api_client.post(
        "/api/v1/auth/register/verify", {"uid": "x", "token": "y"}, REMOTE_ADDR=office
    )

    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    elsewhere = api_client.post(RESET, {"email": "a@x.example"}, REMOTE_ADDR="198.51.100.1")
    assert elsewhere.status_code == 202
    # a colleague's refresh from the same office is no guess: not held by those calls
    refreshed = api_client.post(
        "/api/v1/auth/token/refresh", {"refresh": "not-a-token"}, REMOTE_ADDR=office
    )
    assert refreshed.status_code == 401


def test_the_auth_limits_default_to_20_calls_a_minute_and_3_reset_emails_an_hour(settings):
    assert settings.RATE_LIMIT_AUTH_IP == "20/min"
    assert settings.PASSWORD_RESET_PER_ADDRESS == "3/h"
