"""Self-registration: the owner verifies the e-mail, then the company is pending until staff
approve it; validation of VKN/TCKN; duplicates answer like new registrations (202)."""

import pytest
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from apps.accounts.models import Consent, Customer, CustomerStatus, User
from apps.accounts.services.customers import customer_approve
from apps.accounts.tokens import email_verification_token_generator
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
        "consents": {"terms": True, "kvkk": True},
    }
    for path, value in overrides.items():
        section, field = path.split("__")
        data[section][field] = value
    return data


def verify(client, email="owner@anadolu.example"):
    """Follow the verification link (the e-mail itself: test_registration_verification)."""
    owner = User.objects.get(email=email)
    uid = urlsafe_base64_encode(force_bytes(owner.pk))
    token = email_verification_token_generator.make_token(owner)
    return client.post(f"{URL}/verify", {"uid": uid, "token": token})


def test_registration_answers_202_and_creates_an_unverified_company_and_its_owner(api_client):
    response = api_client.post(URL, body(), format="json")
    assert response.status_code == 202
    assert set(response.json()) == {"detail"}
    customer = Customer.objects.get(tax_number="4540536920")
    assert customer.status == CustomerStatus.UNVERIFIED
    owner = User.objects.get(email="owner@anadolu.example")
    assert owner.customer == customer and owner.role == "owner"
    assert owner.check_password("Very-Strong-2026!")
    assert owner.email_verified_at is None


def test_the_owner_cannot_log_in_until_verified_and_then_approved(api_client):
    api_client.post(URL, body(), format="json")
    credentials = {"email": "owner@anadolu.example", "password": "Very-Strong-2026!"}
    response = api_client.post("/api/v1/auth/token", credentials)
    assert response.status_code == 403
    assert response.json()["code"] == "email_unverified"

    assert verify(api_client).status_code == 204
    response = api_client.post("/api/v1/auth/token", credentials)
    assert response.status_code == 403
    assert response.json()["code"] == "customer_pending"

    customer_approve(customer=Customer.objects.get(tax_number="4540536920"), by=None)
    assert api_client.post("/api/v1/auth/token", credentials).status_code == 200


def test_a_tckn_is_accepted_for_a_sole_proprietor(api_client):
    response = api_client.post(URL, body(company__tax_number="10000000146"), format="json")
    assert response.status_code == 202
    assert Customer.objects.filter(tax_number="10000000146").exists()


@pytest.mark.parametrize(
    "tax_number",
    ["4540536921", "123", "abcdefghij", "10000000147", "", "454053692O", "4540-536920"],
)
def test_invalid_vkn_or_tckn_answers_400_on_the_field(api_client, tax_number):
    response = api_client.post(URL, body(company__tax_number=tax_number), format="json")
    assert response.status_code == 400
    assert "company.tax_number" in response.json()["errors"]
    assert not Customer.objects.exists()


def test_a_known_tax_number_answers_the_same_202_and_creates_nothing(api_client):
    CustomerFactory(tax_number="4540536920")
    new = api_client.post(URL, body(company__tax_number="10000000146"), format="json")
    response = api_client.post(URL, body(owner__email="second@anadolu.example"), format="json")
    assert response.status_code == new.status_code == 202
    assert response.json() == new.json()
    assert not User.objects.filter(email="second@anadolu.example").exists()
    assert Customer.objects.filter(tax_number="4540536920").count() == 1


def test_a_known_email_answers_the_same_202_and_creates_nothing(api_client):
    DealerUserFactory(email="owner@anadolu.example")
    new = api_client.post(
        URL,
        body(owner__email="new@anadolu.example", company__tax_number="10000000146"),
        format="json",
    )
    response = api_client.post(URL, body(owner__email="OWNER@anadolu.example"), format="json")
    assert response.status_code == new.status_code == 202
    assert response.json() == new.json()
    assert not Customer.objects.filter(tax_number="4540536920").exists()


@pytest.mark.parametrize(
    "password",
    [
        "short1!",
        "12345678901",
        "password123",
        # the complexity rule (DESIGN.md): a letter and a digit or symbol, not blank
        " " * 8,
        "qzxwvqzxkl",
        "\u3000" * 8,
        "\u200b" * 8,
        "12345678-!",
    ],
)
def test_weak_password_answers_400_and_changes_nothing(api_client, password):
    response = api_client.post(URL, body(owner__password=password), format="json")
    assert response.status_code == 400
    assert "owner.password" in response.json()["errors"]
    assert not Customer.objects.exists()


def test_the_complexity_rule_names_what_a_password_needs(api_client):
    response = api_client.post(URL, body(owner__password="qzxwvqzxkl"), format="json")
    assert response.json()["errors"]["owner.password"] == [
        "Your password must contain at least one letter and one digit or symbol."
    ]
    accepted = api_client.post(URL, body(owner__password="qzxwvqzx-kl"), format="json")
    assert accepted.status_code == 202, accepted.json()


def test_one_answer_names_every_field_to_correct_a_weak_password_and_consents_included(
    api_client,
):
    """Bad input gets a field-level message: a weak password and a missing consent are named
    together with the other fields' mistakes, not one round trip later."""
    data = body(company__name="", owner__email="not-an-e-mail", owner__password="password123")
    data["consents"] = {"terms": False, "kvkk": False}
    response = api_client.post(URL, data, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {
        "company.name",
        "owner.email",
        "owner.password",
        "consents.terms",
        "consents.kvkk",
    } <= set(errors)
    assert not Customer.objects.exists()


def test_a_password_like_the_owners_name_is_refused_by_the_similarity_rule(api_client):
    response = api_client.post(
        URL,
        body(owner__first_name="Marmaraelektrik", owner__password="Marmaraelektrik"),
        format="json",
    )
    assert response.status_code == 400
    assert "owner.password" in response.json()["errors"]


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


@pytest.mark.parametrize(
    "consents, refused",
    [
        (None, {"consents"}),
        ({"kvkk": True}, {"consents.terms"}),
        ({"terms": True, "kvkk": False}, {"consents.kvkk"}),
        ({"terms": False, "kvkk": False, "marketing": True}, {"consents.terms", "consents.kvkk"}),
    ],
)
def test_a_company_registers_only_accepting_the_terms_and_the_kvkk_notice(
    api_client, mailoutbox, consents, refused
):
    """The terms of sale and the KVKK privacy notice are not optional (marketing is): without
    them, 400 naming them, and nothing is created or e-mailed."""
    data = body()
    data.pop("consents")
    if consents is not None:
        data["consents"] = consents

    response = api_client.post(URL, data, format="json")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == refused
    assert not Customer.objects.exists() and not Consent.objects.exists()
    assert mailoutbox == []


def test_a_registered_company_gets_a_temporary_code_staff_replace_with_the_erps(
    api_client, staff_client
):
    """Registration gave the company "D000008": a code the back office took for the ERP's
    (read-only from then on), so the ERP could never name the company by its own code (its
    customers feed refused that code's record: "Another customer already has this tax
    number")."""
    from tests.accounts.test_admin_backoffice import change_form_data, change_url

    assert api_client.post(URL, body(), format="json").status_code == 202
    verify(api_client)
    customer = Customer.objects.get(tax_number="4540536920")
    customer_approve(customer=customer, by=None)
    customer.refresh_from_db()
    assert customer.code == f"TMP-{customer.pk:06d}" and not customer.has_erp_code

    client = staff_client("Customer Service")
    page = client.get(change_url(customer)).content.decode()
    assert 'name="code"' in page  # staff type the ERP's code once
    response = client.post(change_url(customer), change_form_data(customer, code="120.01.077"))
    assert response.status_code == 302, response.content[:500]
    customer.refresh_from_db()
    assert customer.code == "120.01.077" and customer.has_erp_code
