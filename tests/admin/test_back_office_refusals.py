"""Back-office requests a staff member may send that must be refused, or shown only in part,
never answered with a 500 or with another dealer's data: stock beyond what the database can
hold, a dealer picker given a value that is not an id, a company's last active owner switched
off in the users screen, a person deleted (people are deactivated), campaigns of dealers a
sales manager does not look after on the product page and the price preview."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from apps.accounts.models import User
from apps.accounts.services.customers import customer_assign_sales_rep
from apps.campaigns.models import Audience, Campaign
from apps.campaigns.rules import campaigns_bump
from apps.inventory.models import StockLevel
from apps.pricing.models import Price, PriceList
from tests.factories import CustomerFactory, DealerUserFactory
from tests.inventory.factories import ProductFactory, StockLevelFactory, WarehouseFactory

pytestmark = [pytest.mark.django_db]

TOO_MANY = 2**31  # one more than the on-hand column holds


@pytest.fixture
def superuser(staff_client):
    return staff_client(superuser=True)


def test_stock_beyond_what_the_database_holds_is_a_form_error_and_changes_nothing(superuser):
    level = StockLevelFactory(
        product=ProductFactory(sku="KBL-9"), warehouse=WarehouseFactory(code="IST"), on_hand=5
    )
    url = f"/admin/inventory/stocklevel/{level.pk}/adjust/"
    for data in (
        {"new_on_hand": str(TOO_MANY), "reason": "count"},
        {"delta": str(TOO_MANY - 1), "reason": "count"},  # 5 + that is too many
        {"delta": "99999999999999999999", "reason": "count"},
    ):
        response = superuser.post(url, data)
        assert response.status_code == 200, data
        assert "errorlist" in response.content.decode(), data
    bulk = superuser.post(
        "/admin/inventory/stocklevel/",
        {
            "action": "adjust_selected",
            ACTION_CHECKBOX_NAME: [level.pk],
            "post": "yes",
            "delta": "99999999999999999999",
            "reason": "count",
        },
    )
    assert bulk.status_code == 200
    level.refresh_from_db()
    assert level.on_hand == 5


@pytest.mark.parametrize(
    "url",
    [
        "/admin/finance/ledgerentry/adjust/",
        "/admin/finance/balanceconfirmation/add/",
    ],
)
@pytest.mark.parametrize("value", ["abc", "1.5"])
def test_a_dealer_picker_given_a_value_that_is_not_an_id_is_a_form_error(staff_client, url, value):
    client = staff_client("Finance Manager")
    response = client.post(url, {"customer": value, "amount": "10.00", "reason": "x"})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()


def _user_form(user: User, **changes) -> dict:
    data = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": user.phone,
        "order_limit": "",
        "is_active": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_users_screen_keeps_a_companys_last_active_owner(staff_client):
    client = staff_client("Customer Service")
    company = CustomerFactory()
    owner = DealerUserFactory(customer=company, role="owner")
    url = f"/admin/accounts/user/{owner.pk}/change/"

    refused = client.post(url, _user_form(owner, is_active=None))

    assert refused.status_code == 200
    assert "A company must keep at least one active owner." in refused.content.decode()
    owner.refresh_from_db()
    assert owner.is_active
    # with another active owner, one may be switched off
    DealerUserFactory(customer=company, role="owner")
    assert client.post(url, _user_form(owner, is_active=None)).status_code == 302
    owner.refresh_from_db()
    assert not owner.is_active


def test_a_person_switched_off_in_the_back_office_loses_their_tokens_for_good(staff_client):
    """As the dealer API's deactivation: the tokens end at once, and switching the person on
    again does not bring the old ones back (security.md)."""
    from rest_framework.test import APIClient

    from tests.conftest import login

    client = staff_client("Customer Service")
    company = CustomerFactory()
    DealerUserFactory(customer=company, role="owner")
    person = DealerUserFactory(customer=company, role="purchasing")
    api = APIClient()
    tokens = login(api, person)
    assert api.get("/api/v1/me").status_code == 200
    url = f"/admin/accounts/user/{person.pk}/change/"

    assert client.post(url, _user_form(person, is_active=None)).status_code == 302
    assert api.get("/api/v1/me").status_code == 401
    assert client.post(url, _user_form(person)).status_code == 302  # on again
    person.refresh_from_db()
    assert person.is_active
    assert api.get("/api/v1/me").json()["code"] == "token_revoked"
    refreshed = APIClient().post("/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]})
    assert refreshed.status_code == 401


def test_people_are_deactivated_never_deleted_in_the_back_office(superuser):
    person = DealerUserFactory()
    assert superuser.get(f"/admin/accounts/user/{person.pk}/delete/").status_code == 403
    assert (
        superuser.post(f"/admin/accounts/user/{person.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    listing = superuser.get("/admin/accounts/user/").content.decode()
    assert 'value="delete_selected"' not in listing
    superuser.post(
        "/admin/accounts/user/",
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [person.pk], "post": "yes"},
    )
    assert User.objects.filter(pk=person.pk).exists()


@pytest.fixture
def two_dealers_and_a_sales_manager(staff_client):
    manager = staff_client("Sales Manager")
    mine, theirs = CustomerFactory(code="MINE1"), CustomerFactory(code="THEIRS1")
    customer_assign_sales_rep(customer=mine, rep=manager.user, by=None)
    product = ProductFactory(sku="PRZ-1")
    Price.objects.create(
        price_list=PriceList.objects.get(code="LIST"), product=product, amount=Decimal("100")
    )
    for name, dealer in (("For my dealer", mine), ("For their dealer", theirs)):
        campaign = Campaign.objects.create(
            name=name,
            audience=Audience.DEALERS,
            discount_type="percentage",
            discount_value=Decimal("5"),
        )
        campaign.customers.set([dealer])
    campaigns_bump()
    return manager, product


def test_a_sales_manager_sees_on_the_product_page_only_the_campaigns_of_their_dealers(
    two_dealers_and_a_sales_manager,
):
    manager, product = two_dealers_and_a_sales_manager
    page = manager.get(f"/admin/catalog/product/{product.pk}/change/").content.decode()
    assert "For my dealer" in page
    assert "For their dealer" not in page


def test_a_sales_manager_previewing_a_price_sees_only_the_campaigns_of_their_dealers(
    two_dealers_and_a_sales_manager,
):
    manager, _product = two_dealers_and_a_sales_manager
    page = manager.get(
        "/admin/campaigns/campaign/preview/",
        {"customer": "MINE1", "sku": "PRZ-1", "quantity": "1"},
    ).content.decode()
    assert "For my dealer" in page
    assert "For their dealer" not in page
    assert StockLevel.objects.count() == 0  # nothing written by looking


@pytest.mark.django_db(transaction=True)
def test_two_people_switching_off_the_last_two_owners_at_once_leave_one(staff_client):
    """Real parallel saves on the users screen: the owners are locked while the rule is
    checked, so the second save sees the first and is refused."""
    import threading

    from django.db import connection

    company = CustomerFactory()
    owners = [DealerUserFactory(customer=company, role="owner") for _ in range(2)]
    clients = [staff_client("Customer Service") for _ in owners]
    barrier = threading.Barrier(len(owners))
    statuses = []

    def switch_off(client, owner):
        try:
            barrier.wait(timeout=10)
            url = f"/admin/accounts/user/{owner.pk}/change/"
            statuses.append(client.post(url, _user_form(owner, is_active=None)).status_code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=switch_off, args=pair) for pair in zip(clients, owners, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200, 302]
    assert User.objects.filter(customer=company, role="owner", is_active=True).count() == 1


def test_an_e_mail_in_use_is_said_in_words_not_by_the_constraints_name(staff_client):
    client = staff_client("Customer Service")
    company = CustomerFactory()
    taken = DealerUserFactory(customer=company, role="purchasing")
    user = DealerUserFactory(customer=company, role="viewer")
    url = f"/admin/accounts/user/{user.pk}/change/"
    for email in (taken.email.upper(), taken.email):  # another case, or the same spelling
        response = client.post(url, _user_form(user, email=email))
        assert response.status_code == 200
        page = response.content.decode()
        assert "accounts_user_email" not in page
        # said once, under the field (not also in Django's own words)
        assert page.count("Another user has this e-mail address.") == 1, email
        assert "already exists" not in page
        assert response.context["adminform"].form.errors["email"]


@pytest.mark.parametrize(
    ("kind", "amount"), [("invoice", "50.00"), ("payment", "-5.00"), ("credit_note", "-20.00")]
)
def test_a_document_typed_in_the_back_office_names_its_number_and_why(staff_client, kind, amount):
    """Invoices, payments and credit notes come from the ERP; typed by hand, one names its
    document and says why, as an adjustment must (nothing else is written)."""
    from apps.finance.models import LedgerEntry

    client = staff_client("Finance Manager")
    customer = CustomerFactory()
    url = "/admin/finance/ledgerentry/add/"
    base = {"customer": customer.pk, "kind": kind, "amount": amount, "entry_date": "2026-12-01"}
    refused = client.post(url, base)
    assert refused.status_code == 200
    errors = refused.context["form"].errors
    assert set(errors) == {"document_number", "reason"}, errors
    assert not LedgerEntry.objects.filter(customer=customer).exists()
    saved = client.post(
        url, {**base, "document_number": "DEK-77", "reason": "ERP down on the day, receipt on file"}
    )
    assert saved.status_code == 302, saved.context and saved.context["form"].errors
    assert LedgerEntry.objects.get(customer=customer).document_number == "DEK-77"


@pytest.mark.parametrize(
    ("name", "saved"),
    [("Marmara\x07 Elektrik", False), ("Marmara\tElektrik", False), ("Marmara Elektrik", True)],
    ids=["bell", "tab in one line", "plain"],
)
def test_text_typed_in_a_back_office_form_holds_no_control_character(staff_client, name, saved):
    """As the API refuses them: a name with U+0007 was saved and answered by the API."""
    client = staff_client("Customer Service")
    user = DealerUserFactory()
    response = client.post(
        f"/admin/accounts/user/{user.pk}/change/", _user_form(user, first_name=name)
    )
    user.refresh_from_db()
    if saved:
        assert response.status_code == 302
        assert user.first_name == name
    else:
        assert response.status_code == 200
        assert "Control characters are not allowed" in str(
            response.context["adminform"].form.errors["first_name"]
        )
        assert user.first_name != name


def test_a_persons_phone_typed_in_the_back_office_is_a_phone_number(staff_client):
    """The SMS sign-in code goes there: ``abc`` was saved though the API refuses it."""
    client = staff_client("Customer Service")
    user = DealerUserFactory(phone="+90 532 000 00 00")
    url = f"/admin/accounts/user/{user.pk}/change/"
    refused = client.post(url, _user_form(user, phone="abc"))
    assert refused.status_code == 200
    assert "Enter a phone number" in str(refused.context["adminform"].form.errors["phone"])
    user.refresh_from_db()
    assert user.phone == "+90 532 000 00 00"
    assert client.post(url, _user_form(user, phone="0532 111 22 33")).status_code == 302
    user.refresh_from_db()
    assert user.phone == "0532 111 22 33"


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ("DEK\u200b-77", "document_number"),
        ("DEK-٧٧", "document_number"),
        ("DEK\u2028-77", "document_number"),
    ],
    ids=["zero-width space", "arabic-indic digits", "line separator"],
)
def test_a_document_number_typed_by_hand_cannot_look_like_another(staff_client, document, field):
    from apps.finance.models import LedgerEntry  # here: what only this test writes

    client = staff_client("Finance Manager")
    customer = CustomerFactory()
    response = client.post(
        "/admin/finance/ledgerentry/add/",
        {
            "customer": customer.pk,
            "kind": "payment",
            "amount": "-5.00",
            "entry_date": "2026-12-01",
            "document_number": document,
            "reason": "ERP down on the day, receipt on file",
        },
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    # one message: the number given is refused, not also asked for as if it were missing
    assert len(response.context["form"].errors[field]) == 1
    assert not LedgerEntry.objects.filter(customer=customer).exists()


def test_an_invoice_typed_by_hand_is_not_due_before_its_date_nor_booked_twice(staff_client):
    """Each doubled the dealer's balance or made an invoice overdue the day it was booked,
    where the ERP's invoice feed refuses both."""
    from apps.finance.models import LedgerEntry  # here: what only this test writes

    client = staff_client("Finance Manager")
    customer = CustomerFactory()
    url = "/admin/finance/ledgerentry/add/"
    data = {
        "customer": customer.pk,
        "kind": "invoice",
        "amount": "100.00",
        "entry_date": "2026-12-01",
        "due_date": "2020-01-01",
        "document_number": "SWP-1",
        "reason": "ERP down on the day, invoice on file",
    }
    early = client.post(url, data)
    assert early.status_code == 200
    assert "due_date" in early.context["form"].errors
    assert not LedgerEntry.objects.filter(customer=customer).exists()

    assert client.post(url, {**data, "due_date": "2026-12-31"}).status_code == 302
    again = client.post(url, {**data, "due_date": "2026-12-31"})
    assert again.status_code == 200
    assert "already has this document" in str(again.context["form"].errors["document_number"])
    # typed in other letters, or with spaces around it, it is the same document
    for typed in ("swp-1", " Swp-1 "):
        other = client.post(url, {**data, "document_number": typed, "due_date": "2026-12-31"})
        assert other.status_code == 200, typed
        assert "already has this document" in str(other.context["form"].errors)
    assert LedgerEntry.objects.filter(customer=customer).count() == 1
    # a payment may carry the number of the invoice it pays
    payment = {**data, "kind": "payment", "amount": "-100.00", "due_date": ""}
    assert client.post(url, payment).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_an_invoice_saved_twice_at_once_is_booked_once(staff_client):
    """Two clicks on Save (or two tabs): each form saw no such document yet, and both were
    booked. The check is made again under a lock per dealer, in the write's transaction."""
    import threading

    from django.db import connection

    from apps.finance.models import LedgerEntry  # here: what only this test writes

    customer = CustomerFactory()
    clients = [staff_client("Finance Manager") for _ in range(4)]
    data = {
        "customer": customer.pk,
        "kind": "invoice",
        "amount": "100.00",
        "entry_date": "2026-12-01",
        "due_date": "2026-12-31",
        "document_number": "RACE-1",
        "reason": "ERP down on the day, invoice on file",
    }
    statuses: list[int] = []
    start = threading.Barrier(len(clients))

    def save(client):
        try:
            start.wait(timeout=10)
            statuses.append(client.post("/admin/finance/ledgerentry/add/", data).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200, 200, 200, 302]  # one booked, the others refused
    assert LedgerEntry.objects.filter(customer=customer, document_number="RACE-1").count() == 1
