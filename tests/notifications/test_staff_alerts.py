"""Staff hear by e-mail of what waits for them: a verified registration to approve, an order over
the credit limit, a return to decide, a disputed balance (and a quote to answer). Each goes to
whoever has that job (the dealer's sales rep when the rep holds it, else the role's holders who
see every dealer, else the super admins), in the back office's language, with a link to the
page where it is decided."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from apps.accounts.models import CustomerStatus
from apps.notifications.models import Notification
from apps.orders.models import Order
from apps.orders.services import order_approve
from tests.factories import StaffUserFactory
from tests.orders.conftest import Shop, place

pytestmark = [pytest.mark.django_db]

D = Decimal


def _told(template: str) -> set[str]:
    return set(Notification.objects.filter(template=template).values_list("to", flat=True))


def _mail_to(address: str):
    (message,) = [m for m in mail.outbox if m.to == [address]]
    return message


def _site(path: str) -> str:
    return f"{settings.DEALER_PORTAL_URL.rstrip('/')}{path}"


@pytest.fixture
def shop(dealer_client):
    return Shop(dealer_client)


@pytest.fixture
def staff():
    return {
        "service": StaffUserFactory(groups=["Customer Service"], email="destek@dist.test"),
        "finance": StaffUserFactory(groups=["Finance Manager"], email="finans@dist.test"),
        "sales": StaffUserFactory(groups=["Sales Manager"], email="satis@dist.test"),
        "boss": StaffUserFactory(groups=["Super Admin"], email="boss@dist.test"),
        "content": StaffUserFactory(groups=["Content Manager"], email="icerik@dist.test"),
    }


def test_a_verified_registration_is_mailed_to_those_who_approve_dealers(
    api_client, staff, django_capture_on_commit_callbacks
):
    from tests.accounts.test_registration import body, verify

    StaffUserFactory(groups=["Customer Service"], email="gone@dist.test", is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        # a Turkish registration: the dealer's own e-mails are in Turkish, the staff's not
        registered = api_client.post(
            "/api/v1/auth/register", body(), format="json", HTTP_ACCEPT_LANGUAGE="tr"
        )
        assert registered.status_code == 202
    assert _told("accounts/registration_waiting") == set()  # not before the address is proven
    with django_capture_on_commit_callbacks(execute=True):
        assert verify(api_client).status_code == 204
    # Customer Service approves registrations; the super admin is not mailed beside them, and
    # nobody without an address or switched off
    assert _told("accounts/registration_waiting") == {"destek@dist.test"}
    message = _mail_to("destek@dist.test")
    assert message.subject == "New dealer registration to approve: Anadolu Elektrik A.Ş."
    assert "tax number 4540536920" in message.body and "owner@anadolu.example" in message.body
    customer = staff["service"].__class__.objects.get(email="owner@anadolu.example").customer
    assert customer.status == CustomerStatus.PENDING
    assert _site(f"/admin/accounts/customer/{customer.pk}/change/") in message.body


def test_with_nobody_in_the_role_the_super_admins_are_told(
    api_client, django_capture_on_commit_callbacks
):
    from tests.accounts.test_registration import body, verify

    StaffUserFactory(groups=["Super Admin"], email="boss@dist.test")
    StaffUserFactory(groups=["Sales Manager"], email="satis@dist.test")  # sees only its dealers
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post("/api/v1/auth/register", body(), format="json")
        verify(api_client)
    assert _told("accounts/registration_waiting") == {"boss@dist.test"}


def test_an_order_over_the_credit_limit_is_mailed_to_finance(
    shop, staff, django_capture_on_commit_callbacks
):
    shop.product("A-1", price="1000")
    shop.customer.credit_limit = D("5000.00")
    shop.customer.save(update_fields=["credit_limit"])
    with django_capture_on_commit_callbacks(execute=True):
        within = place(shop.owner, [("A-1", 2)])  # 2,400.00 gross: confirmed
    assert within.json()["status"] == "confirmed", within.json()
    assert _told("orders/credit_approval_waiting") == set()
    with django_capture_on_commit_callbacks(execute=True):
        over = shop.owner.post(  # 3,600.00 more, asked in Turkish
            "/api/v1/orders",
            {"payment_method": "on_account", "items": [{"sku": "A-1", "quantity": 3}]},
            format="json",
            HTTP_ACCEPT_LANGUAGE="tr",
        )
    assert over.json()["status"] == "awaiting_credit_approval"
    assert _told("orders/credit_approval_waiting") == {"finans@dist.test"}
    message = _mail_to("finans@dist.test")
    number = over.json()["number"]
    order = Order.objects.get(number=number)
    assert message.subject == f"Order {number} waits for credit approval"  # staff's English
    assert f"{shop.customer.code} {shop.customer.name} for 3,600.00 TRY" in message.body
    # the exposure with this order: the confirmed one's 2,400.00 and this one's 3,600.00
    assert "exposure is 6,000.00 TRY; the credit limit is 5,000.00 TRY" in message.body
    assert _site(f"/admin/orders/order/{order.pk}/change/") in message.body


def test_an_order_the_owner_approves_into_credit_approval_is_mailed_to_finance(
    shop, staff, django_capture_on_commit_callbacks
):
    shop.product("A-1", price="1000")
    shop.customer.credit_limit = D("1000.00")
    shop.customer.save(update_fields=["credit_limit"])
    buyer = shop.client("purchasing", order_limit=D("100.00"))
    with django_capture_on_commit_callbacks(execute=True):
        placed = place(buyer, [("A-1", 1)])
    assert placed.json()["status"] == "awaiting_approval"
    assert _told("orders/credit_approval_waiting") == set()  # the owner decides first
    order = Order.objects.get(number=placed.json()["number"])
    with django_capture_on_commit_callbacks(execute=True):
        order_approve(order=order, by=shop.owner.user)
    order.refresh_from_db()
    assert order.status == "awaiting_credit_approval"
    assert _told("orders/credit_approval_waiting") == {"finans@dist.test"}


def test_the_dealers_sales_rep_is_told_alone_when_the_rep_holds_the_job(
    shop, staff, django_capture_on_commit_callbacks
):
    """A quote request goes to the dealer's rep (a sales manager answers quotes); an order
    over the limit still goes to finance, as the rep cannot approve credit."""
    from apps.accounts.services.customers import customer_assign_sales_rep

    customer_assign_sales_rep(customer=shop.customer, rep=staff["sales"], by=None)
    shop.product("A-1", price="1000")
    shop.customer.credit_limit = D("0.00")
    shop.customer.save(update_fields=["credit_limit"])
    with django_capture_on_commit_callbacks(execute=True):
        asked = shop.owner.post(
            "/api/v1/quotes",
            {"lines": [{"sku": "A-1", "quantity": 20}]},
            format="json",
            HTTP_ACCEPT_LANGUAGE="tr",
        )
        assert asked.status_code == 201, asked.content
        assert place(shop.owner, [("A-1", 1)]).json()["status"] == "awaiting_credit_approval"
    assert _told("quotes/quote_requested") == {"satis@dist.test"}
    assert _told("orders/credit_approval_waiting") == {"finans@dist.test"}
    # in the staff's language, though the dealer asked in Turkish, with the page to answer on
    message = _mail_to("satis@dist.test")
    number = asked.json()["number"]
    assert message.subject == f"Quote request {number} from {shop.customer.name}"
    quote_id = shop.customer.quotes.get(number=number).pk
    assert f"Answer it in the back office: {_site(f'/admin/quotes/quote/{quote_id}/answer/')}" in (
        message.body
    )


def test_a_return_request_is_mailed_to_those_who_decide_returns(
    dealer_client, staff, django_capture_on_commit_callbacks
):
    from tests.returns.conftest import RETURNS, delivered_order, line, make_shop

    shop = make_shop(dealer_client)
    order = delivered_order(shop, at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        response = shop.owner.post(
            RETURNS,
            {
                "order_number": order.number,
                "lines": [line(quantity=2, reason="damaged", reason_text="Kutu ezik")],
                "note": "Kargo hasarlı teslim etti",
            },
            format="json",
            HTTP_ACCEPT_LANGUAGE="tr",
        )
    assert response.status_code == 201, response.content
    assert _told("returns/return_requested") == {"destek@dist.test"}
    message = _mail_to("destek@dist.test")
    number = response.json()["number"]
    assert message.subject == f"Return {number} waits for a decision"
    assert f"goods of order {order.number} ({number})" in message.body
    assert "- A-1 x 2: damaged in transit (Kutu ezik)" in message.body  # the staff's words
    assert "Kargo hasarlı teslim etti" in message.body
    request_id = shop.customer.returns.get(number=number).pk
    assert _site(f"/admin/returns/returnrequest/{request_id}/change/") in message.body


def test_a_disputed_balance_is_mailed_to_finance(
    dealer_client, staff, django_capture_on_commit_callbacks
):
    from apps.finance.services.confirmations import confirmation_send

    owner = dealer_client("owner")
    confirmation = confirmation_send(customer=owner.user.customer, as_of=timezone.localdate())
    url = f"/api/v1/account/confirmations/{confirmation.pk}"
    with django_capture_on_commit_callbacks(execute=True):
        refused = owner.post(f"{url}/dispute", {"reason": " "}, format="json")
    assert refused.status_code == 400
    assert _told("finance/confirmation_disputed") == set()  # no answer, no alert
    with django_capture_on_commit_callbacks(execute=True):
        disputed = owner.post(
            f"{url}/dispute",
            {"reason": "14.11 tarihli ödememiz eksik", "their_balance": "-1250.50"},
            format="json",
            HTTP_ACCEPT_LANGUAGE="tr",
        )
    assert disputed.status_code == 200, disputed.content
    assert _told("finance/confirmation_disputed") == {"finans@dist.test"}
    message = _mail_to("finans@dist.test")
    customer = owner.user.customer
    assert message.subject == f"{customer.code} {customer.name} disputes its balance"
    assert "our ledger says 0.00 TRY, the dealer says -1,250.50 TRY" in message.body
    assert "14.11 tarihli ödememiz eksik" in message.body
    assert _site(f"/admin/finance/balanceconfirmation/{confirmation.pk}/change/") in message.body
