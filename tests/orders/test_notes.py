"""The notes the system writes on an order's status changes ("Placed.", "Paid by card (...)",
"Not paid within 60 minutes.") are stored in the language active when written (a bank's
callback, a worker: English) and shown in the reader's: the dealer API by `Accept-Language`,
the portal in its language, the e-mails in the recipient's. A person's note is shown as they
wrote it."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import translation

from apps.orders import services
from apps.orders.models import Order, OrderStatusChange
from apps.orders.notes import not_paid_note, order_note_shown, paid_by_card_note
from apps.orders.states import STAFF
from tests.orders.conftest import place
from tests.portal.test_portal import browser

pytestmark = [pytest.mark.django_db]


def test_a_stored_system_note_is_shown_in_the_readers_language_whatever_it_was_written_in():
    with translation.override("en"):
        english = paid_by_card_note("CP123")
        minutes = not_paid_note(60)
    with translation.override("tr"):
        turkish = paid_by_card_note("CP123")
        assert order_note_shown(english) == "Kartla ödendi (CP123)."
        assert order_note_shown(minutes) == "60 dakika içinde ödenmedi."
        assert order_note_shown("Placed.") == "Sipariş verildi."
        assert order_note_shown("Please call before delivery.") == "Please call before delivery."
    with translation.override("en"):
        assert order_note_shown(turkish) == "Paid by card (CP123)."
        assert order_note_shown("Placed; waits for the card payment.") == (
            "Placed; waits for the card payment."
        )
    assert order_note_shown("") == ""


def test_the_api_the_portal_and_the_e_mail_show_a_note_the_worker_wrote_in_english(
    shop, django_capture_on_commit_callbacks
):
    shop.product("A-1", price="10")
    number = place(shop.owner, [("A-1", 1)]).json()["number"]  # in English
    order = Order.objects.get(number=number)
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        services.order_cancel(order=order, by=None, reason=not_paid_note(60), actor=STAFF)
    assert (
        OrderStatusChange.objects.filter(order=order).last().note == "Not paid within 60 minutes."
    )

    body = shop.owner.get(f"/api/v1/orders/{number}", HTTP_ACCEPT_LANGUAGE="tr").json()
    assert [change["note"] for change in body["status_history"]] == [
        "Sipariş verildi.",
        "60 dakika içinde ödenmedi.",
    ]
    english = shop.owner.get(f"/api/v1/orders/{number}", HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["status_history"][-1]["note"] == "Not paid within 60 minutes."

    portal, _user = browser(shop)
    assert "60 dakika içinde ödenmedi." in portal.get(f"/portal/orders/{number}/").content.decode()

    (cancelled,) = [m for m in mail.outbox if "60" in m.body]
    assert "60 dakika içinde ödenmedi." in cancelled.body  # the company reads Turkish
    assert "60 dakika içinde ödenmedi." in cancelled.alternatives[0][0]
