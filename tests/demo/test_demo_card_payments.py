"""The demo's card payments read as real ones: the declined one's message is written as the
bank's return writes it, so a Turkish dealer reads it in Turkish, the bank's words kept."""

from __future__ import annotations

import pytest
from django.utils import timezone

from apps.demo.finance import _card_payments
from apps.finance.models import CardPayment
from tests.factories import CustomerFactory, DealerUserFactory

pytestmark = [pytest.mark.django_db]


def test_the_demo_declined_card_payment_reads_in_the_dealers_language(api_client):
    customer = CustomerFactory()
    owner = DealerUserFactory(customer=customer, role="owner")
    _card_payments(customer, timezone.localdate())
    declined = CardPayment.objects.get(customer=customer, status="failed")
    api_client.force_authenticate(owner)
    shown = api_client.get(f"/api/v1/payments/{declined.pk}", HTTP_ACCEPT_LANGUAGE="tr").json()
    assert shown["message"] == "Banka ödemeyi reddetti: kartın bakiyesi ya da limiti yetersiz."
