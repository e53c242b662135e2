"""Self-registration: company pending until approved; validation of VKN/TCKN and duplicates."""

import pytest

from apps.accounts.models import Consent, Customer, CustomerStatus, User
from apps.accounts.services.customers import customer_approve
from tests.factories import CustomerFactory, DealerUserFactory

pytestmark = [pytest.mark.django_db]

URL = "/api/v1/auth/register"


def body(**overrides):
    data = {
        "company": {
            "name": "Anadolu Elektrik A.Ş.",
            "tax_number": "4540536920",
            "tax_office": "Kadıköy",
            "phone": "+90 216 111 22 33",
        },
        "owner": {
            "email": "owner@anadolu.example",
            "password": "Very-Strong-2026!",
            "first_name": "Mehmet",
            "last_name": "Demir",
        },
    }
    for path, value in overrides.items():
        section, field = path.split("__")
        data[section][field] = value
    return data


def test_registration_creates_a_pending_company_and_its_owner(api_client):
    response = api_client.post(URL, body(), format="json")
    assert response.status_code == 201
    customer = Customer.objects.get(tax_number="4540536920")
    assert customer.status == CustomerStatus.PENDING
    assert response.json()["company"]["status"] == "pending"
    owner = User.objects.get(email="owner@anadolu.example")
    assert owner.customer == customer and owner.role == "owner"
    assert owner.check_password("Very-Strong-2026!")


def test_pending_owner_cannot_log_in_until_staff_approve(api_client):
    api_client.post(URL, body(), format="json")
    credentials = {"email": "owner@anadolu.example", "password": "Very-Strong-2026!"}
    response = api_client.post("/api/v1/auth/token", credentials)
    assert response.status_code == 401
    assert response.json()["code"] == "customer_pending"
    customer_approve(customer=Customer.objects.get(tax_number="4540536920"), by=None)
    assert api_client.post("/api/v1/auth/token", credentials).status_code == 200


def test_a_tckn_is_accepted_for_a_sole_proprietor(api_client):
    response = api_client.post(URL, body(company__tax_number="10000000146"), format="json")
    assert response.status_code == 201


@pytest.mark.parametrize("tax_number", ["4540536921", "123", "abcdefghij", "10000000147", ""])
def test_invalid_vkn_or_tckn_answers_400_on_the_field(api_client, tax_number):
    response = api_client.post(URL, body(company__tax_number=tax_number), format="json")
    assert response.status_code == 400
    assert "company.tax_number" in response.json()["errors"]
    assert not Customer.objects.exists()


def test_duplicate_tax_number_answers_400_and_changes_nothing(api_client):
    CustomerFactory(tax_number="4540536920")
    response = api_client.post(URL, body(), format="json")
    assert response.status_code == 400
    assert "company.tax_number" in response.json()["errors"]
    assert not User.objects.filter(email="owner@anadolu.example").exists()


def test_duplicate_email_answers_400_and_changes_nothing(api_client):
    DealerUserFactory(email="owner@anadolu.example")
    response = api_client.post(URL, body(owner__email="OWNER@anadolu.example"), format="json")
    assert response.status_code == 400
    assert "owner.email" in response.json()["errors"]
    assert not Customer.objects.filter(tax_number="4540536920").exists()


@pytest.mark.parametrize("password", ["short1!", "12345678901", "password123"])
def test_weak_password_answers_400_and_changes_nothing(api_client, password):
    response = api_client.post(URL, body(owner__password=password), format="json")
    assert response.status_code == 400
    assert "owner.password" in response.json()["errors"]
    assert not Customer.objects.exists()


def test_missing_sections_name_each_field(api_client):
    response = api_client.post(URL, {"company": {"name": "X"}}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {"company.tax_number", "company.tax_office", "company.phone", "owner"} <= set(errors)


def test_registration_cannot_set_status_tier_or_credit_limit(api_client):
    data = body()
    data["company"].update({"status": "active", "tier": "A", "credit_limit": "999999"})
    response = api_client.post(URL, data, format="json")
    assert response.status_code == 400
    assert {"company.status", "company.tier", "company.credit_limit"} <= set(
        response.json()["errors"]
    )
    assert not Customer.objects.exists()


def test_consents_are_recorded_with_version_and_time(api_client):
    data = body()
    data["consents"] = {"terms": True, "kvkk": True, "marketing": False}
    api_client.post(URL, data, format="json", REMOTE_ADDR="10.9.8.7")
    consents = {c.kind: c for c in Consent.objects.all()}
    assert consents["terms"].granted and consents["kvkk"].granted
    assert consents["marketing"].granted is False
    assert consents["terms"].version and consents["terms"].ip_address == "10.9.8.7"
