"""Tax numbers are stored in one form (NFKC, ASCII digits) and unique among live companies in
the database; countries are assigned ISO 3166-1 alpha-2 codes, in the dealer API and the ERP
feed alike."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from apps.accounts.models import Address, Customer
from apps.accounts.validators import normalize_tax_number
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db]

ADDRESSES = "/api/v1/company/addresses"
ERP_CUSTOMERS = "/api/integration/v1/customers"


def address(**overrides):
    return {"type": "billing", "title": "HQ", "line1": "1", "city": "Ankara", **overrides}


@pytest.mark.parametrize("country", ["ZZ", "XK", "AA", "QM", "TRK", "T1", "ＴＲ"])
def test_an_unassigned_country_answers_400_on_the_field(dealer_client, country):
    client = dealer_client("owner")
    response = client.post(ADDRESSES, address(country=country))
    assert response.status_code == 400
    assert "country" in response.json()["errors"]
    assert not Address.objects.exists()


def test_a_country_code_is_stored_upper_case(dealer_client):
    client = dealer_client("owner")
    response = client.post(ADDRESSES, address(country="de"))
    assert response.status_code == 201
    assert Address.objects.get().country == "DE"


def test_the_erp_feed_refuses_an_unassigned_country_per_record(integration_client):
    client = integration_client()
    records = [
        {
            "code": "ERP-1",
            "name": "Bad",
            "tax_number": "4540536920",
            "addresses": [address(country="ZZ")],
        },
        {
            "code": "ERP-2",
            "name": "Good",
            "tax_number": "10000000146",
            "addresses": [address(country="TR")],
        },
    ]
    body = client.post(ERP_CUSTOMERS, records, format="json").json()
    assert body["failed"] == 1
    (error,) = body["errors"]
    assert error["key"] == "ERP-1" and any("country" in field for field in error["errors"])
    assert list(Customer.objects.values_list("code", flat=True)) == ["ERP-2"]


def test_the_erp_feed_stores_a_full_width_tax_number_normalised_and_sees_the_clash(
    integration_client,
):
    client = integration_client()
    first = {"code": "ERP-1", "name": "Anadolu", "tax_number": "45405369２0"}
    assert client.post(ERP_CUSTOMERS, [first], format="json").json()["failed"] == 0
    assert Customer.objects.get(code="ERP-1").tax_number == "4540536920"

    twin = {"code": "ERP-2", "name": "Anadolu again", "tax_number": "4540536920"}
    body = client.post(ERP_CUSTOMERS, [twin], format="json").json()

    assert body["failed"] == 1 and "tax_number" in body["errors"][0]["errors"]
    assert not Customer.objects.filter(code="ERP-2").exists()


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("45405369２0", "4540536920"),  # full-width digit
        ("４５４０５３６９２０", "4540536920"),
        ("٤٥٤٠٥٣٦٩٢٠", "4540536920"),  # Arabic-Indic digits
        (" 454 053 6920\u00a0", "4540536920"),
        ("454053692O", "454053692O"),  # a letter is kept, to be refused
    ],
)
def test_tax_numbers_are_normalised_with_nfkc_to_ascii_digits(raw, stored):
    assert normalize_tax_number(raw) == stored


def test_a_model_form_stores_the_normalised_tax_number():
    customer = CustomerFactory.build(code="NEW-1", tax_number="45405369２0")
    customer.full_clean()
    assert customer.tax_number == "4540536920"
    with pytest.raises(ValidationError):
        CustomerFactory.build(code="NEW-2", tax_number="454053692O").full_clean()


def test_the_database_refuses_a_second_live_company_with_the_same_tax_number():
    CustomerFactory(tax_number="4540536920").soft_delete()
    CustomerFactory(tax_number="4540536920")  # the deleted one does not count
    with pytest.raises(IntegrityError):
        CustomerFactory(tax_number="4540536920")


def test_the_migration_normalises_stored_tax_numbers():
    customer = CustomerFactory()
    Customer.objects.filter(pk=customer.pk).update(tax_number="45405369２0")
    migration = importlib.import_module(
        "apps.accounts.migrations.0003_verification_token_version_country"
    )
    migration.normalize_tax_numbers(django_apps, None)
    customer.refresh_from_db()
    assert customer.tax_number == "4540536920"


@pytest.mark.parametrize(
    ("field", "value"),
    [("line1", "Cd.\t2"), ("title", "Merkez\u2028Depo"), ("city", "Anka\x85ra")],
    ids=["tab", "line separator", "c1 control"],
)
def test_an_address_line_is_one_line_in_the_api_and_the_feed(
    dealer_client, integration_client, field, value
):
    """An address prints on a label and a courier's form: the portal and the customers feed
    saved a tab and a line separator in it (the back office then refused its own form)."""
    response = dealer_client("owner").post(ADDRESSES, address(**{field: value}))
    assert response.status_code == 400 and field in response.json()["errors"]
    record = {"code": "ERP-9", "name": "Depo", "tax_number": "4540536920"}
    body = integration_client().post(
        ERP_CUSTOMERS, [{**record, "addresses": [address(**{field: value})]}], format="json"
    )
    assert body.json()["failed"] == 1
    assert not Address.objects.exists()


def test_text_is_taken_composed_in_the_api_and_the_feed(dealer_client, integration_client):
    """The feeds' other resources took text in NFC; the customers feed and the dealer API
    stored "C" + a combining cedilla: a second spelling of Çankaya to search and compare."""
    client = dealer_client("owner")
    assert client.post(ADDRESSES, address(city="C\u0327ankaya")).status_code == 201
    assert Address.objects.get().city == "Çankaya"
    record = {"code": "ERP-8", "name": "C\u0327ankaya Yapı", "tax_number": "4540536920"}
    body = integration_client().post(ERP_CUSTOMERS, [record], format="json").json()
    assert body["created"] == 1, body["errors"]
    assert Customer.objects.get(code="ERP-8").name == "Çankaya Yapı"


def test_phones_tax_office_and_po_numbers_are_one_line(dealer_client):
    client = dealer_client("owner")
    users = client.get("/api/v1/company/users").json()["results"]
    response = client.patch(f"/api/v1/company/users/{users[0]['id']}", {"phone": "0212\n555"})
    assert response.status_code == 400 and "phone" in response.json()["errors"]
    order = client.post(
        "/api/v1/orders", {"payment_method": "on_account", "po_number": "PO\t1"}, format="json"
    )
    assert order.status_code == 400 and "po_number" in order.json()["errors"]
