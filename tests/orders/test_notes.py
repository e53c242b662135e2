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
from apps.orders.notes import not_paid_note, paid_by_card_note, status_note_shown
from apps.orders.states import SYSTEM
from tests.orders.conftest import place
from tests.portal.test_portal import browser

pytestmark = [pytest.mark.django_db]


def _change(note, from_status="awaiting_payment", to_status="confirmed", actor="system"):
    return OrderStatusChange(from_status=from_status, to_status=to_status, actor=actor, note=note)


def test_a_stored_system_note_is_shown_in_the_readers_language_whatever_it_was_written_in():
    with translation.override("en"):
        english = paid_by_card_note("CP123")
        minutes = not_paid_note(60)
    with translation.override("tr"):
        turkish = paid_by_card_note("CP123")
        assert status_note_shown(_change(english)) == "Kartla ödendi (CP123)."
        assert (
            status_note_shown(_change(minutes, to_status="cancelled"))
            == "60 dakika içinde ödenmedi."
        )
        assert status_note_shown(_change("Placed.", from_status="")) == "Sipariş verildi."
        assert status_note_shown(_change("Please call before delivery.")) == (
            "Please call before delivery."
        )
    with translation.override("en"):
        assert status_note_shown(_change(turkish)) == "Paid by card (CP123)."
        placed = _change("Placed; waits for the card payment.", from_status="")
        assert status_note_shown(placed) == "Placed; waits for the card payment."
    assert status_note_shown(_change("")) == ""


def test_a_persons_note_that_reads_like_the_systems_is_shown_as_written(
    shop, django_capture_on_commit_callbacks
):
    """A dealer's cancel reason "Paid by card (CP-FAKE)." was shown to Turkish readers as the
    system's "Kartla ödendi (CP-FAKE).": a payment confirmation nobody made."""
    shop.product("A-1", price="10")
    number = place(shop.owner, [("A-1", 1)], note="Placed.").json()["number"]
    order = Order.objects.get(number=number)
    with django_capture_on_commit_callbacks(execute=True):
        cancel = shop.owner.post(
            f"/api/v1/orders/{number}/cancel", {"reason": "Paid by card (CP-FAKE)."}
        )
    assert cancel.status_code == 200
    body = shop.owner.get(f"/api/v1/orders/{number}", HTTP_ACCEPT_LANGUAGE="tr").json()
    assert [change["note"] for change in body["status_history"]] == [
        "Sipariş verildi.",  # the system's, on placement
        "Paid by card (CP-FAKE).",  # the dealer's, as written
    ]
    assert body["note"] == "Placed."  # the dealer's own note on the order
    portal, _user = browser(shop)
    page = portal.get(f"/portal/orders/{number}/").content.decode()
    assert "Paid by card (CP-FAKE)." in page and "Kartla ödendi" not in page
    assert order.status_history.count() == 2


def test_the_api_the_portal_and_the_e_mail_show_a_note_the_worker_wrote_in_english(
    shop, django_capture_on_commit_callbacks
):
    shop.product("A-1", price="10")
    number = place(shop.owner, [("A-1", 1)], payment_method="card").json()["number"]
    order = Order.objects.get(number=number)
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        services.order_cancel(order=order, by=None, reason=not_paid_note(60), actor=SYSTEM)
    assert (
        OrderStatusChange.objects.filter(order=order).last().note == "Not paid within 60 minutes."
    )

    body = shop.owner.get(f"/api/v1/orders/{number}", HTTP_ACCEPT_LANGUAGE="tr").json()
    assert [change["note"] for change in body["status_history"]] == [
        "Sipariş verildi; kartla ödemeyi bekliyor.",
        "60 dakika içinde ödenmedi.",
    ]
    english = shop.owner.get(f"/api/v1/orders/{number}", HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["status_history"][-1]["note"] == "Not paid within 60 minutes."

    portal, _user = browser(shop)
    assert "60 dakika içinde ödenmedi." in portal.get(f"/portal/orders/{number}/").content.decode()

    (cancelled,) = [m for m in mail.outbox if "60" in m.body]
    assert "60 dakika içinde ödenmedi." in cancelled.body  # the company reads Turkish
    assert "60 dakika içinde ödenmedi." in cancelled.alternatives[0][0]
