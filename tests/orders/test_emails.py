"""Order e-mails: the placing user hears of the order and of its later statuses; owners hear
of orders waiting for their approval."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail

from apps.notifications.models import Notification
from apps.orders import services
from apps.orders.models import Order
from tests.orders.conftest import place

pytestmark = [pytest.mark.django_db]


def test_order_placed_and_shipped_emails(shop, django_capture_on_commit_callbacks):
    shop.product("A-1", price="1000")
    with django_capture_on_commit_callbacks(execute=True):
        number = place(shop.owner, [("A-1", 2)]).json()["number"]
    assert [m.to for m in mail.outbox] == [[shop.owner.user.email]]
    # amounts as the reader's language writes them (grouped), not the context's "2400.00"
    assert number in mail.outbox[0].subject and "2.400,00 TRY" in mail.outbox[0].body  # Turkish
    assert "A-1" in mail.outbox[0].alternatives[0][0]
    order = Order.objects.get(number=number)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_set_status(order=order, status="processing", actor="erp")
    assert len(mail.outbox) == 1  # processing is not announced
    with django_capture_on_commit_callbacks(execute=True):
        services.order_set_status(
            order=order, status="shipped", actor="erp", tracking_number="YK-1", carrier="Yurtiçi"
        )
    assert len(mail.outbox) == 2 and "YK-1 (Yurtiçi)" in mail.outbox[1].body
    assert Notification.objects.filter(template="orders/order_status", status="sent").count() == 1
    # both lead to the order's page in the portal
    link = f"{settings.DEALER_PORTAL_URL.rstrip('/')}/portal/orders/{number}/"
    assert all(link in message.body for message in mail.outbox)
    assert f'href="{link}"' in mail.outbox[0].alternatives[0][0]


def test_owners_hear_of_orders_waiting_for_their_approval(shop, django_capture_on_commit_callbacks):
    shop.product("A-1", price="100")
    buyer = shop.client("purchasing", order_limit=Decimal("10.00"))
    with django_capture_on_commit_callbacks(execute=True):
        place(buyer, [("A-1", 1)])
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted([buyer.user.email, shop.owner.user.email])
    # the owner is asked to decide: who placed it, for how much, over which limit, and where
    (asked,) = [m for m in mail.outbox if m.to == [shop.owner.user.email]]
    number = Order.objects.get().number
    assert asked.subject == f"{number} numaralı sipariş onayınızı bekliyor"
    buyer_name = buyer.user.get_full_name()
    assert f"{buyer_name}, {number} numaralı siparişi 120,00 TRY tutarında verdi" in asked.body
    assert "sipariş sınırı olan 10,00 TRY" in asked.body
    assert f"{settings.DEALER_PORTAL_URL.rstrip('/')}/portal/approvals/" in asked.body


def test_a_shipment_without_a_carrier_names_its_tracking_number_alone(
    shop, django_capture_on_commit_callbacks
):
    shop.product("A-1", price="10")
    number = place(shop.owner, [("A-1", 1)]).json()["number"]
    order = Order.objects.get(number=number)
    services.order_set_status(order=order, status="processing", actor="erp")
    with django_capture_on_commit_callbacks(execute=True):
        services.order_set_status(order=order, status="shipped", actor="erp", tracking_number="T-9")
    (message,) = [m for m in mail.outbox if "T-9" in m.body]
    assert "T-9\n" in message.body and "()" not in message.body
    assert "T-9</p>" in message.alternatives[0][0]
