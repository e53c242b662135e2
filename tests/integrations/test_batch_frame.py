"""The batch frame of the integration API, through its first resource: POST customers."""

from decimal import Decimal

import pytest
from auditlog.models import LogEntry

from apps.accounts.models import Address, CreditLimitChange, Customer, CustomerStatus
from apps.integrations.models import BatchLog
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db]

URL = "/api/integration/v1/customers"


def record(code="ERP-001", **overrides):
    data = {
        "code": code,
        "name": "Ege Yapı Market",
        "tax_number": "4540536920",
        "tax_office": "Bornova",
        "tier": "A",
        "credit_limit": "50000.00",
        "status": "active",
        "addresses": [
            {
                "type": "billing",
                "title": "Merkez",
                "line1": "Kazım Dirik Mh.",
                "city": "İzmir",
                "is_default": True,
            },
            {"type": "shipping", "title": "Depo", "line1": "Pınarbaşı", "city": "İzmir"},
        ],
    }
    data.update(overrides)
    return data


def test_new_customer_is_created_active_with_addresses_and_credit_history(integration_client):
    response = integration_client().post(URL, [record()], format="json")
    assert response.status_code == 200
    assert response.json() == {
        "received": 1,
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "failed": 0,
        "errors": [],
    }
    customer = Customer.objects.get(code="ERP-001")
    assert customer.status == CustomerStatus.ACTIVE  # no approval for ERP customers
    assert customer.tier == "A" and customer.credit_limit == Decimal("50000.00")
    assert Address.objects.filter(customer=customer).count() == 2
    assert CreditLimitChange.objects.get(customer=customer).source == "erp"


def test_same_record_again_is_unchanged_and_writes_nothing(integration_client):
    client = integration_client()
    client.post(URL, [record()], format="json")
    audit_rows = LogEntry.objects.count()
    customer = Customer.objects.get(code="ERP-001")

    response = client.post(URL, [record()], format="json")

    assert response.json()["unchanged"] == 1 and response.json()["updated"] == 0
    assert LogEntry.objects.count() == audit_rows  # no audit noise
    assert Customer.objects.get(code="ERP-001").updated_at == customer.updated_at


def test_changed_record_is_updated_and_credit_change_is_kept(integration_client):
    client = integration_client()
    client.post(URL, [record()], format="json")
    response = client.post(URL, [record(tier="B", credit_limit="75000.00")], format="json")
    assert response.json()["updated"] == 1
    customer = Customer.objects.get(code="ERP-001")
    assert customer.tier == "B"
    change = customer.credit_limit_changes.first()
    assert (change.old_limit, change.new_limit) == (Decimal("50000.00"), Decimal("75000.00"))


def test_valid_records_are_applied_and_invalid_ones_reported_by_index_and_key(integration_client):
    batch = [
        record("OK-1", tax_number="4540536920"),
        record("BAD-1", tax_number="123"),
        {"code": "BAD-2"},
        "not an object",
        record("OK-2", tax_number="10000000146", tier="Z"),
        record("OK-3", tax_number="10000000146"),
    ]
    body = integration_client().post(URL, batch, format="json").json()
    assert (body["received"], body["created"], body["failed"]) == (6, 2, 4)
    by_index = {e["index"]: e for e in body["errors"]}
    assert set(by_index) == {1, 2, 3, 4}
    assert by_index[1]["key"] == "BAD-1" and "tax_number" in by_index[1]["errors"]
    assert {"name", "tax_number"} <= set(by_index[2]["errors"])
    assert by_index[3]["key"] is None
    assert by_index[4]["key"] == "OK-2" and "tier" in by_index[4]["errors"]
    assert set(Customer.objects.values_list("code", flat=True)) == {"OK-1", "OK-3"}


def test_a_tax_number_clash_fails_only_that_record(integration_client):
    CustomerFactory(code="LOCAL", tax_number="4540536920")
    body = (
        integration_client()
        .post(URL, [record("ERP-9"), record("ERP-10", tax_number="10000000146")], format="json")
        .json()
    )
    assert body["created"] == 1 and body["failed"] == 1
    assert body["errors"][0]["key"] == "ERP-9"


def test_more_than_the_maximum_answers_413_and_changes_nothing(integration_client, settings):
    settings.INTEGRATION_MAX_BATCH = 3
    batch = [record(f"C{n}", tax_number="10000000146") for n in range(4)]
    response = integration_client().post(URL, batch, format="json")
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert not Customer.objects.exists()


@pytest.mark.parametrize("payload", [{"code": "X"}, "text", 42, None])
def test_a_body_that_is_not_a_list_answers_400(integration_client, payload):
    response = integration_client().post(URL, payload, format="json")
    assert response.status_code == 400


def test_idempotency_key_replays_the_first_answer(integration_client):
    client = integration_client()
    first = client.post(URL, [record()], format="json", HTTP_IDEMPOTENCY_KEY="batch-42")
    Customer.objects.filter(code="ERP-001").update(name="changed meanwhile")
    second = client.post(URL, [record()], format="json", HTTP_IDEMPOTENCY_KEY="batch-42")
    assert second.status_code == 200
    assert second.json() == first.json()  # created: 1, replayed
    assert second["Idempotent-Replayed"] == "true"
    assert Customer.objects.get(code="ERP-001").name == "changed meanwhile"  # not re-applied
    assert BatchLog.objects.count() == 1


def test_idempotency_key_reused_with_another_body_answers_409(integration_client):
    client = integration_client()
    client.post(URL, [record()], format="json", HTTP_IDEMPOTENCY_KEY="batch-43")
    response = client.post(URL, [record(tier="C")], format="json", HTTP_IDEMPOTENCY_KEY="batch-43")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert Customer.objects.get(code="ERP-001").tier == "A"


def test_idempotency_keys_of_different_api_keys_do_not_collide(integration_client):
    first, second = integration_client(name="a"), integration_client(name="b")
    first.post(URL, [record()], format="json", HTTP_IDEMPOTENCY_KEY="same")
    response = second.post(
        URL, [record("ERP-2", tax_number="10000000146")], format="json", HTTP_IDEMPOTENCY_KEY="same"
    )
    assert response.json()["created"] == 1


def test_every_batch_is_logged_with_who_and_counts(integration_client):
    client = integration_client()
    client.post(URL, [record(), {"code": "bad"}], format="json", REMOTE_ADDR="10.0.0.5")
    log = BatchLog.objects.get()
    assert log.api_key == client.api_key and log.resource == "customers"
    assert (log.received, log.created, log.failed) == (2, 1, 1)
    assert log.ip_address == "10.0.0.5"
    assert log.errors[0]["index"] == 1


def test_suspending_through_the_erp_locks_the_dealer_out(integration_client, api_client):
    from tests.factories import DEFAULT_PASSWORD, DealerUserFactory

    client = integration_client()
    client.post(URL, [record()], format="json")
    user = DealerUserFactory(customer=Customer.objects.get(code="ERP-001"))
    creds = {"email": user.email, "password": DEFAULT_PASSWORD}
    assert api_client.post("/api/v1/auth/token", creds).status_code == 200
    client.post(URL, [record(status="suspended")], format="json")
    assert api_client.post("/api/v1/auth/token", creds).json()["code"] == "customer_suspended"


def test_a_code_twice_in_one_batch_fails_the_second_naming_the_first(integration_client):
    """As every feed: a key may appear once per batch (which record would count is
    ambiguous), and the same batch again changes nothing."""
    client = integration_client()
    batch = [record("ERP-9"), record("ERP-9", name="Another name")]
    body = client.post(URL, batch, format="json").json()
    assert (body["created"], body["updated"], body["failed"]) == (1, 0, 1)
    [error] = body["errors"]
    assert (error["index"], error["key"]) == (1, "ERP-9")
    assert "record 0" in error["errors"]["code"][0]
    assert Customer.objects.get(code="ERP-9").name == "Ege Yapı Market"
    again = client.post(URL, batch, format="json").json()
    assert (again["unchanged"], again["updated"], again["failed"]) == (1, 0, 1)


def test_erp_addresses_give_each_type_a_default_and_a_resend_changes_nothing(integration_client):
    """As in the dealer API, a type with addresses always has a default: the ERP names one
    with ``is_default: true``; a type it names none for gets its oldest address, so an order
    without address ids finds both. ``is_default: false`` unsets nothing."""
    client = integration_client()
    data = record(
        addresses=[
            {"type": "billing", "title": "Merkez", "line1": "1", "city": "İzmir"},
            {"type": "shipping", "title": "Depo", "line1": "2", "city": "İzmir"},
            {"type": "shipping", "title": "Şube", "line1": "3", "city": "İzmir"},
        ]
    )
    assert client.post(URL, [data], format="json").json()["created"] == 1
    customer = Customer.objects.get(code="ERP-001")

    def defaults():
        return sorted(
            Address.objects.filter(customer=customer, is_default=True).values_list("type", "title")
        )

    assert defaults() == [("billing", "Merkez"), ("shipping", "Depo")]
    again = client.post(URL, [data], format="json").json()
    assert (again["unchanged"], again["updated"]) == (1, 0)

    data["addresses"][1]["is_default"] = False
    data["addresses"][2]["is_default"] = True
    moved = client.post(URL, [data], format="json").json()
    assert moved["updated"] == 1
    assert defaults() == [("billing", "Merkez"), ("shipping", "Şube")]
    assert client.post(URL, [data], format="json").json()["unchanged"] == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "Demo Bayi\nSatır 2"), ("tax_office", "Kadıköy\tX"), ("phone", "0212\r555")],
)
def test_a_dealers_one_line_fields_refuse_tabs_and_line_breaks(integration_client, field, value):
    body = integration_client().post(URL, [record(**{field: value})], format="json").json()
    assert body["failed"] == 1
    assert field in body["errors"][0]["errors"], body
    assert not Customer.objects.exists()
