"""Every change of a customer, address or user is audited with old and new values."""

import json
from decimal import Decimal

import pytest
from auditlog.models import LogEntry

from apps.accounts.services.customers import customer_set_credit_limit
from tests.factories import CustomerFactory, DealerUserFactory

pytestmark = [pytest.mark.django_db]


def changes(entry):
    data = entry.changes
    return json.loads(data) if isinstance(data, str) else data


def test_a_customer_change_is_audited_with_old_and_new_values():
    customer = CustomerFactory(credit_limit=Decimal("1000.00"))
    customer_set_credit_limit(
        customer=customer, new_limit=Decimal("2500.00"), by=None, reason="good payer"
    )
    entry = LogEntry.objects.get_for_object(customer).filter(action=LogEntry.Action.UPDATE).first()
    assert changes(entry)["credit_limit"] == ["1000.00", "2500.00"]


def test_a_request_records_the_acting_user(dealer_client):
    client = dealer_client("owner")
    response = client.post(
        "/api/v1/company/addresses",
        {"type": "billing", "title": "HQ", "line1": "1", "city": "Ankara"},
    )
    entry = LogEntry.objects.filter(object_pk=str(response.json()["id"])).first()
    assert entry.action == LogEntry.Action.CREATE
    assert entry.actor == client.user


def test_password_hashes_are_never_in_the_audit_log():
    user = DealerUserFactory()
    user.set_password("Another-Secret-99")
    user.save()
    for entry in LogEntry.objects.get_for_object(user):
        assert "password" not in changes(entry)


def test_a_created_rows_entry_names_its_own_fields_not_the_rows_pointing_at_it():
    """An API key is pointed at by batch logs and webhook endpoints: those reverse relations are
    not fields of the key, and its creation entry lists only what the key holds."""
    from apps.accounts.services.api_keys import api_key_create  # the service under test

    api_key, _raw = api_key_create(name="ERP connector", scopes=["stock:write"])
    entry = LogEntry.objects.get_for_object(api_key).get(action=LogEntry.Action.CREATE)
    recorded = set(changes(entry))

    assert {"name", "scopes"} <= recorded
    assert not recorded & {"batches", "webhook_endpoints"}
