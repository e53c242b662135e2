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


@pytest.mark.parametrize(
    ("phone", "ok"),
    [
        ("+90 212 555 01 01", True),
        ("0 (212) 555-01-01", True),
        ("0532/123.45.67", True),
        ("abc", False),
        ("1e400", False),
        ("+90 212 555 01 01 ext", False),
        ("123456", False),  # too few digits for any number
        ("1234567890123456", False),  # more than E.164's fifteen
        ("\u202e0212 555 01 01", False),
        ("٠٢١٢٥٥٥٠١٠١", False),  # Arabic-Indic digits: not what a dialler or an SMS takes
    ],
)
def test_a_phone_number_is_digits_as_people_write_them(dealer_client, phone, ok):
    """`phone` took anything one line may hold ("abc", "1e400")."""
    client = dealer_client("owner")
    response = client.post(ADDRESSES, address(phone=phone))
    assert (response.status_code == 201) is ok, response.json()
    if not ok:
        assert list(response.json()["errors"]) == ["phone"]
        assert not Address.objects.exists()
    users = client.get("/api/v1/company/users").json()["results"]
    patched = client.patch(f"/api/v1/company/users/{users[0]['id']}", {"phone": phone})
    assert (patched.status_code == 200) is ok, patched.json()


@pytest.mark.parametrize(
    ("country", "code", "ok"),
    [
        ("TR", "34394", True),
        (None, "06100", True),  # a new address is in Turkey unless it says otherwise
        ("TR", "3439", False),
        (None, "abc", False),
        ("TR", "3439A", False),
        ("GB", "SW1A 1AA", True),
        ("DE", "10115", True),
        ("DE", "abc", False),  # a postal code has a digit, in every country
        ("DE", "-1", False),
        ("DE", "<script>", False),
        ("TR", "", True),  # optional
    ],
)
def test_a_postal_code_has_its_countrys_form(dealer_client, country, code, ok):
    client = dealer_client("owner")
    body = address(postal_code=code, **({"country": country} if country else {}))
    response = client.post(ADDRESSES, body)
    assert (response.status_code == 201) is ok, response.json()
    if not ok:
        assert list(response.json()["errors"]) == ["postal_code"]
        assert not Address.objects.exists()


def test_a_changed_postal_code_is_judged_by_the_addresses_country(dealer_client):
    client = dealer_client("owner")
    german = client.post(ADDRESSES, address(country="DE", postal_code="10115")).json()
    turkish = client.post(ADDRESSES, address(postal_code="34394")).json()

    assert client.patch(f"{ADDRESSES}/{german['id']}", {"postal_code": "1011"}).status_code == 200
    refused = client.patch(f"{ADDRESSES}/{turkish['id']}", {"postal_code": "3439"})
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["postal_code"]
    moved = client.patch(f"{ADDRESSES}/{turkish['id']}", {"country": "DE", "postal_code": "3439"})
    assert moved.status_code == 200
    # a Turkish address whose code was stored before the rule can still change its title
    Address.objects.filter(pk=german["id"]).update(country="TR", postal_code="1")
    assert client.patch(f"{ADDRESSES}/{german['id']}", {"title": "Depo"}).status_code == 200


def test_a_title_of_a_right_to_left_override_alone_is_refused(dealer_client):
    """A title of U+202E only was stored: on a staff screen it turns the text after it."""
    client = dealer_client("owner")
    response = client.post(ADDRESSES, address(title="\u202e"))
    assert response.status_code == 400 and list(response.json()["errors"]) == ["title"]
    marked = client.post(ADDRESSES, address(title="Şube \u200f"))  # a mark, not an override
    assert marked.status_code == 201, marked.json()
