"""The demo's orders read as a week of real business: shipments carry a carrier and a tracking
number, an order's steps fall on different days with its stock movements at the same times,
and carts are being filled, so the cart and checkout pages show something."""

from __future__ import annotations

import datetime
import itertools
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.inventory.models import StockMovement
from apps.orders.models import CartItem, Order

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def seeded():
    call_command("seed_demo", "--products", "40", "--dealers", "4", stdout=StringIO())


def test_shipped_and_delivered_demo_orders_have_a_carrier_and_a_tracking_number(seeded):
    sent = Order.objects.filter(status__in=("shipped", "delivered"))
    assert sent.count() >= 2
    assert all(order.carrier and order.tracking_number for order in sent)
    assert len({order.tracking_number for order in sent}) == sent.count()


def test_a_delivered_demo_order_moved_on_different_days_with_its_stock(seeded):
    order = Order.objects.filter(status="delivered").order_by("pk").first()
    steps = list(order.status_history.order_by("created_at", "id"))
    days = [step.created_at.date() for step in steps]

    assert [step.to_status for step in steps][-3:] == ["processing", "shipped", "delivered"]
    assert len(set(days)) == len(days), days
    assert (order.shipped_at, order.delivered_at) == (steps[-2].created_at, steps[-1].created_at)
    sales = StockMovement.objects.filter(reference=f"order:{order.number}", kind="sale")
    assert sales.exists()
    assert {movement.created_at for movement in sales} == {order.shipped_at}


def test_a_demo_orders_audit_entries_are_at_its_steps_times(seeded):
    """The order page said shipped and delivered days ago; its audit log had every step
    today, quoting "Delivered at None -> (today)"."""
    import datetime as dt

    from auditlog.models import LogEntry

    order = Order.objects.filter(status="delivered").order_by("pk").first()
    entries = list(LogEntry.objects.get_for_object(order).order_by("timestamp"))
    steps = list(order.status_history.order_by("created_at", "id"))
    assert entries[0].timestamp <= steps[0].created_at + dt.timedelta(seconds=1)
    assert entries[-1].timestamp <= order.delivered_at + dt.timedelta(seconds=1)
    [delivered] = [
        e for e in entries if (e.changes or {}).get("delivered_at", ["", "None"])[1] != "None"
    ]
    quoted = dt.datetime.fromisoformat(delivered.changes["delivered_at"][1]).replace(tzinfo=dt.UTC)
    assert abs(quoted - order.delivered_at) < dt.timedelta(seconds=1)
    assert abs(delivered.timestamp - order.delivered_at) < dt.timedelta(seconds=1)


def test_demo_carts_are_being_filled(seeded):
    owners = CartItem.objects.filter(cart__customer__code="DEMO001", cart__user__role="owner")
    assert owners.count() == 2


def test_demo_users_have_their_consents_and_one_owner_a_history(seeded):
    from apps.accounts.models import Consent, User  # the accounts side of the demo
    from apps.accounts.services.consents import consent_current

    owner = User.objects.get(email="owner@demo001.example.com")
    current = consent_current(user=owner)
    assert current["terms"].granted and current["kvkk"].granted
    assert current["marketing"].granted is False  # turned off after the account was opened
    assert Consent.objects.filter(user=owner, kind="marketing").count() == 2
    buyer = User.objects.get(email="purchasing@demo002.example.com")
    assert consent_current(user=buyer)["marketing"] is None  # never asked


def test_the_demo_damaged_return_carries_the_dealers_photo(seeded):
    from apps.returns.models import ReturnPhoto  # the returns side of the demo

    photo = ReturnPhoto.objects.get(request__customer__code="DEMO001")
    assert photo.content_type == "image/jpeg" and photo.size > 0
    assert photo.request.note == "Bir koli ezik geldi"


def test_the_demo_returns_are_worked_on_over_days_after_the_delivery(seeded):
    """Every step of a demo return read the seeding's minute: asked, approved, received and
    credited at once. Each step now comes hours after the one before, after the delivery and
    before now, and the return's times are its history's."""
    from apps.returns.models import ReturnRequest  # the returns side of the demo

    credited = ReturnRequest.objects.get(customer__code="DEMO001", status="credited")
    steps = list(credited.status_history.order_by("created_at", "id"))
    times = [step.created_at for step in steps]
    assert [step.to_status for step in steps] == ["requested", "approved", "received", "credited"]
    assert credited.order.delivered_at < times[0] and times[-1] <= timezone.now()
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(gap >= datetime.timedelta(hours=1) for gap in gaps)
    assert (credited.created_at, credited.decided_at) == (times[0], times[1])
    assert (credited.received_at, credited.credited_at) == (times[2], times[3])
    waiting = ReturnRequest.objects.get(customer__code="DEMO001", status="requested")
    assert waiting.created_at > credited.created_at  # the order's second return came later


def test_the_demo_writes_the_periodic_tasks_as_beat_would(seeded, settings):
    from django_celery_beat.models import PeriodicTask  # the back office's schedule screens

    names = set(PeriodicTask.objects.values_list("name", flat=True))
    assert set(settings.CELERY_BEAT_SCHEDULE) <= names


def test_the_demo_has_a_week_of_sign_ins_and_an_answered_confirmation(seeded):
    """Authentication events were empty until someone signed in; the confirmed balance
    confirmation had nobody who answered it, and both were sent today."""
    from apps.accounts.models import AuthEvent
    from apps.finance.models import BalanceConfirmation

    events = AuthEvent.objects.all()
    assert {"login", "login_failed", "logout", "password_reset_done"} <= set(
        events.values_list("kind", flat=True)
    )
    assert events.filter(user__customer__code="DEMO002").exists()
    assert events.filter(user__email="sales.manager@example.com").exists()
    count = events.count()
    call_command("seed_demo", "--products", "40", "--dealers", "4", stdout=StringIO())
    assert AuthEvent.objects.count() == count  # once

    answered = BalanceConfirmation.objects.get(status="confirmed")
    assert answered.answered_by.email == "owner@demo001.example.com"
    assert answered.sent_by.email == "finance.manager@example.com"
    assert answered.sent_at.date() > answered.as_of
    assert answered.sent_at < answered.answered_at < Order.objects.latest("created_at").created_at
