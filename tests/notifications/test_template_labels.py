"""The notification log names each message by what it is ("Password reset link"), not by its
template path (``accounts/password_reset``), in the column, the detail and the filter."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from apps.notifications.kinds import TEMPLATE_LABELS, template_label
from apps.notifications.models import Notification

pytestmark = [pytest.mark.django_db]

LOG = "/admin/notifications/notification/"


def template_keys() -> set[str]:
    """Every message template on disk, as ``email_notify`` / ``sms_notify`` name them."""
    root = Path(settings.BASE_DIR) / "templates"
    emails = {
        str(path.relative_to(root / "emails").with_suffix(""))
        for path in (root / "emails").rglob("*.txt")
        if not path.stem.endswith("_subject")
    }
    texts = {path.stem for path in (root / "sms").glob("*.txt")}
    return emails | texts


def test_every_message_template_has_a_label_and_every_label_a_template():
    assert set(TEMPLATE_LABELS) == template_keys()


def test_an_unknown_template_is_shown_as_its_key():
    assert template_label("accounts/password_reset") == "Password reset link"
    assert template_label("gone/old_template") == "gone/old_template"
    with translation.override("tr"):
        assert template_label("accounts/password_reset") == "Parola sıfırlama bağlantısı"


def test_the_log_shows_and_filters_by_the_label(staff_client):
    Notification.objects.create(channel="email", to="a@x.example", template="orders/order_placed")
    Notification.objects.create(channel="sms", to="+905551112233", template="otp")
    client = staff_client(superuser=True)

    page = client.get(LOG).content.decode()
    assert "Order placed" in page and "Sign-in code (SMS)" in page
    assert ">orders/order_placed<" not in page

    response = client.get(LOG, {"template": "otp"})
    assert [n.template for n in response.context["cl"].result_list] == ["otp"]
    assert "?template=orders%2Forder_placed" in page  # the filter offers it by its label
