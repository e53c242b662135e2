"""Many dealers order the last units at the same moment: every reservation runs in its own
thread with its own PostgreSQL connection. Stock sells out exactly, never below zero, never
oversold, nobody deadlocks, and the ledger tells the same story as the stock levels."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection
from django.db.models import Sum

from apps.core.exceptions import Conflict
from apps.inventory.models import StockLevel, StockMovement
from apps.inventory.services import stock_release, stock_reserve
from tests.inventory.factories import ProductFactory
from tests.inventory.helpers import assert_ledger_consistent, stocked

THREADS = 60


def run_in_parallel(jobs):
    """Run every job in its own thread (own DB connection), all released at once by a
    barrier. Returns ``[("ok", result) | ("conflict", exc) | ("error", exc)]`` in job order."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list = [None] * len(jobs)

    def worker(index, job):
        try:
            barrier.wait(timeout=60)
            outcomes[index] = ("ok", job())
        except Conflict as exc:
            outcomes[index] = ("conflict", exc)
        except Exception as exc:  # a deadlock or anything else fails the test below
            outcomes[index] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a reservation hung"
    return outcomes


def reserved_by_movements(product, warehouse) -> int:
    return (
        StockMovement.objects.filter(
            product=product, warehouse=warehouse, kind=StockMovement.Kind.RESERVATION
        ).aggregate(total=Sum("quantity"))["total"]
        or 0
    )


@pytest.mark.django_db(transaction=True)
def test_sixty_parallel_reservations_sell_scarce_stock_out_exactly():
    product, wh = stocked({"IST": 17, "ANK": 13})
    stock = 30
    # 40 one-unit orders alone want more than the 30 units, so the last unit is always taken:
    # the sell-out is exact whatever order the threads run in
    pattern = [1, 1, 2, 1, 3, 1]
    demand = [pattern[i % len(pattern)] for i in range(THREADS)]

    def order(i):
        return lambda: stock_reserve(lines=[(product.pk, demand[i])], reference=f"order:{i}")

    outcomes = run_in_parallel([order(i) for i in range(THREADS)])

    errors = [exc for kind, exc in outcomes if kind == "error"]
    assert errors == []
    successes = [i for i, (kind, _) in enumerate(outcomes) if kind == "ok"]
    failures = [i for i, (kind, _) in enumerate(outcomes) if kind == "conflict"]
    sold = sum(demand[i] for i in successes)
    assert sold == min(sum(demand), stock) == 30
    assert len(successes) + len(failures) == THREADS
    for i in failures:  # a refusal is always a real shortage, named per line
        exc = outcomes[i][1]
        assert exc.code == "insufficient_stock"
        (line,) = exc.extra["lines"]
        assert line["sku"] == product.sku
        assert line["requested"] == demand[i] > line["available"] >= 0
        assert not StockMovement.objects.filter(reference=f"order:{i}").exists()
    for i in successes:
        allocated = sum(a.quantity for a in outcomes[i][1])
        assert allocated == demand[i]
        assert (
            StockMovement.objects.filter(reference=f"order:{i}").aggregate(t=Sum("quantity"))["t"]
            == demand[i]
        )

    ist = StockLevel.objects.get(product=product, warehouse=wh["IST"])
    ank = StockLevel.objects.get(product=product, warehouse=wh["ANK"])
    assert (ist.on_hand, ist.reserved) == (17, 17)  # the first warehouse empties first
    assert (ank.on_hand, ank.reserved) == (13, 13)
    for stock_level in (ist, ank):
        assert reserved_by_movements(product, stock_level.warehouse) == stock_level.reserved
        assert_ledger_consistent(stock_level)
    print(  # the numbers of the proof, shown with -s
        f"\n{THREADS} threads, demand {sum(demand)}, stock {stock}: {len(successes)} "
        f"reservations ({sold} units), {len(failures)} refused; "
        f"IST {ist.reserved}/{ist.on_hand}, ANK {ank.reserved}/{ank.on_hand}"
    )


@pytest.mark.django_db(transaction=True)
def test_orders_naming_two_products_in_opposite_orders_never_deadlock():
    drill, _ = stocked({"IST": 10, "ANK": 8})
    saw, _ = stocked({"IST": 9, "ANK": 6}, product=ProductFactory())
    # even threads name the drill first, odd threads the saw first: with locks taken in line
    # order, two such transactions would each hold what the other waits for
    quantities = [(1 + i % 2, 1 + (i // 2) % 2) for i in range(THREADS)]

    def order(i):
        drill_line, saw_line = (drill.pk, quantities[i][0]), (saw.pk, quantities[i][1])
        lines = [drill_line, saw_line] if i % 2 == 0 else [saw_line, drill_line]
        return lambda: stock_reserve(lines=lines, reference=f"order:{i}")

    outcomes = run_in_parallel([order(i) for i in range(THREADS)])

    assert [exc for kind, exc in outcomes if kind == "error"] == []
    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds["ok"] + kinds["conflict"] == THREADS
    assert kinds["ok"] > 0 and kinds["conflict"] > 0

    levels = {
        (level.product_id, level.warehouse.code): level
        for level in StockLevel.objects.select_related("warehouse")
    }
    for product in (drill, saw):
        won = sum(
            quantities[i][0 if product == drill else 1]
            for i, (kind, _) in enumerate(outcomes)
            if kind == "ok"
        )
        product_levels = [level for (pid, _), level in levels.items() if pid == product.pk]
        assert sum(level.reserved for level in product_levels) == won
        for stock_level in product_levels:
            assert 0 <= stock_level.reserved <= stock_level.on_hand
            assert reserved_by_movements(product, stock_level.warehouse) == stock_level.reserved
            assert_ledger_consistent(stock_level)

    # a refused order reserved nothing of either product, and was short on a line for real
    final_available = {
        product.pk: sum(lv.available for (pid, _), lv in levels.items() if pid == product.pk)
        for product in (drill, saw)
    }
    for i, (kind, exc) in enumerate(outcomes):
        if kind != "conflict":
            continue
        assert not StockMovement.objects.filter(reference=f"order:{i}").exists()
        assert exc.extra["lines"]
        for line in exc.extra["lines"]:
            product_id = {drill.sku: drill.pk, saw.sku: saw.pk}[line["sku"]]
            assert line["requested"] > line["available"] >= final_available[product_id]
    print(
        f"\n{THREADS} two-product orders: {kinds['ok']} reserved, {kinds['conflict']} refused, "
        f"0 deadlocks; left: drill {final_available[drill.pk]}, saw {final_available[saw.pk]}"
    )


@pytest.mark.django_db(transaction=True)
def test_parallel_releases_of_one_reference_give_back_once():
    product, wh = stocked({"IST": 10})
    stock_reserve(lines=[(product.pk, 6)], reference="order:shared")

    outcomes = run_in_parallel([lambda: stock_release(reference="order:shared") for _ in range(10)])

    assert [exc for kind, exc in outcomes if kind != "ok"] == []
    assert sum(a.quantity for _, result in outcomes for a in result) == 6
    stock_level = StockLevel.objects.get(product=product, warehouse=wh["IST"])
    assert stock_level.reserved == 0
    assert StockMovement.objects.filter(kind="release").count() == 1
    assert_ledger_consistent(stock_level)
