"""company, company/users and company/addresses: roles, owner rules and field-level safety."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import Address, Customer, User
from tests.conftest import login
from tests.factories import AddressFactory, CustomerFactory, DealerUserFactory

pytestmark = [pytest.mark.django_db]

ROLES = ["owner", "purchasing", "finance", "viewer"]


def test_company_shows_the_documented_fields(dealer_client):
    client = dealer_client("viewer")
    body = client.get("/api/v1/company").json()
    assert {"name", "code", "tier", "status", "credit_limit", "balance", "available_credit"} <= set(
        body
    )
    customer = client.user.customer
    assert body["code"] == customer.code
    assert body["credit_limit"] == f"{customer.credit_limit:.2f}"
    assert body["available_credit"] == body["credit_limit"]  # no ledger entries yet


@pytest.mark.parametrize(
    ("role", "shown"), [("owner", True), ("finance", True), ("viewer", True), ("purchasing", False)]
)
def test_the_account_figures_are_shown_to_the_roles_that_see_the_ledger(dealer_client, role, shown):
    """Purchasing may not read the current account (account/summary answers it 403): the
    company's credit limit, balance, open orders and available credit are null for it too."""
    client = dealer_client(role)
    body = client.get("/api/v1/company").json()
    figures = {
        k: body[k] for k in ("credit_limit", "balance", "open_orders_total", "available_credit")
    }

    assert body["code"] == client.user.customer.code
    assert client.get("/api/v1/account/summary").status_code == (200 if shown else 403)
    if shown:
        assert figures["credit_limit"] == f"{client.user.customer.credit_limit:.2f}"
        assert None not in figures.values()
    else:
        assert set(figures.values()) == {None}


@pytest.mark.parametrize(
    ("role", "list_status", "create_status"),
    [("owner", 200, 201), ("purchasing", 403, 403), ("finance", 403, 403), ("viewer", 403, 403)],
)
def test_only_owners_manage_company_users(dealer_client, role, list_status, create_status):
    client = dealer_client(role)
    assert client.get("/api/v1/company/users").status_code == list_status
    response = client.post("/api/v1/company/users", {"email": "new@example.com", "role": "viewer"})
    assert response.status_code == create_status
    assert User.objects.filter(email="new@example.com").exists() is (create_status == 201)


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [("owner", 200, 201), ("purchasing", 200, 201), ("finance", 200, 403), ("viewer", 200, 403)],
)
def test_address_permissions_per_role(dealer_client, role, read, write):
    client = dealer_client(role)
    assert client.get("/api/v1/company/addresses").status_code == read
    response = client.post(
        "/api/v1/company/addresses",
        {"type": "shipping", "title": "Depot", "line1": "Cd. 1", "city": "Bursa"},
    )
    assert response.status_code == write
    assert Address.objects.filter(title="Depot").exists() is (write == 201)


def test_owner_creates_a_sub_user_who_can_log_in(dealer_client):
    client = dealer_client("owner")
    response = client.post(
        "/api/v1/company/users",
        {
            "email": "Buyer@Example.com",
            "role": "purchasing",
            "order_limit": "25000.00",
            "first_name": "Can",
            "password": "Buyer-Secret-2026",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "buyer@example.com"
    assert body["order_limit"] == "25000.00" and body["role"] == "purchasing"
    user = User.objects.get(email="buyer@example.com")
    assert user.customer == client.user.customer
    assert user.has_perm("accounts.manage_company_addresses")
    assert not user.has_perm("accounts.manage_company_users")


def test_a_weak_sub_user_password_is_named_with_the_other_fields_mistakes(dealer_client):
    client = dealer_client("owner")
    response = client.post(
        "/api/v1/company/users",
        {"email": "buyer@example.com", "role": "boss", "password": "12345678"},
    )
    assert response.status_code == 400
    assert {"role", "password"} <= set(response.json()["errors"])
    assert not User.objects.filter(email="buyer@example.com").exists()


def test_a_sub_user_without_password_gets_an_invitation(
    dealer_client, mailoutbox, django_capture_on_commit_callbacks
):
    client = dealer_client("owner")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/company/users", {"email": "inv@example.com", "role": "viewer"}
        )
    assert response.status_code == 201
    assert [m.to for m in mailoutbox] == [["inv@example.com"]]
    assert "token=" in mailoutbox[0].body


def test_an_invitation_lives_days_and_ends_with_the_password_it_sets(
    dealer_client, mailoutbox, django_capture_on_commit_callbacks
):
    """An invitation is read when its reader comes to it: its link lived a reset link's hour
    (PASSWORD_RESET_TIMEOUT), so the next morning's colleague found it dead. It lives
    INVITATION_TIMEOUT (7 days) now, says so, and works once; a reset link keeps its hour."""
    import time_machine  # the clock the links are judged by

    client = dealer_client("owner")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/api/v1/company/users", {"email": "inv@example.com", "role": "viewer"})
    (message,) = mailoutbox
    # in the company's language (Turkish): within 7 days, and where to ask for another
    assert "bu bağlantıyı 7 gün içinde açın" in message.body
    assert "Parolanızı mı unuttunuz?" in message.body
    uid, token = re.search(r"uid=([\w-]+)&token=([\w-]+)", message.body).groups()

    def confirm(password: str):
        return APIClient().post(
            "/api/v1/auth/password-reset/confirm",
            {"uid": uid, "token": token, "new_password": password},
            format="json",
        )

    # (a margin of hours: the token's clock is the process's local time, the travel's UTC)
    with time_machine.travel(timezone.now() + timedelta(days=7, hours=4)):
        assert confirm("Sifre-Yeni-2026!").status_code == 400  # more than a week: dead
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        assert confirm("Sifre-Yeni-2026!").status_code == 204  # three days on: it works
    assert confirm("Sifre-Baska-2026!").status_code == 400  # once
    user = User.objects.get(email="inv@example.com")
    assert user.check_password("Sifre-Yeni-2026!")

    from apps.accounts.services.auth import password_link_send  # a reset link, for comparison

    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        password_link_send(user=user)
    uid, token = re.search(r"uid=([\w-]+)&token=([\w-]+)", mailoutbox[0].body).groups()
    with time_machine.travel(timezone.now() + timedelta(hours=5)):
        assert confirm("Sifre-Ucuncu-2026!").status_code == 400  # a reset link keeps its hour


def test_a_switched_off_users_link_sets_no_password(
    dealer_client, mailoutbox, django_capture_on_commit_callbacks
):
    """The invitation of a user switched off meanwhile set the password (204): whoever held
    the link held the account the day it was switched on. A user added switched off is sent
    no invitation at all."""
    client = dealer_client("owner")
    with django_capture_on_commit_callbacks(execute=True):
        added = client.post("/api/v1/company/users", {"email": "inv@example.com", "role": "viewer"})
    link = re.search(r"uid=([\w-]+)&token=([\w-]+)", mailoutbox[0].body)
    user = User.objects.get(pk=added.json()["id"])
    assert client.patch(f"/api/v1/company/users/{user.pk}", {"is_active": False}).status_code == 200
    confirm = APIClient().post(
        "/api/v1/auth/password-reset/confirm",
        {"uid": link.group(1), "token": link.group(2), "new_password": "Sifre-Yeni-2026!"},
        format="json",
    )
    assert confirm.status_code == 400 and "token" in confirm.json()["errors"]
    user.refresh_from_db()
    assert not user.has_usable_password()

    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        off = client.post(
            "/api/v1/company/users",
            {"email": "later@example.com", "role": "viewer", "is_active": False},
        )
    assert off.status_code == 201 and mailoutbox == []


def test_duplicate_email_answers_400(dealer_client):
    client = dealer_client("owner")
    DealerUserFactory(email="taken@example.com")
    response = client.post(
        "/api/v1/company/users", {"email": "TAKEN@example.com", "role": "viewer"}
    )
    assert response.status_code == 400
    assert "email" in response.json()["errors"]


def test_owner_changes_role_limit_and_deactivates(dealer_client):
    client = dealer_client("owner")
    sub = DealerUserFactory(customer=client.user.customer, role="viewer")
    response = client.patch(
        f"/api/v1/company/users/{sub.pk}",
        {"role": "purchasing", "order_limit": "1000.50", "is_active": False},
    )
    assert response.status_code == 200
    sub.refresh_from_db()
    assert (sub.role, sub.order_limit, sub.is_active) == ("purchasing", Decimal("1000.50"), False)
    assert sub.has_perm("accounts.manage_company_addresses") is False  # inactive: no perms
    sub.is_active = True
    sub.save()
    assert User.objects.get(pk=sub.pk).has_perm("accounts.manage_company_addresses")


def test_the_last_owner_cannot_be_demoted_deactivated_or_removed(dealer_client):
    client = dealer_client("owner")
    me = client.user
    for change in ({"role": "viewer"}, {"is_active": False}):
        response = client.patch(f"/api/v1/company/users/{me.pk}", change)
        assert response.status_code == 409
        assert response.json()["code"] == "last_owner"
    assert client.delete(f"/api/v1/company/users/{me.pk}").status_code == 409
    me.refresh_from_db()
    assert me.role == "owner" and me.is_active


def test_with_a_second_owner_one_may_step_down(dealer_client):
    client = dealer_client("owner")
    DealerUserFactory(customer=client.user.customer, role="owner")
    response = client.patch(f"/api/v1/company/users/{client.user.pk}", {"role": "finance"})
    assert response.status_code == 200


def test_removing_a_user_hides_them_and_ends_their_sessions(dealer_client, api_client):
    client = dealer_client("owner")
    sub = DealerUserFactory(customer=client.user.customer, role="purchasing")
    tokens = login(api_client, sub)
    assert client.delete(f"/api/v1/company/users/{sub.pk}").status_code == 204
    assert client.get(f"/api/v1/company/users/{sub.pk}").status_code == 404
    assert sub.pk not in [u["id"] for u in client.get("/api/v1/company/users").json()["results"]]
    assert api_client.get("/api/v1/me").status_code == 401
    refreshed = api_client.post("/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]})
    assert refreshed.status_code == 401
    assert User.objects.filter(pk=sub.pk).exists()  # kept for the audit trail


@pytest.mark.parametrize(
    "field_value",
    [
        {"customer": 999},
        {"credit_limit": "1"},
        {"tier": "A"},
        {"status": "active"},
        {"is_staff": True},
        {"is_superuser": True},
        {"email": "hijack@example.com", "role": "superadmin"},
    ],
)
def test_sub_user_updates_cannot_touch_protected_fields(dealer_client, field_value):
    client = dealer_client("owner")
    sub = DealerUserFactory(customer=client.user.customer, role="viewer")
    before = User.objects.filter(pk=sub.pk).values().get()
    response = client.patch(f"/api/v1/company/users/{sub.pk}", field_value, format="json")
    assert response.status_code == 400
    assert User.objects.filter(pk=sub.pk).values().get() == before


def test_a_read_only_field_sent_back_unchanged_passes_and_changed_is_refused(dealer_client):
    """A client may PATCH back what it read; changing the e-mail or the id is refused by name,
    not answered 200 with nothing changed."""
    client = dealer_client("owner")
    sub = DealerUserFactory(customer=client.user.customer, role="viewer")
    url = f"/api/v1/company/users/{sub.pk}"
    read = client.get(url).json()
    sent_back = client.patch(url, {**read, "role": "finance"}, format="json")
    assert sent_back.status_code == 200, sent_back.content
    assert sent_back.json()["role"] == "finance"
    for change in ({"email": "new@example.com"}, {"id": sub.pk + 1000}):
        refused = client.patch(url, change, format="json")
        assert refused.status_code == 400, refused.content
        assert list(refused.json()["errors"]) == list(change)
    sub.refresh_from_db()
    assert sub.email == read["email"] and sub.role == "finance"


def test_owner_cannot_move_a_user_into_another_company(dealer_client):
    client = dealer_client("owner")
    other = CustomerFactory()
    response = client.post(
        "/api/v1/company/users", {"email": "x@example.com", "role": "viewer", "customer": other.pk}
    )
    assert response.status_code == 400
    assert not User.objects.filter(customer=other).exists()


def test_dealers_cannot_write_their_own_company(dealer_client):
    client = dealer_client("owner")
    customer = client.user.customer
    for method in (client.patch, client.put, client.post, client.delete):
        response = method("/api/v1/company", {"credit_limit": "999999", "tier": "A"})
        assert response.status_code == 405
    assert Customer.objects.get(pk=customer.pk).credit_limit == customer.credit_limit


def test_an_address_sent_back_with_its_own_id_passes_and_another_id_is_named(dealer_client):
    client = dealer_client("owner")
    made = client.post(
        "/api/v1/company/addresses",
        {"type": "billing", "title": "HQ", "line1": "1", "city": "Bursa"},
    ).json()
    url = f"/api/v1/company/addresses/{made['id']}"
    assert client.patch(url, {**made, "city": "Bilecik"}).status_code == 200
    refused = client.patch(url, {"id": made["id"] + 1, "city": "Manisa"})
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["id"]
    assert client.get(url).json()["city"] == "Bilecik"


def test_address_crud_keeps_one_default_per_type(dealer_client):
    client = dealer_client("purchasing")
    first = client.post(
        "/api/v1/company/addresses",
        {"type": "shipping", "title": "A", "line1": "1", "city": "İzmir"},
    ).json()
    assert first["is_default"] is True and first["country"] == "TR"
    second = client.post(
        "/api/v1/company/addresses",
        {"type": "shipping", "title": "B", "line1": "2", "city": "İzmir", "is_default": True},
    ).json()
    listed = {
        a["title"]: a["is_default"]
        for a in client.get("/api/v1/company/addresses").json()["results"]
    }
    assert listed == {"A": False, "B": True}
    patched = client.patch(f"/api/v1/company/addresses/{first['id']}", {"city": "Manisa"})
    assert patched.status_code == 200 and patched.json()["city"] == "Manisa"
    assert client.delete(f"/api/v1/company/addresses/{second['id']}").status_code == 204
    assert client.get(f"/api/v1/company/addresses/{second['id']}").status_code == 404
    assert Address.all_objects.get(pk=second["id"]).is_deleted  # soft delete
    remaining = client.get("/api/v1/company/addresses").json()["results"]
    assert [(a["title"], a["is_default"]) for a in remaining] == [("A", True)]


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "office"},
        {"country": "Turkey"},
        {"city": ""},
        {"title": "x" * 101},
    ],
)
def test_bad_address_input_answers_400_naming_the_field(dealer_client, bad):
    client = dealer_client("owner")
    data = {"type": "billing", "title": "HQ", "line1": "1", "city": "Ankara", **bad}
    response = client.post("/api/v1/company/addresses", data)
    assert response.status_code == 400
    assert set(bad) <= set(response.json()["errors"])
    assert not Address.objects.exists()


def test_me_lists_user_role_permissions_and_company(dealer_client):
    client = dealer_client("finance")
    me = client.get("/api/v1/me").json()
    user = client.user
    assert me["user"] == {
        "id": user.pk,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": user.phone,
        "last_login": me["user"]["last_login"],
        "date_joined": me["date_joined"],
    }
    assert me["email"] == user.email  # also at the top level, as before
    assert me["role"] == "finance"
    assert me["company"]["code"] == client.user.customer.code
    assert "accounts.view_customer" in me["permissions"]
    assert "accounts.manage_company_users" not in me["permissions"]


def test_me_export_contains_personal_data_and_login_history(dealer_client):
    client = dealer_client("viewer")
    export = client.get("/api/v1/me/export")
    assert export.status_code == 200
    body = export.json()
    assert body["user"]["email"] == client.user.email
    assert any(e["kind"] == "login" for e in body["auth_events"])
    assert "password" not in str(body).lower()


def test_addresses_of_other_types_are_independent(dealer_client):
    client = dealer_client("owner")
    AddressFactory(customer=client.user.customer, type="billing", is_default=True)
    response = client.post(
        "/api/v1/company/addresses",
        {"type": "shipping", "title": "S", "line1": "1", "city": "Adana"},
    )
    assert response.json()["is_default"] is True
    assert Address.objects.get(type="billing").is_default is True


def _defaults(client) -> dict[str, list[str]]:
    """``{type: [titles of its defaults]}`` as the dealer sees them."""
    found: dict[str, list[str]] = {"billing": [], "shipping": []}
    for address in client.get("/api/v1/company/addresses").json()["results"]:
        if address["is_default"]:
            found[address["type"]].append(address["title"])
    return found


def _address(client, type, title, **extra) -> int:
    body = {"type": type, "title": title, "line1": "1", "city": "Bursa", **extra}
    response = client.post("/api/v1/company/addresses", body)
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_a_type_with_addresses_always_has_one_default(dealer_client):
    """One default per type, and one there is while the type has addresses: moving the
    default to the other type passes it to the oldest other address of its old type and does
    not take the new type's default; unsetting it passes it on; the only address of a type
    stays its default."""
    client = dealer_client("owner")
    _address(client, "billing", "HQ")
    ship_a = _address(client, "shipping", "Depot A")
    _address(client, "shipping", "Depot B")
    assert _defaults(client) == {"billing": ["HQ"], "shipping": ["Depot A"]}

    moved = client.patch(f"/api/v1/company/addresses/{ship_a}", {"type": "billing"})
    assert moved.status_code == 200 and moved.json()["is_default"] is False
    assert _defaults(client) == {"billing": ["HQ"], "shipping": ["Depot B"]}

    back = client.patch(
        f"/api/v1/company/addresses/{ship_a}", {"type": "shipping", "is_default": True}
    )
    assert back.json()["is_default"] is True
    assert _defaults(client) == {"billing": ["HQ"], "shipping": ["Depot A"]}

    unset = client.patch(f"/api/v1/company/addresses/{ship_a}", {"is_default": False})
    assert unset.json()["is_default"] is False
    assert _defaults(client) == {"billing": ["HQ"], "shipping": ["Depot B"]}

    hq = Address.objects.get(title="HQ").pk
    alone = client.patch(f"/api/v1/company/addresses/{hq}", {"is_default": False})
    assert alone.json()["is_default"] is True  # the only billing address
    assert _defaults(client) == {"billing": ["HQ"], "shipping": ["Depot B"]}


def test_a_lone_surrogate_in_a_choice_answers_400_quoting_it_as_a_replacement_character(
    dealer_client,
):
    """DRF's choice message quotes the input; a lone surrogate there cannot be encoded as
    UTF-8, and the answer carries U+FFFD in its place instead of failing with a 500."""
    client = dealer_client("owner")
    body = b'{"type": "\\ud800", "title": "HQ", "line1": "1", "city": "Ankara"}'
    response = client.generic(
        "POST", "/api/v1/company/addresses", body, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert "\ufffd" in response.json()["errors"]["type"][0]
    assert not Address.objects.exists()


def test_a_removed_user_added_again_comes_back_with_the_new_role_and_password(
    dealer_client, api_client
):
    """Removing someone is not forever: the owner adds the same e-mail again and the same
    user (their history) is back, with the role and password given now; their old sessions
    stay ended. Another company still cannot take the e-mail."""
    client = dealer_client("owner")
    sub = DealerUserFactory(customer=client.user.customer, role="purchasing")
    old_tokens = login(api_client, sub)
    assert client.delete(f"/api/v1/company/users/{sub.pk}").status_code == 204

    back = client.post(
        "/api/v1/company/users",
        {
            "email": sub.email.upper(),
            "first_name": "Ayşe",
            "last_name": "Kaya",
            "role": "viewer",
            "password": "Came-Back-2026!",
        },
    )
    assert back.status_code == 201, back.json()
    assert back.json()["id"] == sub.pk
    assert (back.json()["role"], back.json()["is_active"]) == ("viewer", True)
    listed = client.get("/api/v1/company/users").json()["results"]
    assert sub.pk in [u["id"] for u in listed]
    refreshed = api_client.post("/api/v1/auth/token/refresh", {"refresh": old_tokens["refresh"]})
    assert refreshed.status_code == 401
    login(APIClient(), User.objects.get(pk=sub.pk), "Came-Back-2026!")

    other = dealer_client("owner")
    taken = other.post(
        "/api/v1/company/users", {"email": sub.email, "role": "viewer", "first_name": "X"}
    )
    assert taken.status_code == 400 and "email" in taken.json()["errors"]


@pytest.mark.parametrize("value", [0, 1, "true", "yes", "0"])
def test_a_boolean_in_a_json_body_is_true_or_false(dealer_client, value):
    """The schema says boolean; DRF read 0, 1 and "yes" as one (a fuzzer generated from the
    schema found `is_default: 0` accepted): refused on the field, nothing written."""
    client = dealer_client("owner")
    data = {"type": "billing", "title": "HQ", "line1": "1", "city": "Ankara"}
    refused = client.post("/api/v1/company/addresses", {**data, "is_default": value}, format="json")
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["is_default"]
    assert not Address.objects.exists()
    made = client.post("/api/v1/company/addresses", {**data, "is_default": True}, format="json")
    assert made.status_code == 201
    user = client.get("/api/v1/company/users").json()["results"][0]
    patched = client.patch(
        f"/api/v1/company/users/{user['id']}", {"is_active": value}, format="json"
    )
    assert patched.status_code == 400 and list(patched.json()["errors"]) == ["is_active"]


def test_a_person_removed_from_one_dealer_can_be_added_at_another(dealer_client, api_client):
    """An employee who left dealer A for dealer B: A removed them (their row stays, for the
    orders and the history it names), and B could not add them, nor could they register a
    company: the address was taken for good."""
    first = dealer_client("owner")
    person = DealerUserFactory(customer=first.user.customer, role="purchasing")
    assert first.delete(f"/api/v1/company/users/{person.pk}").status_code == 204

    second = dealer_client("owner")
    added = second.post(
        "/api/v1/company/users",
        {
            "email": person.email.upper(),
            "first_name": "Ayşe",
            "role": "viewer",
            "password": "New-Dealer-2026!",
        },
    )
    assert added.status_code == 201, added.json()
    assert added.json()["id"] != person.pk  # a new account; the old one keeps its history
    removed = User.objects.get(pk=person.pk)
    assert removed.is_deleted and removed.customer_id == first.user.customer_id
    # they sign in to the new account, with its password
    tokens = login(APIClient(), User.objects.get(pk=added.json()["id"]), "New-Dealer-2026!")
    assert tokens["access"]
    # the first dealer cannot bring the old account back while the address is live elsewhere
    again = first.post(
        "/api/v1/company/users", {"email": person.email, "role": "viewer", "first_name": "X"}
    )
    assert again.status_code == 400 and "email" in again.json()["errors"]
    assert User.objects.get(pk=person.pk).is_deleted


def test_a_person_removed_from_a_dealer_can_register_a_company(
    dealer_client, api_client, django_capture_on_commit_callbacks
):
    from tests.accounts.test_registration_verification import body

    first = dealer_client("owner")
    person = DealerUserFactory(customer=first.user.customer, role="purchasing")
    assert first.delete(f"/api/v1/company/users/{person.pk}").status_code == 204
    with django_capture_on_commit_callbacks(execute=True):
        answer = api_client.post("/api/v1/auth/register", body(email=person.email), format="json")
    assert answer.status_code == 202
    new = User.objects.get(email__iexact=person.email, is_deleted=False)
    assert new.pk != person.pk and new.customer.status == "unverified"


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("{local}@ｄemo.example.com", "taken"),  # a full-width d: the same address
        ("{LOCAL}@DEMO.EXAMPLE.COM", "taken"),
        ("{local}@demo.example.com\u200b", "invisible"),  # a zero-width space after it
        ("{local}@demo\u00ad.example.com", "invisible"),  # a soft hyphen in it
        ("{local_tr}@demo.example.com", "taken"),  # a Turkish caps lock's İ: an i
    ],
)
def test_an_address_that_is_another_users_in_disguise_is_refused(dealer_client, typed, problem):
    """Each of these was stored as typed (201) and its invitation went to the other company's
    user: one person then had an account in two companies."""
    theirs = DealerUserFactory(email="finance@demo.example.com", role="finance")
    client = dealer_client("owner")
    email = typed.format(local="finance", LOCAL="FINANCE", local_tr="FİNANCE")
    response = client.post(
        "/api/v1/company/users", {"email": email, "role": "viewer", "first_name": "X"}
    )
    assert response.status_code == 400, response.content
    message = response.json()["errors"]["email"][0]
    expected = {
        "taken": "A user with this e-mail already exists.",
        "invisible": "An e-mail address cannot hold invisible characters or spaces",
    }[problem]
    assert message.startswith(expected)
    assert list(User.objects.filter(customer=client.user.customer, role="viewer")) == []
    assert User.objects.filter(email__iexact="finance@demo.example.com").get() == theirs


def test_an_international_domain_is_stored_as_mail_servers_read_it_and_signs_in_either_way(
    dealer_client,
):
    client = dealer_client("owner")
    created = client.post(
        "/api/v1/company/users",
        {
            "email": "Satış@İşyeri.com.tr".replace("Satış", "SATIS"),
            "role": "viewer",
            "first_name": "X",
            "password": "Yeni-Kullanici-2026!",
        },
    )
    assert created.status_code == 201, created.content
    assert created.json()["email"] == "satis@xn--iyeri-jdb.com.tr"
    for typed in ("satis@işyeri.com.tr", "SATİS@XN--IYERI-JDB.COM.TR", " satis@İşyeri.com.tr "):
        answer = APIClient().post(
            "/api/v1/auth/token",
            {"email": typed, "password": "Yeni-Kullanici-2026!"},
            format="json",
        )
        assert answer.status_code == 200, (typed, answer.content)
