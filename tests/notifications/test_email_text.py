"""The plain-text part of an e-mail is not HTML: links and names arrive as written."""

from __future__ import annotations

import pytest
from django.core import mail

from apps.notifications.services import email_notify
from tests.factories import DealerUserFactory

pytestmark = [pytest.mark.django_db]


@pytest.mark.parametrize("template", ["accounts/password_reset", "accounts/invitation"])
def test_links_in_the_text_part_are_not_html_escaped(template, django_capture_on_commit_callbacks):
    user = DealerUserFactory(first_name="Ali & Veli")
    link = "https://b2b.example.com/reset-password?uid=MTI&token=abc-123"
    with django_capture_on_commit_callbacks(execute=True):
        email_notify(
            template=template,
            to=user.email,
            user=user,
            context={"link": link, "minutes": 60, "hours": 72},
        )
    (message,) = mail.outbox
    assert link in message.body
    assert "&amp;" not in message.body
    html = message.alternatives[0][0]
    assert "uid=MTI&amp;token=abc-123" in html  # the HTML part stays escaped
