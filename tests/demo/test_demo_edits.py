"""The demo's back-office edits: a product's, a dealer's, a price's and an address's change
history each has an entry under the staff member (or dealer) who made it, and a second run
adds no second edit."""

from __future__ import annotations

from io import StringIO

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command

from apps.accounts.models import Address, CreditLimitChange, Customer
from apps.pricing.models import PriceChange

pytestmark = [pytest.mark.django_db]


def entries(model: str) -> list[tuple[str, list[str]]]:
    found = LogEntry.objects.filter(content_type__model=model, actor__isnull=False)
    return [(entry.actor.email, sorted(entry.changes_dict)) for entry in found.order_by("pk")]


def test_the_history_screens_of_a_product_a_dealer_a_price_and_an_address_have_entries():
    call_command("seed_demo", "--products", "20", "--dealers", "3", stdout=StringIO())

    products = entries("product")
    assert len(products) == 3
    assert {actor for actor, _fields in products} == {"content.manager@example.com"}
    assert all("description" in fields for _actor, fields in products)
    assert entries("customer") == [("finance.manager@example.com", ["credit_limit", "updated_by"])]
    assert entries("price") == [("sales.manager@example.com", ["amount", "updated_by"])]
    assert [actor for actor, _fields in entries("address")] == ["owner@demo001.example.com"]
    review = CreditLimitChange.objects.filter(customer__code="DEMO002").first()
    assert review.changed_by.email == "finance.manager@example.com"
    assert Customer.objects.get(code="DEMO002").credit_limit == review.new_limit
    assert PriceChange.objects.get(source="admin").changed_by.email == "sales.manager@example.com"

    call_command("seed_demo", "--products", "20", "--dealers", "3", stdout=StringIO())

    assert len(entries("product")) == 3 and len(entries("price")) == 1
    assert Address.objects.filter(title="Gebze depo").count() == 1
    # the dealers' step keeps the limit the Finance Manager set
    assert CreditLimitChange.objects.filter(customer__code="DEMO002").count() == 2
    assert Customer.objects.get(code="DEMO002").credit_limit == review.new_limit


def test_seeded_staff_steps_name_the_staff_member_who_took_them():
    """A return decided, an order shipped by staff and a quote answered show who did it (the
    status histories' "by" and the quote version's sender were empty)."""
    from apps.orders.models import OrderStatusChange  # here: the two histories this test reads
    from apps.quotes.models import QuoteVersion
    from apps.returns.models import ReturnStatusChange

    call_command("seed_demo", "--products", "40", "--dealers", "4", stdout=StringIO())

    decided = ReturnStatusChange.objects.filter(actor="staff").exclude(to_status="credited")
    assert decided.exists()
    assert {c.changed_by.email for c in decided} == {"customer.service@example.com"}
    # crediting is the Finance Manager's step (Customer Service may not credit)
    credited = ReturnStatusChange.objects.get(actor="staff", to_status="credited")
    assert credited.changed_by.email == "finance.manager@example.com"
    shipped = OrderStatusChange.objects.filter(actor="staff", to_status="shipped")
    assert shipped.exists()
    assert {c.changed_by.email for c in shipped} == {"customer.service@example.com"}
    versions = QuoteVersion.objects.all()
    assert versions.exists()
    assert {v.sent_by.email for v in versions} == {"sales.manager@example.com"}


def test_the_answered_quote_can_be_accepted_and_no_consent_is_dated_in_the_future(
    dealer_client,
):
    """The answered demo quote asked for more than the stock (acceptance: 409
    insufficient_stock), and a marketing withdrawal was dated three days after a user who
    joined today."""
    from django.utils import timezone

    from apps.accounts.models import Consent, User  # here: the rows this test reads
    from apps.quotes.models import Quote
    from apps.quotes.services import quote_accept

    call_command("seed_demo", "--products", "40", "--dealers", "4", stdout=StringIO())

    assert not Consent.objects.filter(at__gt=timezone.now()).exists()
    answered = Quote.objects.get(status="sent")
    owner = User.objects.get(email=f"owner@{answered.customer.code.lower()}.example.com")
    order = quote_accept(quote=answered, user=owner, payment_method="on_account")
    assert order.lines.count() == answered.lines.count()


def test_each_staff_members_recent_actions_list_the_steps_the_demo_took_in_their_name(client):
    """The admin's start page lists a staff member's recent actions (the admin's own log,
    written by its change pages): the seeded staff steps go through the services, so the demo
    writes that log as the admin would have; each entry at the step's time."""
    from django.contrib.admin.models import LogEntry as AdminLogEntry  # the admin's own log

    from apps.accounts.models import User
    from apps.orders.models import OrderStatusChange
    from apps.returns.models import ReturnRequest
    from tests.conftest import staff_login

    call_command("seed_demo", "--products", "40", "--dealers", "4", stdout=StringIO())

    logged = {
        (entry.user.email, entry.content_type.model)
        for entry in AdminLogEntry.objects.select_related("user", "content_type")
    }
    assert {
        ("content.manager@example.com", "product"),
        ("finance.manager@example.com", "customer"),
        ("sales.manager@example.com", "price"),
        ("sales.manager@example.com", "quote"),
        ("customer.service@example.com", "returnrequest"),
        ("finance.manager@example.com", "returnrequest"),
        ("customer.service@example.com", "order"),
    } <= logged
    shipped = OrderStatusChange.objects.filter(actor="staff", to_status="shipped").first()
    entry = AdminLogEntry.objects.filter(object_id=str(shipped.order_id)).order_by("id").last()
    assert entry.action_time == shipped.created_at  # days ago, as the order's steps
    assert entry.get_change_message() == "Changed status."

    service = User.objects.get(email="customer.service@example.com")
    page = staff_login(client, service).get("/admin/")
    returned = ReturnRequest.objects.filter(status="credited").first()
    assert page.status_code == 200
    assert returned.number in page.content.decode()
    # every decided demo return is in the log, the rejected one too (it was missing)
    for decided in ReturnRequest.objects.exclude(status="requested"):
        assert AdminLogEntry.objects.filter(object_id=str(decided.pk)).exists(), decided.status
    assert shipped.order.number in page.content.decode()

    count = AdminLogEntry.objects.count()
    call_command("seed_demo", "--products", "40", "--dealers", "4", stdout=StringIO())

    assert AdminLogEntry.objects.count() == count  # a second run takes no step again
