"""The accounts back office: customers, users, API keys, the auth log, the batch log."""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from apps.accounts import lockout
from apps.accounts.models import (
    ApiKey,
    ApiKeyScope,
    AuthEvent,
    CreditLimitChange,
    Customer,
    CustomerStatus,
    DealerRole,
)
from apps.accounts.services.customers import customer_assign_sales_rep
from apps.integrations.models import BatchLog
from apps.notifications.models import Notification
from tests.factories import (
    AddressFactory,
    CustomerFactory,
    DealerUserFactory,
    StaffUserFactory,
)

pytestmark = [pytest.mark.django_db]

CUSTOMERS = "/admin/accounts/customer/"
USERS = "/admin/accounts/user/"
API_KEYS = "/admin/accounts/apikey/"
RAW_KEY = re.compile(r"b2b_[0-9a-f]{8}\.[A-Za-z0-9_-]{20,}")


def change_url(customer: Customer) -> str:
    return f"{CUSTOMERS}{customer.pk}/change/"


def run_action(client, url: str, action: str, objects, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(o.pk) for o in objects], **extra}
    return client.post(url, data, follow=True)


def change_form_data(customer: Customer, **overrides) -> dict:
    """What the customer change form posts back unchanged (inline management forms too)."""
    data = {
        "code": customer.code,
        "name": customer.name,
        "tier": customer.tier,
        "tax_number": customer.tax_number,
        "tax_office": customer.tax_office,
        "phone": customer.phone,
        "email": customer.email,
        "credit_limit": str(customer.credit_limit),
        "credit_limit_reason": "",
        "payment_terms_days": str(customer.payment_terms_days),
        "sales_rep": str(customer.sales_rep_id or ""),
    }
    for prefix in ("addresses", "users", "credit_limit_changes"):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    data.update(overrides)
    return data


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- customers: list ------------------------------------------------------------------------


def test_customer_changelist_searches_by_tax_number_and_filters_by_tier(staff_client):
    client = staff_client("Customer Service")
    wanted = CustomerFactory(name="Anadolu Makina", tier="A")
    other = CustomerFactory(name="Ege Yapı", tier="C")

    response = client.get(CUSTOMERS, {"q": wanted.tax_number})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [wanted]

    response = client.get(CUSTOMERS, {"tier__exact": "C", "status__exact": "active"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [other]


def test_customer_changelist_filters_by_sales_rep(staff_client):
    client = staff_client("Customer Service")
    rep = StaffUserFactory(groups=["Sales Manager"])
    assigned = CustomerFactory()
    CustomerFactory()
    customer_assign_sales_rep(customer=assigned, rep=rep, by=None)

    response = client.get(CUSTOMERS, {"sales_rep__id__exact": rep.pk})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [assigned]


def test_customer_change_page_shows_addresses_users_and_credit_history(staff_client):
    client = staff_client("Finance Manager")
    customer = CustomerFactory()
    AddressFactory(customer=customer, title="Ankara depot")
    DealerUserFactory(customer=customer, email="owner@dealer.example")

    response = client.get(change_url(customer))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Ankara depot" in content
    assert "owner@dealer.example" in content
    assert "credit limit history" in content.lower()


def test_customer_changelist_query_count_does_not_grow_with_the_page(staff_client):
    client = staff_client("Customer Service")
    rep = StaffUserFactory(groups=["Sales Manager"])

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(CUSTOMERS).status_code == 200
        return len(queries)

    for customer in CustomerFactory.create_batch(2):
        customer_assign_sales_rep(customer=customer, rep=rep, by=None)
    count_queries()  # warm: the work queues of the header are cached a minute
    few = count_queries()
    for customer in CustomerFactory.create_batch(10):
        customer_assign_sales_rep(customer=customer, rep=rep, by=None)
    assert count_queries() == few


# --- customers: status actions ---------------------------------------------------------------


@pytest.mark.parametrize("role", ["Customer Service", "Finance Manager"])
def test_a_registration_reaches_staff_only_once_its_e_mail_is_verified(staff_client, role):
    """DESIGN.md (Security): registration verifies the owner's e-mail before the company reaches
    staff. Super admins still see unverified ones (to clear abandoned registrations)."""
    unverified = CustomerFactory(name="Timing Co", status=CustomerStatus.UNVERIFIED)
    pending = CustomerFactory(name="Timing Two", status=CustomerStatus.PENDING)
    client = staff_client(role)

    listed = client.get(CUSTOMERS, {"q": "Timing"}).context["cl"].result_list
    assert list(listed) == [pending]
    change = reverse("admin:accounts_customer_change", args=[unverified.pk])
    assert client.get(change).status_code == 302  # not found: back to the admin index

    admin = staff_client(superuser=True)
    listed = admin.get(CUSTOMERS, {"q": "Timing"}).context["cl"].result_list
    assert set(listed) == {unverified, pending}

    # nor do its owner and the e-mail asking to verify the address reach them
    registrant = DealerUserFactory(customer=unverified, role="owner", email="gizli@example.org")
    notification = Notification.objects.create(
        channel="email",
        customer=unverified,
        user=registrant,
        to=registrant.email,
        template="registration_verify",
        subject="Confirm",
    )
    users = reverse("admin:accounts_user_changelist")
    notifications = reverse("admin:notifications_notification_changelist")
    assert registrant not in client.get(users, {"q": "gizli"}).context["cl"].result_list
    user_page = reverse("admin:accounts_user_change", args=[registrant.pk])
    assert client.get(user_page).status_code == 302
    if role == "Customer Service":  # the one of the two that reads the notification log
        shown = client.get(notifications).context["cl"].result_list
        assert notification not in shown
    assert registrant in admin.get(users, {"q": "gizli"}).context["cl"].result_list
    assert notification in admin.get(notifications).context["cl"].result_list


def test_customer_service_approves_a_pending_customer(staff_client):
    client = staff_client("Customer Service")
    customer = CustomerFactory(status=CustomerStatus.PENDING)

    response = run_action(client, CUSTOMERS, "approve_selected", [customer])

    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.ACTIVE
    assert customer.approved_at is not None
    assert customer.updated_by == client.user


def test_sales_manager_cannot_approve_even_an_assigned_customer(staff_client):
    client = staff_client("Sales Manager")
    customer = CustomerFactory(status=CustomerStatus.PENDING)
    customer_assign_sales_rep(customer=customer, rep=client.user, by=None)

    assert "approve_selected" not in client.get(CUSTOMERS).content.decode()
    response = run_action(client, CUSTOMERS, "approve_selected", [customer])

    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.PENDING


def test_approving_a_customer_in_the_wrong_state_reports_a_message_per_customer(staff_client):
    client = staff_client("Customer Service")
    pending = CustomerFactory(status=CustomerStatus.PENDING)
    active = CustomerFactory(status=CustomerStatus.ACTIVE)

    response = run_action(client, CUSTOMERS, "approve_selected", [pending, active])

    assert response.status_code == 200
    texts = messages_of(response)
    assert any(str(active) in t and "Only a pending company" in t for t in texts)
    assert any("1 customer approved" in t for t in texts)
    pending.refresh_from_db()
    assert pending.status == CustomerStatus.ACTIVE


def test_reject_asks_for_a_reason_on_an_intermediate_page(staff_client):
    client = staff_client("Customer Service")
    customer = CustomerFactory(status=CustomerStatus.PENDING)

    response = run_action(client, CUSTOMERS, "reject_selected", [customer])

    assert response.status_code == 200
    assert 'name="reason"' in response.content.decode()
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.PENDING


def test_reject_without_a_reason_does_not_reject(staff_client):
    client = staff_client("Customer Service")
    customer = CustomerFactory(status=CustomerStatus.PENDING)

    response = run_action(client, CUSTOMERS, "reject_selected", [customer], post="yes", reason=" ")

    assert response.status_code == 200
    assert response.context["form"].errors
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.PENDING


def test_reject_with_a_reason_rejects_and_keeps_the_reason(staff_client):
    client = staff_client("Customer Service")
    customer = CustomerFactory(status=CustomerStatus.PENDING)

    response = run_action(
        client, CUSTOMERS, "reject_selected", [customer], post="yes", reason="Tax number mismatch"
    )

    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.REJECTED
    assert customer.status_reason == "Tax number mismatch"


def test_suspend_with_a_reason_then_reactivate(staff_client):
    client = staff_client("Customer Service")
    customer = CustomerFactory(status=CustomerStatus.ACTIVE)

    run_action(client, CUSTOMERS, "suspend_selected", [customer], post="yes", reason="Overdue")
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.SUSPENDED
    assert customer.status_reason == "Overdue"

    run_action(client, CUSTOMERS, "reactivate_selected", [customer])
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.ACTIVE


def test_sales_manager_cannot_suspend_an_assigned_customer(staff_client):
    client = staff_client("Sales Manager")
    customer = CustomerFactory(status=CustomerStatus.ACTIVE)
    customer_assign_sales_rep(customer=customer, rep=client.user, by=None)

    run_action(client, CUSTOMERS, "suspend_selected", [customer], post="yes", reason="No")

    customer.refresh_from_db()
    assert customer.status == CustomerStatus.ACTIVE


# --- customers: credit limit -------------------------------------------------------------------


def test_finance_manager_changes_the_credit_limit_with_a_history_row(staff_client):
    client = staff_client("Finance Manager")
    customer = CustomerFactory(credit_limit=Decimal("100000.00"))

    response = client.post(
        change_url(customer),
        change_form_data(
            customer, credit_limit="250000.00", credit_limit_reason="Annual review 2026"
        ),
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("250000.00")
    change = CreditLimitChange.objects.get(customer=customer)
    assert change.old_limit == Decimal("100000.00")
    assert change.new_limit == Decimal("250000.00")
    assert change.reason == "Annual review 2026"
    assert change.changed_by == client.user
    assert change.source == CreditLimitChange.Source.ADMIN


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"credit_limit": "1e5"}, "credit_limit"),
        ({"credit_limit": "100_000"}, "credit_limit"),
        ({"credit_limit": ".5"}, "credit_limit"),
        ({"credit_limit": "\u0661\u0660\u0660"}, "credit_limit"),
        ({"payment_terms_days": "\u0663\u0660"}, "payment_terms_days"),
        ({"payment_terms_days": "3e1"}, "payment_terms_days"),
    ],
    ids=["exponent", "underscores", "no leading digit", "arabic digits", "arabic days", "e days"],
)
def test_a_number_typed_in_the_back_office_is_plain_digits(staff_client, changes, field):
    """As the APIs read numbers: ``1e5`` was saved as a credit limit (and its audit trail said
    ``1E+5``), ``٣٠`` as 30 days."""
    client = staff_client("Finance Manager")
    customer = CustomerFactory(credit_limit=Decimal("100000.00"), payment_terms_days=45)
    data = change_form_data(customer, credit_limit_reason="Review", **changes)
    response = client.post(change_url(customer), data)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert (customer.credit_limit, customer.payment_terms_days) == (Decimal("100000.00"), 45)
    assert not CreditLimitChange.objects.exists()


def test_an_amount_typed_without_its_places_is_recorded_with_them(staff_client):
    """``250000`` is the ``250000.00`` the database keeps: the audit trail reads
    ``100000.00 → 250000.00``, not ``→ 250000``."""
    from auditlog.models import LogEntry

    client = staff_client("Finance Manager")
    customer = CustomerFactory(credit_limit=Decimal("100000.00"))
    data = change_form_data(customer, credit_limit="250000", credit_limit_reason="Review")
    assert client.post(change_url(customer), data).status_code == 302
    entry = LogEntry.objects.get_for_object(customer).filter(action=LogEntry.Action.UPDATE)
    assert entry.latest("timestamp").changes_dict["credit_limit"] == ["100000.00", "250000.00"]


def test_a_credit_limit_change_without_a_reason_is_refused(staff_client):
    client = staff_client("Finance Manager")
    customer = CustomerFactory(credit_limit=Decimal("100000.00"))

    response = client.post(change_url(customer), change_form_data(customer, credit_limit="1.00"))

    assert response.status_code == 200
    assert "credit_limit_reason" in response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("100000.00")
    assert not CreditLimitChange.objects.filter(customer=customer).exists()


def test_payment_terms_are_at_most_a_year_in_the_back_office_as_in_the_erp_feed(staff_client):
    client = staff_client("Finance Manager")
    customer = CustomerFactory(payment_terms_days=30)

    response = client.post(
        change_url(customer), change_form_data(customer, payment_terms_days="32767")
    )

    assert response.status_code == 200
    assert "payment_terms_days" in response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert customer.payment_terms_days == 30
    response = client.post(
        change_url(customer), change_form_data(customer, payment_terms_days="365")
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.payment_terms_days == 365


def test_payment_terms_and_the_sales_rep_choices_are_credit_controls_and_reps(staff_client):
    """Payment terms decide when every invoice falls due: only who may change the credit
    limit changes them. A sales rep is a staff member who may see customers (not the
    Content Manager)."""
    customer = CustomerFactory(payment_terms_days=30)
    service = staff_client("Customer Service")
    response = service.post(
        change_url(customer), change_form_data(customer, payment_terms_days="120")
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.payment_terms_days == 30  # read-only for them: the post is ignored

    content = StaffUserFactory(groups=["Content Manager"], email="content@example.com")
    rep = StaffUserFactory(groups=["Sales Manager"], email="rep@example.com")
    page = staff_client(superuser=True).get(change_url(customer))
    choices = page.context["adminform"].form.fields["sales_rep"].queryset
    assert rep in choices and content not in choices

    # a rep assigned before stays a choice: saving the page keeps them
    customer_assign_sales_rep(customer=customer, rep=content, by=None)
    customer.refresh_from_db()
    data = change_form_data(customer, phone="+90 212 555 00 00")
    assert staff_client(superuser=True).post(change_url(customer), data).status_code == 302
    customer.refresh_from_db()
    assert customer.sales_rep == content


def test_a_tab_left_open_does_not_undo_a_credit_limit_changed_meanwhile(staff_client):
    """Two finance people: B raises the limit while A's page, opened before, is still open.
    A saving another field keeps B's limit; A changing the limit too is told B's figure
    and saves it only on a second, informed submit."""
    first, second = staff_client("Finance Manager"), staff_client("Finance Manager")
    customer = CustomerFactory(credit_limit=Decimal("100000.00"))
    page = first.get(change_url(customer)).content.decode()
    assert 'name="credit_limit_seen" value="100000.00"' in page
    stale = change_form_data(customer, credit_limit_seen="100000.00")

    meanwhile = second.post(
        change_url(customer),
        change_form_data(customer, credit_limit="500000.00", credit_limit_reason="New bank bond"),
    )
    assert meanwhile.status_code == 302

    renamed = first.post(change_url(customer), {**stale, "name": "Renamed Ltd."})
    assert renamed.status_code == 302, renamed.context and renamed.context["errors"]
    customer.refresh_from_db()
    assert (customer.name, customer.credit_limit) == ("Renamed Ltd.", Decimal("500000.00"))

    lowered = {**stale, "name": "Renamed Ltd.", "credit_limit": "150000.00"}
    lowered["credit_limit_reason"] = "Review"
    refused = first.post(change_url(customer), lowered)
    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors["credit_limit"]
    assert "500000.00" in errors[0] and second.user.email in errors[0]
    assert 'name="credit_limit_seen" value="500000.00"' in refused.content.decode()
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("500000.00")

    again = first.post(change_url(customer), {**lowered, "credit_limit_seen": "500000.00"})
    assert again.status_code == 302
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("150000.00")
    assert CreditLimitChange.objects.filter(customer=customer).count() == 2


def test_customer_service_posting_a_new_credit_limit_leaves_it_unchanged(staff_client):
    client = staff_client("Customer Service")
    customer = CustomerFactory(credit_limit=Decimal("100000.00"))

    response = client.post(
        change_url(customer),
        change_form_data(
            customer, name="Renamed Ltd.", credit_limit="999999.00", credit_limit_reason="x"
        ),
    )

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "Renamed Ltd."  # the rest of the form was saved
    assert customer.credit_limit == Decimal("100000.00")
    assert not CreditLimitChange.objects.filter(customer=customer).exists()


def test_a_credit_limit_reason_posted_by_who_cannot_change_the_limit_changes_nothing(
    staff_client,
):
    """No "changed" log entry, no customer.updated event for a field they do not have."""
    from django.contrib.admin.models import LogEntry as AdminLogEntry

    from apps.core.models import OutboxEvent

    client = staff_client("Customer Service")
    customer = CustomerFactory(credit_limit=Decimal("100000.00"))
    response = client.post(
        change_url(customer), change_form_data(customer, credit_limit_reason="nothing really")
    )

    assert response.status_code == 302
    assert not OutboxEvent.objects.filter(type="customer.updated").exists()
    assert not AdminLogEntry.objects.filter(change_message__contains="credit_limit").exists()
    assert not AdminLogEntry.objects.filter(change_message__contains="Reason").exists()


# --- customers: sales reps ----------------------------------------------------------------------


def test_sales_manager_sees_only_the_customers_assigned_to_them(staff_client):
    client = staff_client("Sales Manager")
    mine = CustomerFactory()
    theirs = CustomerFactory()
    customer_assign_sales_rep(customer=mine, rep=client.user, by=None)

    response = client.get(CUSTOMERS)
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [mine]
    assert client.get(change_url(mine)).status_code == 200
    assert client.get(change_url(theirs)).status_code != 200
    assert client.get(f"{CUSTOMERS}{theirs.pk}/auditlog/").status_code == 404
    client.post(change_url(theirs), change_form_data(theirs, name="Hijacked"))
    theirs.refresh_from_db()
    assert theirs.name != "Hijacked"


def test_sales_manager_edits_an_assigned_customer_but_not_its_rep(staff_client):
    client = staff_client("Sales Manager")
    other_rep = StaffUserFactory(groups=["Sales Manager"])
    customer = CustomerFactory()
    AddressFactory(customer=customer)
    DealerUserFactory(customer=customer)
    customer_assign_sales_rep(customer=customer, rep=client.user, by=None)
    assert client.get(change_url(customer)).status_code == 200

    response = client.post(
        change_url(customer),
        change_form_data(customer, name="Renamed Ltd.", sales_rep=other_rep.pk),
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    customer.refresh_from_db()
    assert customer.name == "Renamed Ltd."
    assert customer.sales_rep == client.user


def test_assigning_a_sales_rep_in_the_form_grants_them_the_customer(staff_client):
    client = staff_client("Customer Service")
    rep = StaffUserFactory(groups=["Sales Manager"])
    customer = CustomerFactory()

    response = client.post(change_url(customer), change_form_data(customer, sales_rep=rep.pk))

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.sales_rep == rep
    assert rep.has_perm("accounts.view_customer", customer)


# --- customers: audit history -----------------------------------------------------------------


def test_customer_audit_history_shows_a_changed_field(staff_client):
    client = staff_client("Customer Service")
    customer = CustomerFactory(name="Old Name Ltd.")
    client.post(change_url(customer), change_form_data(customer, name="New Name Ltd."))

    page = client.get(change_url(customer))
    assert f"{CUSTOMERS}{customer.pk}/auditlog/" in page.content.decode()
    response = client.get(f"{CUSTOMERS}{customer.pk}/auditlog/")

    assert response.status_code == 200
    content = response.content.decode()
    assert "Old Name Ltd." in content
    assert "New Name Ltd." in content


# --- users --------------------------------------------------------------------------------------


def test_user_changelist_filters_and_searches(staff_client):
    client = staff_client(superuser=True)
    dealer = DealerUserFactory(email="buyer@dealer.example", role=DealerRole.PURCHASING)

    response = client.get(USERS, {"role__exact": "purchasing", "q": "buyer@"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [dealer]
    response = client.get(USERS, {"customer__id__exact": dealer.customer_id, "is_active__exact": 1})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [dealer]


def test_unlock_action_clears_a_lockout_and_records_the_unlock(staff_client):
    client = staff_client("Customer Service")
    dealer = DealerUserFactory()
    for _attempt in range(5):
        lockout.register_failure(email=dealer.email, ip=None)
    assert lockout.is_account_locked(dealer.email)
    assert "icon-yes" in client.get(USERS, {"q": dealer.email}).content.decode()

    response = run_action(client, USERS, "unlock_selected", [dealer])

    assert response.status_code == 200
    assert not lockout.is_account_locked(dealer.email)
    event = AuthEvent.objects.get(kind=AuthEvent.Kind.UNLOCK)
    assert event.user == dealer
    assert client.user.email in event.detail


def test_dealer_role_changes_in_the_customer_page_go_through_the_owner_rule(staff_client):
    client = staff_client("Customer Service")
    owner = DealerUserFactory(role=DealerRole.OWNER)
    customer = owner.customer

    data = change_form_data(customer)
    data.update(
        {
            "users-TOTAL_FORMS": "1",
            "users-INITIAL_FORMS": "1",
            "users-0-id": str(owner.pk),
            "users-0-customer": str(customer.pk),
            "users-0-role": DealerRole.VIEWER,
            "users-0-is_active": "on",
            "users-0-order_limit": "",
        }
    )
    response = client.post(change_url(customer), data)

    assert response.status_code == 200
    assert "at least one active owner" in response.content.decode()
    owner.refresh_from_db()
    assert owner.role == DealerRole.OWNER


def test_dealer_role_change_in_the_customer_page_moves_the_user_to_the_role_group(staff_client):
    client = staff_client("Customer Service")
    owner = DealerUserFactory(role=DealerRole.OWNER)
    buyer = DealerUserFactory(customer=owner.customer, role=DealerRole.PURCHASING)

    data = change_form_data(owner.customer)
    data.update(
        {
            "users-TOTAL_FORMS": "1",
            "users-INITIAL_FORMS": "1",
            "users-0-id": str(buyer.pk),
            "users-0-customer": str(owner.customer_id),
            "users-0-role": DealerRole.VIEWER,
            "users-0-is_active": "on",
            "users-0-order_limit": "5000",
        }
    )
    response = client.post(change_url(owner.customer), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    buyer.refresh_from_db()
    assert buyer.role == DealerRole.VIEWER
    assert buyer.order_limit == Decimal("5000")
    assert list(buyer.groups.values_list("name", flat=True)) == ["Dealer Viewer"]


# --- API keys -----------------------------------------------------------------------------------


def create_key_in_admin(client, **overrides) -> tuple[ApiKey, str, str]:
    data = {
        "name": "LOGO connector",
        "scopes": [ApiKeyScope.CUSTOMERS_WRITE, ApiKeyScope.ORDERS_READ],
        "allowed_ips": "127.0.0.1, 10.0.0.0/8",
        **overrides,
    }
    response = client.post(f"{API_KEYS}add/", data, follow=True)
    assert response.status_code == 200
    content = response.content.decode()
    found = RAW_KEY.findall(content)
    assert len(found) == 1, content
    return ApiKey.objects.get(name=data["name"]), found[0], content


def test_api_key_created_in_the_admin_is_shown_once_and_stored_hashed(staff_client):
    client = staff_client(superuser=True)

    api_key, raw, _page = create_key_in_admin(client)

    assert api_key.hashed_key == hashlib.sha256(raw.encode()).hexdigest()
    assert api_key.scopes == sorted([ApiKeyScope.CUSTOMERS_WRITE, ApiKeyScope.ORDERS_READ])
    assert api_key.allowed_ips == ["127.0.0.1/32", "10.0.0.0/8"]
    assert api_key.created_by == client.user
    later = client.get(f"{API_KEYS}{api_key.pk}/change/").content.decode()
    assert raw not in later
    assert api_key.hashed_key not in later
    assert not RAW_KEY.search(client.get(API_KEYS).content.decode())

    api = APIClient()
    api.credentials(HTTP_X_API_KEY=raw)
    assert api.post("/api/integration/v1/customers", [], format="json").status_code == 200


def test_api_key_with_a_bad_network_is_not_created(staff_client):
    client = staff_client(superuser=True)

    response = client.post(
        f"{API_KEYS}add/",
        {"name": "bad", "scopes": [ApiKeyScope.ORDERS_READ], "allowed_ips": "10.0.0.0/33"},
    )

    assert response.status_code == 200
    assert "allowed_ips" in response.context["adminform"].form.errors
    assert not ApiKey.objects.exists()


def test_api_key_expiring_in_the_past_is_not_created(staff_client):
    """A key born expired would be shown once and refused on its first call."""
    client = staff_client(superuser=True)
    data = {"name": "late", "scopes": [ApiKeyScope.ORDERS_READ], "allowed_ips": ""}

    response = client.post(
        f"{API_KEYS}add/", {**data, "expires_at_0": "2020-01-01", "expires_at_1": "00:00:00"}
    )

    assert response.status_code == 200
    assert "expires_at" in response.context["adminform"].form.errors
    assert not ApiKey.objects.exists()
    response = client.post(
        f"{API_KEYS}add/", {**data, "expires_at_0": "2099-01-01", "expires_at_1": "00:00:00"}
    )
    assert ApiKey.objects.get().expires_at.year in (2098, 2099)  # Istanbul midnight in UTC


def test_revoked_api_key_answers_401(staff_client):
    client = staff_client(superuser=True)
    api_key, raw, _page = create_key_in_admin(client)

    response = run_action(client, API_KEYS, "revoke_selected", [api_key])

    assert response.status_code == 200
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    api = APIClient()
    api.credentials(HTTP_X_API_KEY=raw)
    assert api.post("/api/integration/v1/customers", [], format="json").status_code == 401


def test_api_key_name_can_be_changed_but_not_its_secret(staff_client):
    client = staff_client(superuser=True)
    api_key, _raw, _page = create_key_in_admin(client)
    hashed = api_key.hashed_key

    response = client.post(
        f"{API_KEYS}{api_key.pk}/change/", {"name": "LOGO connector (Izmir)", "hashed_key": "x"}
    )

    assert response.status_code == 302
    api_key.refresh_from_db()
    assert api_key.name == "LOGO connector (Izmir)"
    assert api_key.hashed_key == hashed


# --- logs ---------------------------------------------------------------------------------------


def test_auth_event_admin_refuses_add_change_and_delete(staff_client):
    client = staff_client(superuser=True)
    event = AuthEvent.objects.create(kind=AuthEvent.Kind.LOGIN_FAILED, email="x@example.com")
    url = f"/admin/accounts/authevent/{event.pk}/"

    assert client.get("/admin/accounts/authevent/add/").status_code == 403
    assert client.post("/admin/accounts/authevent/add/", {"kind": "login"}).status_code == 403
    client.post(f"{url}change/", {"kind": "login", "email": "y@example.com"})
    assert client.post(f"{url}delete/", {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert (event.kind, event.email) == (AuthEvent.Kind.LOGIN_FAILED, "x@example.com")


def test_auth_event_admin_searches_email_and_ip_and_filters_kind(staff_client):
    client = staff_client("Customer Service")
    AuthEvent.objects.create(kind=AuthEvent.Kind.LOGIN_FAILED, email="x@example.com")
    AuthEvent.objects.create(
        kind=AuthEvent.Kind.LOGIN, email="z@example.com", ip_address="10.9.8.7"
    )

    response = client.get(
        "/admin/accounts/authevent/", {"q": "x@example", "kind__exact": "login_failed"}
    )
    assert response.status_code == 200
    assert [e.email for e in response.context["cl"].result_list] == ["x@example.com"]
    response = client.get("/admin/accounts/authevent/", {"q": "10.9.8"})
    assert [e.email for e in response.context["cl"].result_list] == ["z@example.com"]


def test_staff_sign_ins_are_shown_to_super_admins_only(staff_client):
    """Customer Service reads dealers' sign-ins, not the staff's (the super admin's addresses,
    failures and second-factor steps), as it does not see staff accounts either."""
    boss = StaffUserFactory(groups=["Super Admin"], email="boss@example.com")
    dealer = DealerUserFactory(email="buyer@dealer.example.com")
    for user in (boss, dealer):
        AuthEvent.objects.create(kind=AuthEvent.Kind.LOGIN, email=user.email, user=user)
    AuthEvent.objects.create(kind=AuthEvent.Kind.LOGIN_FAILED, email="who@example.com")
    # a failed sign-in is kept by e-mail alone: a staff member's is staff's all the same,
    # also typed in other capitals on the admin's sign-in form (kept as typed)
    AuthEvent.objects.create(kind=AuthEvent.Kind.LOGIN_FAILED, email=boss.email)
    Client().post("/admin/login/", {"username": " Boss@Example.COM", "password": "wrong"})
    assert AuthEvent.objects.filter(email__iexact="boss@example.com", user=None).count() == 2

    def seen(client):
        response = client.get("/admin/accounts/authevent/")
        return {e.email for e in response.context["cl"].result_list}

    assert seen(staff_client("Customer Service")) == {dealer.email, "who@example.com"}
    assert {boss.email, dealer.email} <= seen(staff_client(superuser=True))
    event = AuthEvent.objects.get(user=boss)
    page = staff_client("Customer Service").get(f"/admin/accounts/authevent/{event.pk}/change/")
    assert page.status_code == 302  # Django's "does not exist": back to the list


def test_batch_log_admin_lists_batches_read_only(staff_client):
    client = staff_client(superuser=True)
    BatchLog.objects.create(resource="customers", received=3, created=2, failed=1)

    response = client.get("/admin/integrations/batchlog/", {"resource": "customers"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    assert client.get("/admin/integrations/batchlog/add/").status_code == 403


# --- smoke: every screen renders ----------------------------------------------------------------


def test_every_back_office_screen_renders_for_a_super_admin(staff_client):
    client = staff_client(superuser=True)
    customer = CustomerFactory()
    dealer = DealerUserFactory(customer=customer)
    AddressFactory(customer=customer)
    api_key, _raw, _page = create_key_in_admin(client)
    event = AuthEvent.objects.create(kind=AuthEvent.Kind.LOGIN, user=dealer, ip_address="10.1.2.3")
    batch = BatchLog.objects.create(
        resource="customers",
        api_key=api_key,
        received=1,
        failed=1,
        errors=[{"index": 0, "key": "C1", "errors": {"name": ["Required."]}}],
    )

    for url in (
        CUSTOMERS,
        f"{CUSTOMERS}add/",
        change_url(customer),
        f"{CUSTOMERS}{customer.pk}/auditlog/",
        USERS,
        f"{USERS}{dealer.pk}/change/",
        f"{USERS}{dealer.pk}/auditlog/",
        f"{USERS}add/",
        API_KEYS,
        f"{API_KEYS}add/",
        f"{API_KEYS}{api_key.pk}/change/",
        f"{API_KEYS}{api_key.pk}/auditlog/",
        "/admin/accounts/authevent/?q=10.1.2",
        f"/admin/accounts/authevent/{event.pk}/change/",
        "/admin/integrations/batchlog/",
        f"/admin/integrations/batchlog/{batch.pk}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url


def test_a_new_default_address_in_the_customer_page_replaces_the_old_default(staff_client):
    client = staff_client("Customer Service")
    customer = CustomerFactory()
    old = AddressFactory(customer=customer, is_default=True)

    data = change_form_data(customer)
    data.update(
        {
            "addresses-TOTAL_FORMS": "2",
            "addresses-INITIAL_FORMS": "1",
            "addresses-0-id": str(old.pk),
            "addresses-0-customer": str(customer.pk),
            "addresses-0-type": old.type,
            "addresses-0-title": old.title,
            "addresses-0-line1": old.line1,
            "addresses-0-city": old.city,
            "addresses-0-country": "TR",
            "addresses-0-is_default": "on",
            "addresses-1-customer": str(customer.pk),
            "addresses-1-type": old.type,
            "addresses-1-title": "New depot",
            "addresses-1-line1": "Sanayi Cd. 5",
            "addresses-1-city": "Bursa",
            "addresses-1-country": "TR",
            "addresses-1-is_default": "on",
        }
    )
    response = client.post(change_url(customer), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    new = customer.addresses.get(title="New depot")
    old.refresh_from_db()
    assert new.is_default and not old.is_default
    assert new.created_by == client.user


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"phone": "abc"}, "phone"),
        ({"phone": "12"}, "phone"),
        ({"addresses-0-phone": "call me"}, "phone"),
        ({"addresses-0-postal_code": "abcdefghijkl"}, "postal_code"),
    ],
    ids=["company phone", "short phone", "address phone", "address postal code"],
)
def test_the_customer_page_checks_phones_and_postal_codes_as_the_api_does(
    staff_client, changes, field
):
    """The SMS sign-in code goes to a phone typed here, and the dealer API answers what is
    saved: ``abc`` was stored though the API refuses it."""
    client = staff_client("Customer Service")
    customer = CustomerFactory(phone="+90 212 555 01 01")
    address = AddressFactory(customer=customer, phone="0212 555 01 02", postal_code="34710")
    data = change_form_data(customer)
    data.update(
        {
            "addresses-TOTAL_FORMS": "1",
            "addresses-INITIAL_FORMS": "1",
            "addresses-0-id": str(address.pk),
            "addresses-0-customer": str(customer.pk),
            "addresses-0-type": address.type,
            "addresses-0-title": address.title,
            "addresses-0-line1": address.line1,
            "addresses-0-city": address.city,
            "addresses-0-postal_code": address.postal_code,
            "addresses-0-phone": address.phone,
            "addresses-0-country": "TR",
        }
    )
    assert client.post(change_url(customer), data).status_code == 302  # as it is: saved
    response = client.post(change_url(customer), {**data, **changes})
    assert response.status_code == 200
    page = response.content.decode()
    assert ("Enter a phone number" if field == "phone" else "Enter a postal code") in page
    customer.refresh_from_db()
    address.refresh_from_db()
    assert (customer.phone, address.phone, address.postal_code) == (
        "+90 212 555 01 01",
        "0212 555 01 02",
        "34710",
    )


def test_super_admin_adds_a_customer_with_a_credit_limit_history_row(staff_client):
    client = staff_client(superuser=True)
    data = change_form_data(
        CustomerFactory.build(code="NEW1", tax_number="1234567890"),
        credit_limit="5000.00",
        credit_limit_reason="Opening limit",
    )

    response = client.post(f"{CUSTOMERS}add/", data)

    assert response.status_code == 302, response.context and response.context["errors"]
    customer = Customer.objects.get(code="NEW1")
    assert customer.status == CustomerStatus.PENDING
    assert customer.credit_limit == Decimal("5000.00")
    assert customer.created_by == client.user
    assert customer.credit_limit_changes.get().reason == "Opening limit"


def test_a_tax_number_taken_by_another_customer_is_a_form_error(staff_client):
    client = staff_client("Customer Service")
    customer = CustomerFactory()
    other = CustomerFactory()

    response = client.post(
        change_url(customer), change_form_data(customer, tax_number=other.tax_number)
    )

    assert response.status_code == 200
    assert "tax_number" in response.context["adminform"].form.errors


def test_a_dealer_user_cannot_be_made_staff_in_the_users_screen(staff_client):
    client = staff_client(superuser=True)
    dealer = DealerUserFactory()

    response = client.post(
        f"{USERS}{dealer.pk}/change/",
        {
            "email": dealer.email,
            "first_name": dealer.first_name,
            "last_name": dealer.last_name,
            "is_active": "on",
            "is_staff": "on",
            "groups": [str(Group.objects.get(name="Super Admin").pk)],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
        },
    )

    # the fields are not on a dealer user's page: what is posted for them is ignored
    assert response.status_code == 302
    dealer.refresh_from_db()
    assert not dealer.is_staff
    assert list(dealer.groups.values_list("name", flat=True)) == ["Dealer Owner"]


def test_customer_service_cannot_grant_itself_staff_powers(staff_client):
    client = staff_client("Customer Service")
    me = client.user
    admin_user = StaffUserFactory(is_superuser=True)

    response = client.post(
        f"{USERS}{me.pk}/change/",
        {"email": me.email, "is_active": "on", "is_staff": "on", "is_superuser": "on"},
    )
    me.refresh_from_db()
    assert not me.is_superuser
    assert response.status_code in (302, 403)

    client.post(
        f"{USERS}{admin_user.pk}/password/",
        {"password1": "Xx-12345678", "password2": "Xx-12345678"},
    )
    admin_user.refresh_from_db()
    assert not admin_user.check_password("Xx-12345678")
    assert client.get(f"{USERS}{admin_user.pk}/password/").status_code == 403


def test_customer_service_edits_a_dealer_user_in_the_users_screen(staff_client):
    client = staff_client("Customer Service")
    dealer = DealerUserFactory()

    response = client.post(
        f"{USERS}{dealer.pk}/change/",
        {"email": dealer.email, "first_name": "Mehmet", "last_name": "Kaya", "is_active": "on"},
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    dealer.refresh_from_db()
    assert dealer.first_name == "Mehmet"


# --- customers: the ERP code and the tier -------------------------------------------------------


@pytest.mark.parametrize("role", ["Customer Service", "Finance Manager", "Sales Manager"])
def test_no_role_renames_the_erp_code_and_only_pricing_roles_change_the_tier(staff_client, role):
    """The code is the ERP's key (renamed, the next feed would make a second company); the
    tier decides every price, so it is the pricing roles' (a sales manager's own dealers)."""
    from apps.accounts.services.customers import customer_assign_sales_rep

    client = staff_client(role)
    customer = CustomerFactory(code="BAYI-7", tier="B")
    customer_assign_sales_rep(customer=customer, rep=client.user, by=None)
    response = client.post(
        change_url(customer), change_form_data(customer, code="BAYI-7X", tier="A")
    )
    assert response.status_code == 302, response.content[:500]
    customer.refresh_from_db()
    assert customer.code == "BAYI-7"
    assert customer.tier == ("A" if role == "Sales Manager" else "B")


def test_a_registrations_temporary_code_is_replaced_by_the_erp_code(staff_client):
    client = staff_client("Customer Service")
    customer = CustomerFactory(code="TMP-0123456789ab", status="pending")
    response = client.post(change_url(customer), change_form_data(customer, code="BAYI-8"))
    assert response.status_code == 302, response.content[:500]
    customer.refresh_from_db()
    assert customer.code == "BAYI-8"
    page = client.get(change_url(customer)).content.decode()
    assert 'name="code"' not in page  # from now on the ERP's key


def test_a_dealer_users_groups_are_its_role_not_a_field_even_for_a_super_admin(staff_client):
    # set by hand, a dealer user's groups parted from its role: a "viewer" in the owners'
    # group managed the company's users, an "owner" in the viewers' group could not
    client = staff_client(superuser=True)
    dealer = DealerUserFactory(role=DealerRole.VIEWER)
    staff = StaffUserFactory(groups=["Sales Manager"])

    page = client.get(f"/admin/accounts/user/{dealer.pk}/change/").content.decode()
    assert 'name="groups"' not in page and 'name="user_permissions"' not in page
    assert 'name="is_staff"' not in page and 'name="is_superuser"' not in page
    staff_page = client.get(f"/admin/accounts/user/{staff.pk}/change/").content.decode()
    assert 'name="groups"' in staff_page  # staff roles are given here


def test_staff_changing_a_dealer_users_sign_in_email_tells_the_old_address(
    staff_client, django_capture_on_commit_callbacks
):
    """Customer Service may correct a dealer user's sign-in e-mail, and a reset link then goes
    to the new address: the old one hears of it at once, so a change its owner did not ask
    for (an account taken over through the back office) can be reported."""
    from django.core import mail  # here: only this test reads the sent e-mails

    client = staff_client("Customer Service")
    dealer = DealerUserFactory(email="buyer@dealer.example.com", first_name="Ayşe", phone="")
    url = f"/admin/accounts/user/{dealer.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {
        name: ("" if value is None else value)
        for name, value in form.initial.items()
        if name in form.fields and not form.fields[name].disabled
    }
    data["is_active"] = "on"

    # a save that keeps the address (other capitals are the same address) tells no one
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {**data, "email": "Buyer@Dealer.example.com"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert not [m for m in mail.outbox if "buyer@dealer.example.com" in m.to]

    with django_capture_on_commit_callbacks(execute=True):  # sent after the commit
        response = client.post(url, {**data, "email": "someone@else.example"})
    assert response.status_code == 302
    dealer.refresh_from_db()
    assert dealer.email == "someone@else.example"
    (notice,) = [m for m in mail.outbox if m.to == ["buyer@dealer.example.com"]]
    assert "someone@else.example" in notice.body and "buyer@dealer.example.com" in notice.body


def test_messages_to_other_staff_accounts_are_shown_to_super_admins_only(staff_client):
    """A staff member's password reset link or a quote to answer is staff's business: Customer
    Service, who sees every dealer's messages, does not see another staff member's (kept by
    user or by address only); its own stay in view."""
    from apps.notifications.models import Notification  # here: only this test reads them

    manager = StaffUserFactory(groups=["Sales Manager"], email="rep@example.com")
    dealer = DealerUserFactory(email="buyer@dealer.example.com")
    client = staff_client("Customer Service")
    me = client.get("/admin/").wsgi_request.user
    for to, user in (
        (manager.email, manager),  # a reset link
        ("Rep@Example.com", None),  # a quote to answer, by address alone
        (dealer.email, dealer),
        (me.email, me),
    ):
        Notification.objects.create(channel="email", to=to, template="t", user=user)

    def seen(client):
        response = client.get("/admin/notifications/notification/")
        return sorted(n.to for n in response.context["cl"].result_list)

    assert seen(client) == sorted([dealer.email, me.email])
    assert len(seen(staff_client(superuser=True))) == 4


def test_user_changelist_shows_locks_in_a_constant_number_of_queries(staff_client):
    """The "locked" column reads the page's locks at once: a lock counted in Redis and one
    only in the records of failed logins (earned while Redis was down) alike."""
    from apps.accounts import lockout  # here: only this test counts failures itself

    client = staff_client("Customer Service")

    def page() -> tuple[int, dict[str, bool]]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/admin/accounts/user/")
        assert response.status_code == 200
        rows = response.context["cl"].result_list
        return len(queries), {user.email: user.locked_now for user in rows}

    redis_locked, record_locked, free = DealerUserFactory.create_batch(3)
    for _ in range(5):
        lockout.register_failure(email=redis_locked.email, ip=None)
        AuthEvent.objects.create(
            kind=AuthEvent.Kind.LOGIN_FAILED, email=record_locked.email, detail="bad credentials"
        )
    page()  # warm: the work queues of the header are cached a minute
    few, seen = page()
    assert seen[redis_locked.email] and seen[record_locked.email]
    assert not seen[free.email]
    DealerUserFactory.create_batch(10)
    many, _seen = page()
    assert many == few
