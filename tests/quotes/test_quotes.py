"""Quotes (issue "Quotes and requisition lists"): a dealer asks, sales answer with prices and a
validity date (versions kept), the dealer accepts (one order at exactly the quoted prices, the
usual stock, approval and credit rules), rejects, or lets it expire; another company's quote is
not found; a sales manager answers only the quotes of dealers assigned to them."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.core.events import OutboxEvent
from apps.core.money import line_amounts
from apps.orders.models import Order
from apps.quotes.models import Quote, QuoteVersion
from apps.quotes.services import quote_answer, quotes_expire
from tests.orders.conftest import Shop

pytestmark = [pytest.mark.django_db]
QUOTES = "/api/v1/quotes"
D = Decimal


@pytest.fixture
def shop(dealer_client):
    shop = Shop(dealer_client)
    shop.product("A-1", price="100", stock=50, name="Kablo")
    shop.product("B-2", price="40", stock=3, name="Priz")
    shop.product("N-3", price=None, stock=10, name="Fiyatsız")  # no price for anyone
    return shop


def ask(client, lines=None, **extra):
    body = {"lines": lines or [{"sku": "A-1", "quantity": 20, "target_price": "90"}], **extra}
    return client.post(QUOTES, body, format="json")


def answer(number, prices, *, days=10, send=True, by=None):
    quote = Quote.objects.get(number=number)
    by_line = {line.pk: prices[line.sku] for line in quote.lines.all()}
    return quote_answer(
        quote=quote,
        by=by,
        prices=by_line,
        valid_until=timezone.localdate() + datetime.timedelta(days=days),
        note="Yıl sonu fiyatı",
        send=send,
    )


def accept(client, number, **extra):
    return client.post(
        f"{QUOTES}/{number}/accept", {"payment_method": "on_account", **extra}, format="json"
    )


def test_the_quote_lifecycle_ends_in_one_order_at_exactly_the_quoted_prices(
    shop, django_capture_on_commit_callbacks
):
    from tests.factories import StaffUserFactory

    rep = StaffUserFactory(groups=["Sales Manager"], email="satis@dist.test")
    shop.customer.sales_rep = rep
    shop.customer.save(update_fields=["sales_rep"])
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(shop.owner, [{"sku": "A-1", "quantity": 20}, {"sku": "N-3", "quantity": 2}])
    assert response.status_code == 201, response.json()
    number = response.json()["number"]
    assert response.json()["status"] == "requested"
    assert [line["unit_net"] for line in response.json()["lines"]] == [None, None]
    assert "satis@dist.test" in [m.to[0] for m in mail.outbox]  # sales hear of it

    with django_capture_on_commit_callbacks(execute=True):
        answer(number, {"A-1": D("87.1234"), "N-3": D("15")})
    detail = shop.owner.get(f"{QUOTES}/{number}").json()
    assert detail["status"] == "sent" and detail["version"] == 1
    assert [line["unit_net"] for line in detail["lines"]] == ["87.1234", "15.0000"]
    assert shop.owner.user.email in [m.to[0] for m in mail.outbox]  # the dealer hears back

    placed = accept(shop.owner, number, po_number="PO-Q")
    assert placed.status_code == 201, placed.json()
    order = Order.objects.get(number=placed.json()["number"])
    lines = {line.sku: line for line in order.lines.all()}
    # not the engine's 100.00, and a product with no price at all is sold at the quote
    assert lines["A-1"].unit_net == D("87.1234") and lines["A-1"].price_source == "quote"
    assert (
        lines["A-1"].quote_number == number and placed.json()["lines"][0]["quote_number"] == number
    )
    assert lines["N-3"].unit_net == D("15.0000") and lines["N-3"].price_source == "quote"
    assert lines["A-1"].line_net == D("1742.47")  # round2(87.1234 x 20), half up
    assert order.grand_total == order.subtotal_net + order.vat_total
    assert order.status == "confirmed" and order.po_number == "PO-Q"
    # the order's note names the quote in the reader's language, whoever accepted it in which
    english = shop.owner.get(f"/api/v1/orders/{order.number}").json()["note"]
    turkish = shop.owner.get(f"/api/v1/orders/{order.number}", HTTP_ACCEPT_LANGUAGE="tr")
    assert english == f"Quote {number}" and turkish.json()["note"] == f"{number} teklifi"
    quote = Quote.objects.get(number=number)
    assert quote.status == "accepted" and quote.order == order
    assert shop.owner.get(f"{QUOTES}/{number}").json()["order_number"] == order.number
    types = list(
        OutboxEvent.objects.filter(subject=f"quote:{number}")
        .order_by("id")
        .values_list("type", flat=True)
    )
    assert types == ["quote.requested", "quote.sent", "quote.accepted"]
    # the order's event speaks of the quoted lines as of any other (docs/events.md: 4 places)
    [created] = OutboxEvent.objects.filter(type="order.created", subject=f"order:{order.number}")
    assert {line["discount"] for line in created.data["lines"]} == {"0.0000"}
    assert [line["unit_net"] for line in created.data["lines"]] == ["87.1234", "15.0000"]

    again = accept(shop.owner, number)
    assert again.status_code == 409 and again.json()["code"] == "quote_used"
    assert Order.objects.count() == 1


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    unit=st.decimals(min_value=D("0.0001"), max_value=D("99999.9999"), places=4),
    quantity=st.integers(min_value=1, max_value=50),
)
def test_quoted_prices_are_honoured_to_the_kurus(shop, unit, quantity):
    """Whatever the quoted unit price and quantity, the order line is exactly that price and
    its amounts are the money rules' (round2 half up per line, VAT per line)."""
    number = ask(shop.owner, [{"sku": "A-1", "quantity": quantity}]).json()["number"]
    answer(number, {"A-1": unit})
    placed = accept(shop.owner, number)
    if placed.status_code == 409:  # the stock ran out over the examples: not the rule tested
        assert placed.json()["code"] != "quote_used"
        return
    line = Order.objects.get(number=placed.json()["number"]).lines.get()
    net, vat, gross = line_amounts(unit, quantity, 20)
    assert (line.unit_net, line.line_net, line.line_vat, line.line_gross) == (unit, net, vat, gross)
    from apps.inventory.services import stock_release

    stock_release(reference=f"order:{placed.json()['number']}", actor=None)


def test_a_counter_offer_is_a_new_version_and_the_dealer_sees_the_latest(shop):
    number = ask(shop.owner).json()["number"]
    answer(number, {"A-1": D("95")})
    answer(number, {"A-1": D("92.5")})
    detail = shop.owner.get(f"{QUOTES}/{number}").json()
    assert detail["version"] == 2 and detail["lines"][0]["unit_net"] == "92.5000"
    versions = QuoteVersion.objects.filter(quote__number=number).order_by("version")
    assert [v.lines[0]["unit_net"] for v in versions] == ["95.0000", "92.5000"]


def test_accepting_the_version_read_after_a_counter_offer_is_refused(shop):
    """The dealer read version 1 (95.00) and accepts it; sales sent version 2 (150.00)
    meanwhile: 409 ``quote_changed``, nothing ordered (it was ordered at 150.00). The version
    sent now is accepted; without ``version`` the latest counts (API.md's body)."""
    number = ask(shop.owner).json()["number"]
    answer(number, {"A-1": D("95")})
    read = shop.owner.get(f"{QUOTES}/{number}").json()["version"]
    answer(number, {"A-1": D("150")})

    stale = accept(shop.owner, number, version=read)

    assert stale.status_code == 409 and stale.json()["code"] == "quote_changed"
    assert not Order.objects.exists()
    assert Quote.objects.get(number=number).status == "sent"
    placed = accept(shop.owner, number, version=2)
    assert placed.status_code == 201, placed.content
    assert placed.json()["lines"][0]["unit_net"] == "150.0000"


def test_a_draft_answer_shows_the_dealer_neither_its_note_nor_its_date(shop):
    """docs/quotes.md: a draft is not sent. Its note is sales' own words ("do not go below
    90"), its date a proposal: neither reaches the dealer before a version is sent."""
    number = ask(shop.owner).json()["number"]
    quote = Quote.objects.get(number=number)
    quote_answer(
        quote=quote,
        by=None,
        prices={line.pk: D("95") for line in quote.lines.all()},
        valid_until=timezone.localdate() + datetime.timedelta(days=5),
        note="INTERNAL: not below 90",
        send=False,
    )
    detail = shop.owner.get(f"{QUOTES}/{number}").json()
    assert detail["status"] == "draft"
    assert (detail["staff_note"], detail["valid_until"]) == ("", None)
    assert detail["lines"][0]["unit_net"] is None
    listed = shop.owner.get(QUOTES).json()["results"][0]
    assert listed["valid_until"] is None
    browser = Client()
    browser.force_login(shop.owner.user)
    page = browser.get(f"/portal/quotes/{number}/")
    assert page.status_code == 200 and "INTERNAL" not in page.content.decode()


def test_the_back_office_shows_each_versions_prices_as_lines_not_json(shop, staff_client):
    number = ask(shop.owner, [{"sku": "A-1", "quantity": 20}, {"sku": "B-2", "quantity": 3}])
    number = number.json()["number"]
    answer(number, {"A-1": D("1234.5"), "B-2": D("40.125")})
    quote = Quote.objects.get(number=number)

    page = staff_client(superuser=True).get(f"/admin/quotes/quote/{quote.pk}/change/")

    cell = re.search(r'class="field-lines_sent">\s*<p>(.*?)</p>', page.content.decode(), re.S)
    assert cell.group(1) == "A-1 × 20: 1,234.50 ₺ net<br>B-2 × 3: 40.125 ₺ net"
    assert "&quot;unit_net&quot;" not in page.content.decode()  # the stored JSON


def test_a_draft_is_not_shown_nor_accepted(shop):
    number = ask(shop.owner).json()["number"]
    answer(number, {"A-1": D("50")}, send=False)
    detail = shop.owner.get(f"{QUOTES}/{number}").json()
    assert detail["status"] == "draft" and detail["lines"][0]["unit_net"] is None
    refused = accept(shop.owner, number)
    assert refused.status_code == 409 and refused.json()["code"] == "invalid_transition"
    assert not Order.objects.exists()


def test_a_quote_expires_by_the_job_or_at_acceptance(shop):
    first = ask(shop.owner).json()["number"]
    second = ask(shop.owner, [{"sku": "B-2", "quantity": 1}]).json()["number"]
    answer(first, {"A-1": D("80")}, days=0)
    answer(second, {"B-2": D("30")}, days=0)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    assert quotes_expire(today=tomorrow) == 2
    assert Quote.objects.get(number=first).status == "expired"
    # the code a dealer gets before the job ran too (it was invalid_transition after it)
    refused = accept(shop.owner, first)
    assert refused.status_code == 409 and refused.json()["code"] == "quote_expired"
    declined = shop.owner.post(f"{QUOTES}/{second}/reject", {"reason": "late"}, format="json")
    assert declined.status_code == 409 and declined.json()["code"] == "quote_expired"
    assert Quote.objects.get(number=second).status == "expired"

    third = ask(shop.owner).json()["number"]
    answer(third, {"A-1": D("80")})
    Quote.objects.filter(number=third).update(
        valid_until=timezone.localdate() - datetime.timedelta(days=1)
    )
    late = accept(shop.owner, third)
    assert late.status_code == 409 and late.json()["code"] == "quote_expired"
    assert Quote.objects.get(number=third).status == "expired"  # recorded, not rolled back
    assert not Order.objects.exists()

    # declined after its validity ended: expired as an acceptance finds it, not "rejected"
    fourth = ask(shop.owner).json()["number"]
    answer(fourth, {"A-1": D("80")})
    Quote.objects.filter(number=fourth).update(
        valid_until=timezone.localdate() - datetime.timedelta(days=1)
    )
    declined = shop.owner.post(f"{QUOTES}/{fourth}/reject", {"reason": "late"}, format="json")
    assert declined.status_code == 409 and declined.json()["code"] == "quote_expired"
    assert Quote.objects.get(number=fourth).status == "expired"


def test_stock_approval_and_credit_rules_apply_to_an_accepted_quote(shop):
    short = ask(shop.owner, [{"sku": "B-2", "quantity": 5}]).json()["number"]  # 3 in stock
    answer(short, {"B-2": D("30")})
    refused = accept(shop.owner, short)
    assert refused.status_code == 409 and Quote.objects.get(number=short).status == "sent"

    buyer = shop.client("purchasing", order_limit=D("100.00"))
    number = ask(buyer).json()["number"]
    answer(number, {"A-1": D("80")})  # 20 x 80 + VAT, above the buyer's limit
    placed = accept(buyer, number)
    assert placed.status_code == 201 and placed.json()["status"] == "awaiting_approval"


def test_an_acceptance_refused_for_a_line_names_the_quotes_line(shop):
    number = ask(shop.owner, [{"sku": "A-1", "quantity": 2}, {"sku": "B-2", "quantity": 1}])
    number = number.json()["number"]
    answer(number, {"A-1": D("90"), "B-2": D("30")})
    shop.products["B-2"].is_active = False  # withdrawn since the quote was sent
    shop.products["B-2"].save(update_fields=["is_active"])

    refused = accept(shop.owner, number)

    assert refused.status_code == 400
    # the accept request has no "items": the error names the quote's second line
    assert list(refused.json()["errors"]) == ["lines.1.sku"], refused.json()
    assert Quote.objects.get(number=number).status == "sent"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"lines": []}, "lines"),
        ({"lines": [{"sku": "NOPE", "quantity": 1}]}, "lines.0.sku"),
        ({"lines": [{"sku": "A-1", "quantity": 0}]}, "lines"),
        ({"lines": [{"sku": "A-1", "quantity": 1, "target_price": "-1"}]}, "lines"),
        ({"lines": [{"sku": "A-1", "quantity": 1}, {"sku": "A-1", "quantity": 2}]}, "lines.1.sku"),
        (
            {"lines": [{"sku": "A-1", "quantity": 1}], "valid_until_wanted": "2000-01-01"},
            "valid_until_wanted",
        ),
        ({"from_cart": True}, "from_cart"),
        ({"lines": "A-1"}, "lines"),
        # a quote holds a year at most: a wish beyond it would fill sales' form with a date
        # the answer refuses
        (
            {"lines": [{"sku": "A-1", "quantity": 1}], "valid_until_wanted": "2099-01-01"},
            "valid_until_wanted",
        ),
        # YYYY-MM-DD in ASCII digits only, as the message says
        ({"lines": [{"sku": "A-1", "quantity": 1}], "valid_until_wanted": "2099-1-1"}, "valid"),
        (
            {"lines": [{"sku": "A-1", "quantity": 1}], "valid_until_wanted": "２099-01-01"},
            "valid_until_wanted",
        ),
    ],
)
def test_a_bad_request_is_a_400_by_field_and_asks_nothing(shop, body, field):
    response = shop.owner.post(QUOTES, body, format="json")
    assert response.status_code == 400, response.json()
    assert any(key.startswith(field) for key in response.json()["errors"]), response.json()
    assert not Quote.objects.exists()


def test_a_request_an_order_could_not_hold_is_refused_and_so_is_such_an_answer(shop):
    """An acceptance of it would fail on the order's size: the request is refused at once, and
    sales cannot quote prices that make a line or the quote too large."""
    shop.product("GOLD-1", price="9999999999.9999", stock=1_000_000)
    refused = ask(shop.owner, [{"sku": "GOLD-1", "quantity": 1000}])
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["lines.0.quantity"]
    for n in (2, 3):
        shop.product(f"GOLD-{n}", price="600000000", stock=1000)
    together = ask(
        shop.owner, [{"sku": "GOLD-2", "quantity": 1000}, {"sku": "GOLD-3", "quantity": 1000}]
    )
    assert together.status_code == 400 and list(together.json()["errors"]) == ["lines"]
    assert not Quote.objects.exists()

    number = ask(shop.owner, [{"sku": "A-1", "quantity": 1000}]).json()["number"]
    from apps.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as too_large:
        answer(number, {"A-1": D("9999999999.9999")})
    assert list(too_large.value.errors) == [
        f"price_{Quote.objects.get(number=number).lines.get().pk}"
    ]
    assert Quote.objects.get(number=number).status == "requested"


def test_lines_and_from_cart_together_are_refused(shop):
    shop.owner.post("/api/v1/cart/items", {"sku": "B-2", "quantity": 2}, format="json")
    response = ask(shop.owner, [{"sku": "A-1", "quantity": 1}], from_cart=True)
    assert response.status_code == 400 and list(response.json()["errors"]) == ["from_cart"]


def test_a_quote_from_the_cart(shop):
    shop.owner.post("/api/v1/cart/items", {"sku": "B-2", "quantity": 2}, format="json")
    response = shop.owner.post(QUOTES, {"from_cart": True, "note": "Sepetim"}, format="json")
    assert response.status_code == 201
    assert [(line["sku"], line["quantity"]) for line in response.json()["lines"]] == [("B-2", 2)]


def test_a_quote_from_the_cart_names_the_products_it_refuses(shop):
    """The client sent no lines: ``lines.0.sku`` named nothing it knew."""
    shop.owner.post("/api/v1/cart/items", {"sku": "B-2", "quantity": 2}, format="json")
    shop.owner.post("/api/v1/cart/items", {"sku": "A-1", "quantity": 1}, format="json")
    shop.products["B-2"].is_active = False
    shop.products["B-2"].save(update_fields=["is_active"])
    response = shop.owner.post(QUOTES, {"from_cart": True}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"from_cart": ["B-2: Unknown product."]}
    assert not Quote.objects.exists()


def test_roles_ask_read_and_reject(shop):
    viewer = shop.client("viewer")
    assert ask(viewer).status_code == 403
    number = ask(shop.owner).json()["number"]
    assert viewer.get(f"{QUOTES}/{number}").status_code == 200
    assert shop.client("finance").get(QUOTES).json()["count"] == 1
    assert viewer.post(f"{QUOTES}/{number}/reject", {}, format="json").status_code == 403
    rejected = shop.owner.post(f"{QUOTES}/{number}/reject", {"reason": "Pahalı"}, format="json")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    again = shop.owner.post(f"{QUOTES}/{number}/reject", {"reason": "Again"}, format="json")
    assert again.status_code == 409


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "  "}])
def test_rejecting_a_quote_says_why_or_nothing_changes(shop, body):
    """API.md: ``POST quotes/{number}/reject {reason}``: the sales team reads why."""
    number = ask(shop.owner).json()["number"]
    response = shop.owner.post(f"{QUOTES}/{number}/reject", body, format="json")
    assert response.status_code == 400, response.content
    assert "reason" in response.json()["errors"]
    assert shop.owner.get(f"{QUOTES}/{number}").json()["status"] == "requested"


def test_another_companys_quote_is_not_found(shop, dealer_client):
    number = ask(shop.owner).json()["number"]
    answer(number, {"A-1": D("80")})
    stranger = dealer_client("owner")
    assert stranger.get(f"{QUOTES}/{number}").status_code == 404
    assert accept(stranger, number).status_code == 404
    assert stranger.post(f"{QUOTES}/{number}/reject", {}, format="json").status_code == 404
    assert stranger.get(QUOTES).json()["count"] == 0
    assert Quote.objects.get(number=number).status == "sent"


def test_the_quote_list_takes_a_fixed_number_of_queries(shop):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert shop.owner.get(url).status_code == 200
        return len(queries)

    for _ in range(6):
        answer(ask(shop.owner).json()["number"], {"A-1": D("80")})
    small, large = count(f"{QUOTES}?page_size=2"), count(f"{QUOTES}?page_size=6")
    assert small == large <= 6
    number = shop.owner.get(QUOTES).json()["results"][0]["number"]
    many = ask(shop.owner, [{"sku": "A-1", "quantity": 1}, {"sku": "B-2", "quantity": 1}])
    assert count(f"{QUOTES}/{number}") == count(f"{QUOTES}/{many.json()['number']}")


# --- the back office ----------------------------------------------------------------------------


def test_a_sales_manager_answers_only_the_quotes_of_assigned_dealers(shop, staff_client):
    from apps.accounts.services.customers import customer_assign_sales_rep
    from tests.factories import CustomerFactory

    manager = staff_client("Sales Manager")
    number = ask(shop.owner).json()["number"]
    quote = Quote.objects.get(number=number)
    url = f"/admin/quotes/quote/{quote.pk}/answer/"
    assert manager.get(url).status_code == 404  # not their dealer
    assert manager.get("/admin/quotes/quote/").content.decode().count(number) == 0
    customer_assign_sales_rep(customer=shop.customer, rep=manager.user, by=None)
    assert manager.get(url).status_code == 200
    line = quote.lines.get()
    valid = (timezone.localdate() + datetime.timedelta(days=7)).isoformat()
    response = manager.post(
        url, {f"price_{line.pk}": "81.50", "valid_until": valid, "note": "", "send": "1"}
    )
    assert response.status_code == 302
    quote.refresh_from_db()
    assert quote.status == "sent" and quote.lines.get().unit_net == D("81.5")
    other = Quote.objects.create(number="QT-2026-999999", customer=CustomerFactory())
    assert manager.get(f"/admin/quotes/quote/{other.pk}/answer/").status_code == 404
    # without a price the send is refused on that line, and nothing changes
    second = Quote.objects.get(number=ask(shop.owner).json()["number"])
    refused = manager.post(
        f"/admin/quotes/quote/{second.pk}/answer/", {"valid_until": valid, "send": "1"}
    )
    assert refused.status_code == 200 and "price" in refused.content.decode()
    second.refresh_from_db()
    assert second.status == "requested"


def test_a_dealer_without_a_rep_asks_the_staff_who_see_every_dealer(
    shop, django_capture_on_commit_callbacks
):
    """With no sales rep, a quote request goes to those who may answer it and can open it: a
    sales manager who sees only the dealers assigned to them is not sent another dealer's
    lines (the back office would not show them the quote)."""
    from tests.factories import StaffUserFactory

    StaffUserFactory(groups=["Sales Manager"], email="rep.elsewhere@dist.test")
    StaffUserFactory(groups=["Super Admin"], email="boss@dist.test")
    with django_capture_on_commit_callbacks(execute=True):
        assert ask(shop.owner).status_code == 201
    told = {m.to[0] for m in mail.outbox}
    assert "boss@dist.test" in told
    assert "rep.elsewhere@dist.test" not in told
    # with what the dealer hopes to pay, in the staff's language
    (asked,) = [m for m in mail.outbox if m.to == ["boss@dist.test"]]
    assert "A-1" in asked.body and "(asks for 90.00 TRY net each)" in asked.body


def test_a_quote_expires_by_the_distributors_calendar_in_the_api_too(shop):
    """At 01:30 in Istanbul UTC is still on the day before, and the API answers in UTC: a
    quote valid until yesterday (Istanbul) is expired all the same."""
    import time_machine

    from tests.conftest import login

    with time_machine.travel(datetime.datetime(2026, 6, 10, 22, 30, tzinfo=datetime.UTC)):
        login(shop.owner, shop.owner.user)  # a token of that time
        asked = ask(shop.owner)
        assert asked.status_code == 201, asked.content
        number = asked.json()["number"]
        answer(number, {"A-1": D("80")})
        Quote.objects.filter(number=number).update(valid_until=datetime.date(2026, 6, 10))
        late = accept(shop.owner, number)  # Istanbul: June 11, 01:30
    assert late.status_code == 409 and late.json()["code"] == "quote_expired"
    assert not Order.objects.exists()


def test_a_json_number_target_price_is_judged_by_the_digits_sent(shop):
    """A JSON number is read as written: more places than a price holds are refused, not
    rounded by a float on the way (``90.00000000000000000001`` was taken as 90)."""

    def body(number: str) -> str:
        return '{"lines": [{"sku": "A-1", "quantity": 20, "target_price": ' + number + "}]}"

    refused = shop.owner.generic(
        "POST", QUOTES, body("90.00000000000000000001"), content_type="application/json"
    )
    assert refused.status_code == 400, refused.content
    assert "target_price" in str(refused.json()["errors"])
    assert not Quote.objects.exists()

    taken = shop.owner.generic("POST", QUOTES, body("90.5000"), content_type="application/json")
    assert taken.status_code == 201, taken.content
    assert Quote.objects.get().lines.get().target_price == D("90.5")
    # an exponent in a whole number (the quantity) reads as the number it is
    exponent = body("9.05E+1").replace('"quantity": 20', '"quantity": 2e1')
    again = shop.owner.generic("POST", QUOTES, exponent, content_type="application/json")
    assert again.status_code == 201, again.content
    assert Quote.objects.latest("pk").lines.get().quantity == 20


def test_a_sku_typed_in_another_case_is_asked_as_the_product_writes_it(shop):
    """A quote line kept the SKU as typed ("a-1"), and the same product typed in two cases
    made two lines."""
    response = ask(shop.owner, [{"sku": "a-1", "quantity": 5}])
    assert response.status_code == 201, response.json()
    assert [line["sku"] for line in response.json()["lines"]] == ["A-1"]
    twice = ask(shop.owner, [{"sku": "a-1", "quantity": 5}, {"sku": "A-1", "quantity": 1}])
    assert twice.status_code == 400 and list(twice.json()["errors"]) == ["lines.1.sku"]


def test_a_quote_holds_at_most_a_year(shop):
    """docs/quotes.md: a validity date from today to a year ahead; 366 days took the day
    after."""
    from apps.core.exceptions import ValidationError

    number = ask(shop.owner).json()["number"]
    quote = Quote.objects.get(number=number)
    today = timezone.localdate()
    try:
        a_year = today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        a_year = today.replace(year=today.year + 1, day=28)
    prices = {line.pk: D("95") for line in quote.lines.all()}
    with pytest.raises(ValidationError) as refused:
        quote_answer(
            quote=quote, by=None, prices=prices, valid_until=a_year + datetime.timedelta(days=1)
        )
    assert list(refused.value.errors) == ["valid_until"]
    sent = quote_answer(quote=quote, by=None, prices=prices, valid_until=a_year)
    assert sent.valid_until == a_year


def test_the_quote_e_mails_give_the_price_as_quoted_and_a_decline_as_a_decline(
    shop, django_capture_on_commit_callbacks
):
    """The e-mail rounded 199.9999 to 200.00 (the order is placed at 199.9999), and a quote
    declined after a draft with a date arrived as "Your quote ... is ready"."""
    from apps.quotes.services import quote_decline

    number = ask(shop.owner).json()["number"]
    with django_capture_on_commit_callbacks(execute=True):
        answer(number, {"A-1": D("199.9999")})
    sent = mail.outbox[-1]
    assert "199,9999" in sent.body and "200,00" not in sent.body  # the dealer's Turkish
    assert "199,9999" in sent.alternatives[0][0]

    other = ask(shop.owner).json()["number"]
    answer(other, {"A-1": D("95")}, send=False)  # a draft, with a date
    with django_capture_on_commit_callbacks(execute=True):
        quote_decline(quote=Quote.objects.get(number=other), by=None, reason="Stok yok")
    declined = mail.outbox[-1]
    assert other in declined.subject and "hazır" not in declined.subject
    assert "Stok yok" in declined.body
    # and where to find it, as the prices' e-mail says (the decline had no link)
    link = f"{django_settings.DEALER_PORTAL_URL.rstrip('/')}/portal/quotes/{other}/"
    assert link in declined.body and f'href="{link}"' in declined.alternatives[0][0]


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ({"quantity": "1e3"}, "quantity", "Enter a whole number."),
        ({"quantity": "\u0663"}, "quantity", "Enter a whole number."),
        ({"quantity": "1.000"}, "quantity", "Enter a whole number."),  # a thousand, or one?
        ({"quantity": "0"}, "quantity", "Enter a quantity from 1 to 1,000,000."),
        ({"target_price": "\u0663"}, "target_price", "Enter a price such as 149.90."),
        ({"target_price": "1e2"}, "target_price", "Enter a price such as 149.90."),
    ],
)
def test_a_quote_line_says_what_is_wrong_with_its_number(shop, line, field, message):
    """``1e3`` and ``٣`` as a quantity were "out of range" (they are no number at all), and
    ``٣`` as a target price was read as 3."""
    from apps.core.exceptions import ValidationError  # the service's own refusal
    from apps.quotes.services import quote_request  # the service the portal's form calls too

    with pytest.raises(ValidationError) as refused:
        quote_request(user=shop.owner.user, lines=[{"sku": "A-1", "quantity": 20, **line}])
    assert refused.value.errors == {f"lines.0.{field}": [message]}
    assert not Quote.objects.exists()


def test_a_quote_line_reads_a_whole_quantity_as_the_cart_and_the_quick_order_do(shop):
    """A quantity of "5.0" was refused in a quote request and read in the cart's CSV and the API's
    integer fields: one reading now (``quantity_clean``)."""
    from apps.orders.services.cart import cart_add  # the cart's service, the same reading
    from apps.quotes.services import quote_request  # the service the portal's form calls too

    for typed, whole in (("5.0", 5), ("6,00", 6), (" 7 ", 7)):
        quote = quote_request(user=shop.owner.user, lines=[{"sku": "A-1", "quantity": typed}])
        assert [line.quantity for line in quote.lines.all()] == [whole]
    assert cart_add(user=shop.owner.user, sku="A-1", quantity="5.0").quantity == 5
