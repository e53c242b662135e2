"""The staff rules the walker in test_staff_scoping.py does not spell out: a sales manager's
user list, dealer audiences of campaigns and banners, and passwords (nobody sets another
person's; staff send a reset link)."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.core import mail

from apps.accounts.models import AuthEvent, User
from apps.accounts.services.customers import customer_assign_sales_rep
from apps.campaigns.models import Banner, Campaign
from tests.factories import (
    DEFAULT_PASSWORD,
    CustomerFactory,
    DealerUserFactory,
    StaffUserFactory,
)

pytestmark = [pytest.mark.django_db]

USERS = "/admin/accounts/user/"
CAMPAIGNS = "/admin/campaigns/campaign/"
BANNERS = "/admin/campaigns/banner/"
NEW_PASSWORD = "Chosen-By-Staff-42"


@pytest.fixture
def manager(staff_client):
    """A sales manager with one assigned dealer (``manager.mine``) and one other dealer
    (``manager.other``) that is not theirs."""
    client = staff_client("Sales Manager")
    client.mine, client.other = CustomerFactory(code="MINE01"), CustomerFactory(code="OTHER1")
    customer_assign_sales_rep(customer=client.mine, rep=client.user, by=None)
    return client


def run_action(client, url, action, objects):
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(o.pk) for o in objects]}
    return client.post(url, data, follow=True)


# --- users ----------------------------------------------------------------------------------------


def test_a_sales_manager_lists_only_the_users_of_their_dealers_and_no_staff(manager):
    own = DealerUserFactory(customer=manager.mine)
    foreign = DealerUserFactory(customer=manager.other)
    colleague = StaffUserFactory(groups=["Customer Service"])

    response = manager.get(USERS)

    assert response.status_code == 200
    assert list(response.context["cl"].queryset) == [own]
    for hidden in (foreign, colleague, manager.user):
        assert manager.get(f"{USERS}{hidden.pk}/change/").status_code == 302  # "not found"
        assert manager.get(f"{USERS}{hidden.pk}/auditlog/").status_code == 404


def test_only_a_super_admin_lists_staff_accounts(staff_client):
    colleague = StaffUserFactory(groups=["Sales Manager"])
    dealer = DealerUserFactory()

    service = staff_client("Customer Service").get(USERS).context["cl"].queryset
    super_admin = staff_client("Super Admin").get(USERS).context["cl"].queryset

    assert dealer in service and colleague not in service
    assert dealer in super_admin and colleague in super_admin


# --- audiences ------------------------------------------------------------------------------------


def campaign_form(**overrides) -> dict:
    return {
        "name": "Spring",
        "description": "",
        "priority": "0",
        "is_active": "on",
        "discount_type": "percentage",
        "discount_value": "10",
        "min_quantity": "1",
        "starts_at_0": "",
        "starts_at_1": "",
        "ends_at_0": "",
        "ends_at_1": "",
        "audience": "dealers",
        "scope": "everything",
        **overrides,
    }


def test_a_campaign_for_a_dealer_outside_the_sales_managers_scope_is_a_form_error(manager):
    response = manager.post(f"{CAMPAIGNS}add/", campaign_form(customers=[manager.other.pk]))

    assert response.status_code == 200
    assert "customers" in response.context["adminform"].form.errors
    assert not Campaign.objects.exists()


def test_a_sales_manager_aims_a_campaign_at_their_own_dealer(manager):
    response = manager.post(f"{CAMPAIGNS}add/", campaign_form(customers=[manager.mine.pk]))

    assert response.status_code == 302
    assert list(Campaign.objects.get().customers.all()) == [manager.mine]


@pytest.mark.parametrize(
    ("field", "day", "clock"),
    [("starts_at", "0001-01-01", "00:00"), ("ends_at", "9999-12-31", "23:30")],
)
def test_a_campaign_window_beyond_what_can_be_planned_is_a_field_error(manager, field, day, clock):
    """Year 1 in Istanbul is before year 1 in UTC: the audit log's diff failed with a 500."""
    form = campaign_form(customers=[manager.mine.pk], **{f"{field}_0": day, f"{field}_1": clock})
    response = manager.post(f"{CAMPAIGNS}add/", form)

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Campaign.objects.exists()


def test_the_dealer_autocomplete_of_a_campaign_suggests_only_the_managers_dealers(manager):
    response = manager.get(
        "/admin/autocomplete/",
        {"app_label": "campaigns", "model_name": "campaign", "field_name": "customers"},
    )

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(manager.mine.pk)]


def test_a_campaign_naming_another_dealer_is_hidden_from_the_sales_manager(manager):
    shared = Campaign.objects.create(name="All", discount_type="percentage", discount_value=5)
    theirs = Campaign.objects.create(
        name="Theirs", audience="dealers", discount_type="percentage", discount_value=5
    )
    theirs.customers.add(manager.other)

    listed = manager.get(CAMPAIGNS).context["cl"].queryset

    assert list(listed) == [shared]
    manager.post(f"{CAMPAIGNS}{theirs.pk}/change/", campaign_form(name="Hijacked"))
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"


def test_a_banner_code_outside_the_staff_members_scope_is_unknown(manager):
    manager.user.user_permissions.add(
        Permission.objects.get(codename="add_banner", content_type__app_label="campaigns")
    )
    data = {
        "title": "Hello",
        "link_url": "",
        "placement": "home",
        "sort_order": "0",
        "is_active": "on",
        "starts_at_0": "",
        "starts_at_1": "",
        "ends_at_0": "",
        "ends_at_1": "",
        "audience": "dealers",
        "customers": f"{manager.mine.code}, {manager.other.code}",
    }

    response = manager.post(f"{BANNERS}add/", data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["customers"] == [
        f"No customer with the code: {manager.other.code}."
    ]
    assert not Banner.objects.exists()


@pytest.mark.parametrize(
    "link", ["javascript:alert(1)", "JAVASCRIPT:x", "//evil.example", "data:x"]
)
def test_a_banner_link_is_a_page_of_ours_or_a_web_address(manager, link):
    """Saved, such a banner was live but never shown (the portal drops unsafe links): now the
    field says why."""
    manager.user.user_permissions.add(
        Permission.objects.get(codename="add_banner", content_type__app_label="campaigns")
    )
    data = {
        "title": "Hello",
        "link_url": link,
        "placement": "home",
        "sort_order": "0",
        "is_active": "on",
        "audience": "dealers",
        "customers": manager.mine.code,
    }
    response = manager.post(f"{BANNERS}add/", data)
    assert response.status_code == 200
    assert "link_url" in response.context["adminform"].form.errors
    assert not Banner.objects.exists()


# --- passwords ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["Customer Service", "Super Admin", "superuser"])
def test_no_staff_member_sets_a_dealer_owners_password(staff_client, role):
    client = staff_client(superuser=True) if role == "superuser" else staff_client(role)
    owner = DealerUserFactory(role="owner")
    url = f"{USERS}{owner.pk}/password/"

    page = client.get(url)
    post = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert page.status_code == post.status_code == 403
    owner.refresh_from_db()
    assert owner.check_password(DEFAULT_PASSWORD) and not owner.check_password(NEW_PASSWORD)
    change_page = client.get(f"{USERS}{owner.pk}/change/").content.decode()
    assert 'href="../password/"' not in change_page


def test_ones_own_password_page_leads_to_the_change_that_asks_for_the_old_one(staff_client):
    client = staff_client("Customer Service")

    response = client.get(f"{USERS}{client.user.pk}/password/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/password_change/"


def test_staff_send_a_password_reset_link_that_only_the_user_receives(
    staff_client, django_capture_on_commit_callbacks
):
    client = staff_client("Customer Service")
    owner = DealerUserFactory(role="owner")

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(client, USERS, "send_password_reset_link", [owner])

    assert response.status_code == 200
    (message,) = mail.outbox
    assert message.to == [owner.email]
    assert re.search(r"uid=[\w-]+", message.body) and re.search(r"token=[\w-]+", message.body)
    event = AuthEvent.objects.get(kind=AuthEvent.Kind.PASSWORD_RESET_REQUESTED)
    assert event.user == owner and client.user.email in event.detail
    owner.refresh_from_db()
    assert owner.check_password(DEFAULT_PASSWORD)  # nothing changes until the owner acts


def test_a_sales_manager_cannot_send_a_reset_link_to_another_dealers_user(
    manager, django_capture_on_commit_callbacks
):
    manager.user.user_permissions.add(
        Permission.objects.get(codename="change_user", content_type__app_label="accounts")
    )
    foreign = DealerUserFactory(customer=manager.other)

    with django_capture_on_commit_callbacks(execute=True):
        run_action(manager, USERS, "send_password_reset_link", [foreign])

    assert mail.outbox == []
    assert not AuthEvent.objects.filter(user=foreign).exists()


def test_a_new_account_gets_no_password_from_staff_but_a_link_to_choose_one(
    staff_client, django_capture_on_commit_callbacks
):
    client = staff_client("Super Admin")
    form = client.get(f"{USERS}add/").context["adminform"].form
    assert not {"password1", "password2", "usable_password"} & set(form.fields)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{USERS}add/",
            {
                "email": "New.Colleague@Example.com",
                "first_name": "Elif",
                "last_name": "Demir",
                "password1": NEW_PASSWORD,
                "password2": NEW_PASSWORD,
            },
        )

    assert response.status_code == 302
    user = User.objects.get(email="new.colleague@example.com")
    assert not user.has_usable_password()
    (message,) = mail.outbox
    assert message.to == [user.email] and "token=" in message.body
