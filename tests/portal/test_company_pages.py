"""The company's own pages in the portal: users (owner only: add with an e-mailed
invitation, change role, order limit and active, remove; the last active owner stays),
addresses (add, change, delete; one default per type), and the user's profile (marketing
consent kept as history, password change, personal data export). Input goes through the
API's serializers and services: a bad field is a 400 next to the field, nothing changed."""

from __future__ import annotations

import json
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core import mail

from apps.accounts.models import Address, AuthEvent, Consent, User
from tests.factories import AddressFactory, CustomerFactory
from tests.portal.test_portal import PASSWORD, browser

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def company():
    return SimpleNamespace(customer=CustomerFactory())


def test_the_owner_adds_a_user_who_is_invited_by_e_mail(
    company, django_capture_on_commit_callbacks
):
    client, _owner = browser(company)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/portal/company/users/",
            {
                "email": "Satin.Alma@Bayi.test",
                "first_name": "Ayşe",
                "role": "purchasing",
                "order_limit": "5.000,00",
            },
        )
    assert response.status_code == 302
    user = User.objects.get(email="satin.alma@bayi.test")
    assert user.customer == company.customer and user.order_limit == Decimal("5000.00")
    assert not user.has_usable_password() and user.role == "purchasing"
    assert mail.outbox and mail.outbox[-1].to == ["satin.alma@bayi.test"]
    assert "satin.alma@bayi.test" in client.get("/portal/company/users/").content.decode()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "not-an-email", "role": "purchasing"}, "email"),
        ({"email": "a@b.test", "role": "admin"}, "role"),
        ({"email": "a@b.test", "role": "purchasing", "order_limit": "-5"}, "order_limit"),
        ({"email": "a@b.test", "role": "purchasing", "order_limit": "çok"}, "order_limit"),
    ],
)
def test_a_bad_new_user_is_refused_by_field(company, body, field):
    client, _owner = browser(company)
    before = User.objects.count()
    response = client.post("/portal/company/users/", body)
    assert response.status_code == 400
    assert f'id="{field}-error"' in response.content.decode()
    assert User.objects.count() == before


def test_an_e_mail_already_taken_is_refused(company):
    client, owner = browser(company)
    response = client.post("/portal/company/users/", {"email": owner.email, "role": "viewer"})
    assert response.status_code == 400 and 'id="email-error"' in response.content.decode()


def test_the_owner_changes_and_removes_users_but_not_the_last_owner(company):
    client, owner = browser(company)
    buyer = browser(company, role="purchasing")[1]
    url = f"/portal/company/users/{buyer.pk}/"
    response = client.post(
        url, {"first_name": "Ali", "role": "finance", "order_limit": "", "is_active": "on"}
    )
    assert response.status_code == 302
    buyer.refresh_from_db()
    assert buyer.role == "finance" and buyer.first_name == "Ali" and buyer.is_active
    assert buyer.groups.filter(name__icontains="finance").exists()
    client.post(url, {"role": "finance"})  # the box unticked: inactive
    buyer.refresh_from_db()
    assert not buyer.is_active
    response = client.post(
        f"/portal/company/users/{owner.pk}/", {"role": "viewer", "is_active": "on"}
    )
    assert response.status_code == 409 and 'role="alert"' in response.content.decode()
    owner.refresh_from_db()
    assert owner.role == "owner"
    assert client.post(url, {"action": "remove"}).status_code == 302
    buyer.refresh_from_db()
    assert buyer.is_deleted and not buyer.is_active
    # the only active owner's page offers no removal that would be refused, and says why
    own = client.get(f"/portal/company/users/{owner.pk}/").content.decode()
    assert 'value="remove"' not in own and "tek aktif sahibi" in own  # Turkish by default
    second = browser(company, role="owner")[1]
    assert 'value="remove"' in client.get(f"/portal/company/users/{second.pk}/").content.decode()


def test_a_user_switched_off_and_on_again_signs_in_again_in_the_browser(company):
    """Switching a user off ends their portal session for good, as it ends their API
    tokens: switched on again, the old browser session does not come back."""
    client, _owner = browser(company)
    buyer_client, buyer = browser(company, role="purchasing")
    assert buyer_client.get("/portal/orders/").status_code == 200
    url = f"/portal/company/users/{buyer.pk}/"
    assert client.post(url, {"role": "purchasing"}).status_code == 302  # off
    assert client.post(url, {"role": "purchasing", "is_active": "on"}).status_code == 302  # on
    again = buyer_client.get("/portal/orders/")
    assert again.status_code == 302 and again["Location"].startswith("/portal/login/")
    assert client.get("/portal/orders/").status_code == 200  # the owner's own session stays


def test_company_users_are_for_the_owner_and_of_the_own_company(company):
    finance, _user = browser(company, role="finance")
    assert finance.get("/portal/company/users/").status_code == 403
    assert finance.post("/portal/company/users/", {"email": "x@y.test"}).status_code == 403
    stranger = User.objects.create_user(
        email="yabanci@other.test", password=PASSWORD, customer=CustomerFactory(), role="owner"
    )
    client, _owner = browser(company)
    url = f"/portal/company/users/{stranger.pk}/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "remove"}).status_code == 404
    stranger.refresh_from_db()
    assert stranger.is_active and not stranger.is_deleted


def _address(**extra):
    return {
        "type": "shipping",
        "title": "Depo",
        "line1": "Organize Sanayi 5. Cadde No 3",
        "city": "Bursa",
        "country": "TR",
        **extra,
    }


def test_addresses_are_added_changed_and_deleted_with_one_default(company):
    client, _owner = browser(company)
    first = client.post("/portal/company/addresses/", _address())
    assert first.status_code == 302
    client.post("/portal/company/addresses/", _address(title="Şube", is_default="on"))
    depot, branch = Address.objects.filter(customer=company.customer).order_by("pk")
    depot.refresh_from_db()
    assert branch.is_default and not depot.is_default
    page = client.get("/portal/company/addresses/").content.decode()
    assert "Şube" in page and "Depo" in page
    response = client.post(f"/portal/company/addresses/{depot.pk}/", _address(city="İzmir"))
    assert response.status_code == 302
    depot.refresh_from_db()
    assert depot.city == "İzmir"
    bad = client.post(f"/portal/company/addresses/{depot.pk}/", _address(city="", country="XX"))
    assert bad.status_code == 400
    assert (
        'id="city-error"' in bad.content.decode() and 'id="country-error"' in bad.content.decode()
    )
    depot.refresh_from_db()
    assert depot.city == "İzmir"
    assert (
        client.post(f"/portal/company/addresses/{branch.pk}/", {"action": "delete"}).status_code
        == 302
    )
    assert list(Address.objects.filter(customer=company.customer)) == [depot]
    depot.refresh_from_db()
    assert depot.is_default  # the remaining address of the type took over


def test_addresses_of_another_company_are_not_found_and_viewers_only_read(company):
    theirs = AddressFactory(customer=CustomerFactory(), title="Onların")
    client, _owner = browser(company)
    url = f"/portal/company/addresses/{theirs.pk}/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "delete"}).status_code == 404
    assert "Onların" not in client.get("/portal/company/addresses/").content.decode()
    theirs.refresh_from_db()
    assert not theirs.is_deleted
    viewer, _user = browser(company, role="viewer")
    assert viewer.get("/portal/company/addresses/").status_code == 200
    assert viewer.post("/portal/company/addresses/", _address()).status_code == 403
    assert not Address.objects.filter(customer=company.customer).exists()


def test_the_profile_keeps_marketing_consent_as_history(company):
    client, user = browser(company, role="viewer")
    page = client.get("/portal/profile/").content.decode()
    assert user.email in page and company.customer.name in page
    client.post("/portal/profile/", {"action": "marketing", "granted": "true"})
    client.post("/portal/profile/", {"action": "marketing", "granted": "true"})  # no change
    client.post("/portal/profile/", {"action": "marketing", "granted": "false"})
    assert list(
        Consent.objects.filter(user=user, kind="marketing")
        .order_by("at", "id")
        .values_list("granted", flat=True)
    ) == [True, False]


def test_a_password_change_needs_the_current_one_and_keeps_this_session(company):
    client, user = browser(company)
    wrong = client.post(
        "/portal/profile/", {"old_password": "nope", "new_password": "Yeni-Parola-2026!"}
    )
    assert wrong.status_code == 400 and 'id="old_password-error"' in wrong.content.decode()
    weak = client.post("/portal/profile/", {"old_password": PASSWORD, "new_password": "123"})
    assert weak.status_code == 400 and 'id="new_password-error"' in weak.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    done = client.post(
        "/portal/profile/", {"old_password": PASSWORD, "new_password": "Yeni-Parola-2026!"}
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Yeni-Parola-2026!")
    assert AuthEvent.objects.filter(user=user, kind="password_changed").exists()
    assert client.get("/portal/catalog/").status_code == 200  # still signed in here


def test_the_personal_data_export_is_the_apis(company):
    client, user = browser(company)
    client.post("/portal/profile/", {"action": "marketing", "granted": "true"})
    response = client.get("/portal/profile/data/")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["user"]["email"] == user.email
    assert [c["kind"] for c in data["consents"]] == ["marketing"]
    assert any(event["kind"] == "login" for event in data["auth_events"])


def test_moving_the_default_address_to_the_other_type_leaves_that_types_default(company):
    """The edit form shows the default box ticked: sent back as it was, it asks for nothing,
    so the address moved to billing does not take the billing default, and the shipping
    default passes to the oldest other shipping address."""
    client, _owner = browser(company)
    client.post("/portal/company/addresses/", _address(type="billing", title="Merkez"))
    client.post("/portal/company/addresses/", _address(title="Depo A"))
    client.post("/portal/company/addresses/", _address(title="Depo B"))
    depot_a = Address.objects.get(title="Depo A")
    assert depot_a.is_default
    response = client.post(
        f"/portal/company/addresses/{depot_a.pk}/",
        _address(type="billing", title="Depo A", is_default="on"),
    )
    assert response.status_code == 302
    defaults = dict(
        Address.objects.filter(customer=company.customer, is_default=True).values_list(
            "type", "title"
        )
    )
    assert defaults == {"billing": "Merkez", "shipping": "Depo B"}


def test_an_address_phone_and_postal_code_are_checked_as_in_the_api(company):
    """The form took "abc" as a postal code and a phone number."""
    client, _owner = browser(company)
    bad = client.post("/portal/company/addresses/", _address(postal_code="abc", phone="abc"))
    page = bad.content.decode()
    assert bad.status_code == 400
    assert 'id="postal_code-error"' in page and 'id="phone-error"' in page
    assert "Bir posta kodu girin" in page and "Bir telefon numarası girin" in page
    assert not Address.objects.filter(customer=company.customer).exists()
    good = client.post(
        "/portal/company/addresses/", _address(postal_code="16140", phone="0224 555 01 01")
    )
    assert good.status_code == 302


def test_a_refused_user_change_shows_what_was_typed_beside_its_error(company):
    """The page came back with the stored values: the error sat beside a limit never typed
    and the other changes were gone."""
    client, _owner = browser(company)
    buyer = browser(company, role="purchasing")[1]
    page = client.post(
        f"/portal/company/users/{buyer.pk}/",
        {"first_name": "DEĞİŞTİ", "role": "finance", "order_limit": "abc", "is_active": "on"},
    ).content.decode()
    assert 'id="order_limit-error"' in page
    assert 'value="DEĞİŞTİ"' in page and 'value="abc"' in page
    assert '<option value="finance" selected>' in page
    buyer.refresh_from_db()
    assert buyer.first_name != "DEĞİŞTİ" and buyer.role == "purchasing"
