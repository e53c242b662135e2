"""Placements at the same moment, through the real HTTP stack against real PostgreSQL: every
worker thread has its own database connection and its own API clients, and all of them are
released at once by a barrier.

- Scarce stock: 100 placements by 20 dealers on 10 products split over two warehouses, about
  three times more demand than supply. Every answer is 201 or 409 ``insufficient_stock``
  (no 500, no deadlock), no unit is sold twice, what is reserved is exactly what the placed
  orders hold (stock levels, ledger rows, order lines), and every refusal was a real
  shortage.
- Credit: one dealer with a small credit limit places many on_account orders at once (ample
  stock): the open orders never exceed the limit, the rest wait for credit approval.

The database allows 100 connections and other test runs share the server, so the placements
are spread over ``THREADS`` connections (a dealer's placements land on different threads, so
one dealer also races itself).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from decimal import Decimal
from functools import partial

import pytest
from django.db import connection
from django.db.models import Sum
from rest_framework.test import APIClient

from apps.accounts.models import Address
from apps.accounts.selectors import customer_credit_exposure
from apps.core.exceptions import Conflict
from apps.core.models import OutboxEvent
from apps.finance.models import LedgerEntry
from apps.finance.services.ledger import ledger_post
from apps.inventory.models import StockLevel, StockMovement
from apps.inventory.queries import stock_held_for_reference
from apps.inventory.services import stock_receive
from apps.orders.models import Order, OrderLine, OrderStatusChange
from apps.orders.services import (
    order_approve,
    order_cancel,
    order_credit_approve,
    order_place,
)
from apps.pricing.models import Price, PriceList
from tests.conftest import login
from tests.factories import (
    AddressFactory,
    CustomerFactory,
    DealerUserFactory,
    StaffUserFactory,
)
from tests.inventory.factories import ProductFactory, WarehouseFactory
from tests.inventory.helpers import assert_ledger_consistent

pytestmark = [pytest.mark.django_db(transaction=True)]

D = Decimal
THREADS = 25
SEED = 20261125  # the demand is the same every run; only the timing differs


@pytest.fixture(autouse=True)
def _rate_limits_off(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"ip": None, "user": None, "api_key": None},
    }


def dealer(*, credit_limit: str):
    """An active company with default addresses and its owner; returns (owner, access token)."""
    customer = CustomerFactory(credit_limit=D(credit_limit))
    for kind in (Address.Type.SHIPPING, Address.Type.BILLING):
        AddressFactory(customer=customer, type=kind, is_default=True)
    owner = DealerUserFactory(customer=customer, role="owner")
    token = login(APIClient(), owner)["access"]
    return owner, token


def product(sku: str, *, price: str, stock: dict | None = None):
    """A LIST-priced product received into ``{warehouse: units}`` through the service (so the
    stock ledger starts at zero)."""
    item = ProductFactory(sku=sku, vat_rate=20)
    Price.objects.create(
        price_list=PriceList.objects.get(code="LIST"), product=item, amount=D(price)
    )
    for warehouse, units in (stock or {}).items():
        if units:
            stock_receive(product=item, warehouse=warehouse, quantity=units, reference="setup")
    return item


def place_all(placements: list[tuple[str, dict]], threads: int = THREADS) -> list[tuple]:
    """POST every ``(token, body)`` to /api/v1/orders from ``threads`` threads started
    together (placement i runs on thread i % threads). Returns, in placement order,
    ``(status_code, body)`` or ``("error", repr(exception))``."""
    barrier = threading.Barrier(threads)
    outcomes: list = [None] * len(placements)

    def worker(mine: list[int]):
        try:
            barrier.wait(timeout=60)
            for index in mine:
                token, body = placements[index]
                client = APIClient()
                client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
                try:
                    response = client.post("/api/v1/orders", body, format="json")
                    outcomes[index] = (response.status_code, response.json())
                except Exception as exc:  # a deadlock or a crash: reported by the test
                    outcomes[index] = ("error", repr(exc))
        except Exception as exc:  # the barrier broke: the placements never ran
            for index in mine:
                outcomes[index] = outcomes[index] or ("error", repr(exc))
        finally:
            connection.close()

    workers = [
        threading.Thread(target=worker, args=(list(range(t, len(placements), threads)),))
        for t in range(threads)
    ]
    for thread in workers:
        thread.start()
    deadline = time.monotonic() + 120
    for thread in workers:
        thread.join(timeout=max(0.1, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in workers), "a placement hung"
    return outcomes


def test_parallel_placements_sell_scarce_stock_once_and_refuse_the_rest_with_409():
    # given: 10 products, stock split over two warehouses (IST preferred), ~3x oversubscribed
    ist = WarehouseFactory(code="IST", sort_order=0)
    ank = WarehouseFactory(code="ANK", sort_order=10)
    supply = {f"P-{i:02d}": {ist: 6 + i % 4, ank: 7 + i % 3} for i in range(10)}
    supply["P-09"] = {ist: 0, ank: 15}  # nothing in the preferred warehouse
    products = {
        sku: product(sku, price=f"{10 + i}.50", stock=s)
        for i, (sku, s) in enumerate(supply.items())
    }
    dealers = [dealer(credit_limit="1000000.00") for _ in range(20)]
    rng = random.Random(SEED)
    wanted: list[dict[str, int]] = []
    placements = []
    for index in range(100):
        lines = {sku: rng.randint(1, 3) for sku in rng.sample(sorted(products), rng.randint(1, 3))}
        wanted.append(lines)  # random line order: the locks must not follow it
        items = [{"sku": sku, "quantity": quantity} for sku, quantity in lines.items()]
        placements.append(
            (dealers[index % 20][1], {"payment_method": "on_account", "items": items})
        )
    demand = Counter()
    for lines in wanted:
        demand.update(lines)

    # when
    started = time.monotonic()
    outcomes = place_all(placements)
    elapsed = time.monotonic() - started

    # then: 201 or 409 insufficient_stock, nothing else
    assert [o for o in outcomes if o[0] not in (201, 409)] == []
    placed = {i: body for i, (code, body) in enumerate(outcomes) if code == 201}
    refused = {i: body for i, (code, body) in enumerate(outcomes) if code == 409}
    assert refused, "the stock was oversubscribed ~3x: some placements must be refused"
    assert placed, "nothing was placed"
    assert {body["code"] for body in refused.values()} == {"insufficient_stock"}

    # each placed order holds exactly what was asked, and is stored once
    for i, body in placed.items():
        assert {line["sku"]: line["quantity"] for line in body["lines"]} == wanted[i]
        assert body["status"] == "confirmed"
    numbers = [body["number"] for body in placed.values()]
    assert len(set(numbers)) == len(numbers)
    assert set(Order.objects.values_list("number", flat=True)) == set(numbers)
    assert OutboxEvent.objects.filter(type="order.created").count() == len(placed)

    # per product: reserved == sold to the placed orders, never above on hand, IST first
    sold = Counter()
    for i in placed:
        sold.update(wanted[i])
    lines_total = dict(
        OrderLine.objects.order_by()
        .values("sku")
        .annotate(q=Sum("quantity"))
        .values_list("sku", "q")
    )
    assert lines_total == {sku: q for sku, q in sold.items() if q}
    for sku, item in products.items():
        levels = {lv.warehouse_id: lv for lv in StockLevel.objects.filter(product=item)}
        on_hand = sum(lv.on_hand for lv in levels.values())
        assert on_hand == sum(supply[sku].values())  # placement never touches on hand
        assert sum(lv.reserved for lv in levels.values()) == sold[sku] <= on_hand
        if ist.pk in levels:  # a reservation draws from the preferred warehouse first
            assert levels[ist.pk].reserved == min(sold[sku], levels[ist.pk].on_hand)
        for stock_level in levels.values():
            assert 0 <= stock_level.reserved <= stock_level.on_hand
            assert_ledger_consistent(stock_level)

    # the reservation rows are exactly the placed orders' lines, nothing for the refused
    reservations = defaultdict(Counter)
    for reference, sku, quantity in StockMovement.objects.filter(
        kind=StockMovement.Kind.RESERVATION
    ).values_list("reference", "product__sku", "quantity"):
        reservations[reference][sku] += quantity
    assert dict(reservations) == {
        f"order:{body['number']}": Counter(wanted[i]) for i, body in placed.items()
    }

    # a refusal was a real shortage: a line that does not fit even in what is left now
    # (availability only shrinks in this test), named with what was asked
    left = {sku: sum(supply[sku].values()) - sold[sku] for sku in products}
    for i, body in refused.items():
        short = {line["sku"]: line for line in body["lines"]}
        assert short and set(short) <= set(wanted[i])
        for sku, line in short.items():
            assert line["requested"] == wanted[i][sku] > line["available"] >= left[sku]

    sold_out = [sku for sku in products if left[sku] == 0]
    print(
        f"\n100 placements on {THREADS} threads in {elapsed:.1f} s: {len(placed)} placed, "
        f"{len(refused)} refused (409); supply {sum(sum(s.values()) for s in supply.values())}, "
        f"demand {sum(demand.values())}, sold {sum(sold.values())}; "
        f"{len(sold_out)}/10 products sold out, left {dict(sorted(left.items()))}"
    )


def test_parallel_on_account_orders_of_one_dealer_never_exceed_its_credit_limit():
    # given: a dealer owing 280.00 with a limit of 1,000.00; ample stock of 24 products
    owner, token = dealer(credit_limit="1000.00")
    ledger_post(customer=owner.customer, kind=LedgerEntry.Kind.OPENING_BALANCE, amount="280.00")
    warehouse = WarehouseFactory(code="IST")
    rng = random.Random(SEED)
    placements, wanted_gross = [], []
    for n in range(24):
        # one product per order: only the dealer's lock can put the placements in a line
        product(f"C-{n:02d}", price="100.00", stock={warehouse: 10})
        quantity = rng.randint(1, 3)
        wanted_gross.append(D("120.00") * quantity)  # 100.00 net + 20 % VAT per unit
        placements.append(
            (
                token,
                {
                    "payment_method": "on_account",
                    "items": [{"sku": f"C-{n:02d}", "quantity": quantity}],
                },
            )
        )

    # when
    outcomes = place_all(placements, threads=12)

    # then: every placement succeeds; the credit chain judged them one after the other
    assert [code for code, _ in outcomes] == [201] * len(placements), outcomes
    statuses = Counter(body["status"] for _, body in outcomes)
    assert set(statuses) <= {"confirmed", "awaiting_credit_approval"}
    for (_, body), gross in zip(outcomes, wanted_gross, strict=True):
        assert D(body["grand_total"]) == gross
    orders = list(Order.objects.filter(customer=owner.customer))
    assert len(orders) == len(placements)
    balance, limit = D("280.00"), D("1000.00")
    confirmed = sum((o.grand_total for o in orders if o.status == "confirmed"), D("0.00"))
    assert statuses["confirmed"] >= 1
    assert balance + confirmed <= limit  # exposure never above the limit
    for order in orders:  # and nobody was held without need: exposure only grew meanwhile
        if order.status == "awaiting_credit_approval":
            assert balance + confirmed + order.grand_total > limit
    print(
        f"\n24 parallel on_account orders, limit {limit}, balance {balance}: "
        f"{statuses['confirmed']} confirmed ({confirmed}), "
        f"{statuses['awaiting_credit_approval']} awaiting credit approval"
    )


def test_two_concurrent_placements_with_one_idempotency_key_create_one_order():
    """Rule "A repeated POST /orders with the same Idempotency-Key returns the first order and
    creates nothing", also when the two requests run at the same time."""
    _owner, token = dealer(credit_limit="100000.00")
    product("IDEM-1", price="10.00", stock={WarehouseFactory(code="IST"): 50})
    body = {"payment_method": "on_account", "items": [{"sku": "IDEM-1", "quantity": 2}]}
    barrier = threading.Barrier(4)
    answers: list = []

    def worker():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        try:
            barrier.wait(timeout=30)
            response = client.post(
                "/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="same-key"
            )
            answers.append((response.status_code, response.json().get("number")))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 4
    assert {status for status, _number in answers} == {201}
    assert len({number for _status, number in answers}) == 1
    assert Order.objects.count() == 1
    assert StockLevel.objects.get(product__sku="IDEM-1").reserved == 2


# --- a dealer's cancel beside an approval of the same order ---------------------------------

RACE_ROUNDS = 20
RACE_ORDERS = 3  # orders of one company raced per round (2 threads each)


def run_together(jobs: list) -> list[tuple]:
    """Run each job in its own thread (own connection), all released by one barrier.
    Returns ``("ok", result) | ("conflict", exc) | ("error", exc)`` per job, in order."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list = [None] * len(jobs)

    def worker(index: int, job) -> None:
        try:
            barrier.wait(timeout=60)
            outcomes[index] = ("ok", job())
        except Conflict as exc:
            outcomes[index] = ("conflict", exc)
        except Exception as exc:  # a deadlock (OperationalError) or anything else
            outcomes[index] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a transition hung"
    return outcomes


@pytest.mark.parametrize("approval", ["owner", "finance"])
def test_cancel_and_approve_of_the_same_order_at_once_never_deadlock(approval):
    """A dealer cancels orders while they are being approved (``owner``: the owner approves
    an order over a purchasing user's limit, the chain goes on to the credit check;
    ``finance``: staff approve an order waiting for credit), all at the same moment, round
    after round. Both take the company's row before the order's, so they queue instead of
    deadlocking: no error but a clean 409 ``invalid_transition``; exactly one of them moves
    the order out of its waiting status (the approval, then the cancel of the confirmed
    order; or the cancel, and the approval is refused); stock, its ledger, the events and
    the credit exposure agree at the end."""
    # given: a company owing 500.00; stock of one product in two warehouses
    owner, _token = dealer(credit_limit="1000000.00" if approval == "owner" else "600.00")
    customer = owner.customer
    ledger_post(customer=customer, kind=LedgerEntry.Kind.OPENING_BALANCE, amount="500.00")
    if approval == "owner":  # orders of a purchasing user above its limit wait for the owner
        placer = DealerUserFactory(customer=customer, role="purchasing", order_limit=D("10.00"))
        approver, waiting = owner, "awaiting_approval"
    else:  # orders above the credit limit wait for finance
        placer = owner
        approver, waiting = StaffUserFactory(), "awaiting_credit_approval"
    ist = WarehouseFactory(code="IST", sort_order=0)
    ank = WarehouseFactory(code="ANK", sort_order=10)
    item = product("RACE-1", price="100.00", stock={ist: 4 * RACE_ROUNDS, ank: 1000})
    body = {"payment_method": "on_account", "items": [{"sku": "RACE-1", "quantity": 3}]}

    def approve(number: str):
        order = Order.objects.get(number=number)
        if approval == "owner":
            return order_approve(order=order, by=approver)
        return order_credit_approve(order=order, by=approver)

    def cancel(number: str):
        return order_cancel(order=Order.objects.get(number=number), by=placer, reason="changed")

    numbers, approved_first = [], 0
    for _round in range(RACE_ROUNDS):
        placed = [order_place(user=placer, **body) for _ in range(RACE_ORDERS)]
        assert {order.status for order in placed} == {waiting}
        jobs = []
        for order in placed:
            jobs += [partial(cancel, order.number), partial(approve, order.number)]
        outcomes = run_together(jobs)

        # then: no deadlock nor any other error; the cancel always succeeds (a confirmed
        # order is still the dealer's to cancel); the approval succeeds or is refused cleanly
        assert [o for o in outcomes if o[0] == "error"] == []
        for order, cancelled, approved in zip(placed, outcomes[::2], outcomes[1::2], strict=True):
            assert cancelled[0] == "ok"
            moves = list(
                OrderStatusChange.objects.filter(order=order)
                .order_by("id")
                .values_list("from_status", "to_status")
            )
            if approved[0] == "ok":  # the approval came first
                approved_first += 1
                assert moves == [("", waiting), (waiting, "confirmed"), ("confirmed", "cancelled")]
            else:  # the cancel came first: the approval found a cancelled order
                assert approved[1].code == "invalid_transition"
                assert moves == [("", waiting), (waiting, "cancelled")]
            numbers.append(order.number)

    # every order ends cancelled, its reservation given back: nothing reserved, on hand as
    # received, each stock level's ledger consistent and the order references hold nothing
    assert set(Order.objects.values_list("status", flat=True)) == {"cancelled"}
    for stock_level in StockLevel.objects.filter(product=item):
        assert stock_level.reserved == 0
        assert_ledger_consistent(stock_level)
    assert {lv.warehouse_id: lv.on_hand for lv in StockLevel.objects.filter(product=item)} == {
        ist.pk: 4 * RACE_ROUNDS,
        ank.pk: 1000,
    }
    for number in numbers:
        assert stock_held_for_reference(reference=f"order:{number}") == {}
    reserved, released = (
        StockMovement.objects.filter(kind=kind).aggregate(q=Sum("quantity"))["q"]
        for kind in (StockMovement.Kind.RESERVATION, StockMovement.Kind.RELEASE)
    )
    assert reserved == -released == 3 * RACE_ORDERS * RACE_ROUNDS
    # the credit exposure is the ledger alone again; one event per move
    customer.refresh_from_db()
    assert customer_credit_exposure(customer=customer) == D("500.00")
    assert LedgerEntry.objects.filter(customer=customer).count() == 1
    moves = OrderStatusChange.objects.exclude(from_status="").count()
    assert moves == len(numbers) + approved_first
    assert OutboxEvent.objects.filter(type="order.status_changed").count() == moves
    assert OutboxEvent.objects.filter(type="order.cancelled").count() == len(numbers)
    print(
        f"\n{approval} approval vs cancel: {RACE_ROUNDS} rounds x {RACE_ORDERS} orders, "
        f"approval first {approved_first}, cancel first {len(numbers) - approved_first}"
    )
