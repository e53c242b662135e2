"""Dates a person types into the ledger (the back office's "Add ledger entry", balance
confirmations): bounded like the ERP's, never a 500 (a due date computed past year 9999)."""

import datetime

import pytest

from apps.core.exceptions import ValidationError
from apps.finance.models import BalanceConfirmation, LedgerEntry
from apps.finance.services.confirmations import confirmation_send
from apps.finance.services.ledger import ledger_post
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db]
D = datetime.date


@pytest.mark.parametrize(
    ("entry_date", "due_date", "field"),
    [
        (D(9999, 12, 31), None, "entry_date"),  # its due date would be past year 9999
        (D(1, 1, 1), None, "entry_date"),
        (D(2026, 12, 1), D(1999, 12, 31), "due_date"),
        (D(2026, 12, 1), D(2040, 1, 1), "due_date"),
    ],
)
def test_an_invoice_entry_with_dates_out_of_bounds_is_refused(entry_date, due_date, field):
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as refused:
        ledger_post(
            customer=customer,
            kind="invoice",
            amount="100.00",
            entry_date=entry_date,
            due_date=due_date,
        )
    assert list(refused.value.errors) == [field]
    assert not LedgerEntry.objects.exists()


def test_a_balance_confirmation_is_for_an_approved_dealer_and_a_date_from_2000():
    pending = CustomerFactory(status="pending")
    with pytest.raises(ValidationError) as refused:
        confirmation_send(customer=pending, as_of=D(2026, 9, 30))
    assert list(refused.value.errors) == ["customer"]
    with pytest.raises(ValidationError) as refused:
        confirmation_send(customer=CustomerFactory(), as_of=D(1, 1, 1))
    assert list(refused.value.errors) == ["as_of"]
    assert not BalanceConfirmation.objects.exists()
