#!/usr/bin/env python
"""Order placement benchmark: orders/s and latency of ``POST /api/v1/orders`` for many
concurrent dealers, on uncontended and on contended stock, and the ratio.

What it does, each step bounded:
1. creates the PostgreSQL database of ``DATABASE_URL`` (default
   ``postgres://postgres@127.0.0.1:5432/b2b_orderbench``; it refuses a name without "bench")
   when missing and migrates it;
2. seeds it once (reused on later runs, missing rows added): ``--dealers`` active dealers
   (``OB0001``...; an owner user each, default shipping and billing addresses, a credit
   limit far above anything the run places), ``--products`` products (``OB-000001``...)
   with a LIST price and ``--stock`` units split over two warehouses (60 % IST, preferred;
   40 % ANK);
3. starts gunicorn on a loopback port (``--workers`` sync workers, DEBUG=0, rate limits off,
   access log off; Celery eager, so the outbox dispatch after each commit runs in the
   request, as on a machine without a separate worker) and logs every dealer's owner in
   (untimed: the first through ``POST /api/v1/auth/token``, the others with the service
   behind it, to save 99 argon2 checks), then places one warm-up order per worker pair;
4. runs the scenarios, each on reset tables (orders, stock movements, outbox, idempotency
   records and audit log emptied; reserved back to 0, on hand back to the seeded stock):
   ``--clients`` threads released together, each placing ``--orders`` orders of ``--lines``
   lines (distinct products in random order, 1-3 units each, ``on_account``), one
   ``http.client`` connection per client (gunicorn's sync workers close it after each
   answer; it reconnects):

   - ``uncontended``: client i orders from its own slice of ``products / clients`` products
     (no two clients ever lock the same stock level; each dealer still locks its own row);
   - ``contended``: every client orders from the same ``--hot`` products (each placement
     locks ``--lines`` of those ``--hot`` stock levels, so placements queue on the locks);
     there is stock for all of it, so every answer should be 201;
   - ``sold-out`` (with ``--sold-out``): contended, but the hot products hold only
     ``--sold-out-share`` of the expected demand: the rest is refused with 409
     ``insufficient_stock`` (expected, counted apart from errors).

   The price engine's cache is filled for every product beforehand (a running shop has it
   warm). ``--rounds`` (default 2) runs uncontended and contended that many times with the
   same orders, alternating which goes first (the machine may be shared); the best round of
   each is compared;
5. after each run checks the database (one order per 201, reserved units == units on
   the orders' lines == reservation movements, nothing above on hand) and prints orders/s,
   requests/s, p50/p95/p99 latency, the status counts, and contended / uncontended ratios;
6. at the end counts the SQL statements of one placement of 1 line and of 20 lines through
   the whole stack in process (rolled back: nothing stays).

With ``--broker`` every round runs a second time the way production runs the tasks: Celery
not eager, the after-commit tasks (outbox dispatch, the order e-mail) sent to the Redis of
``--broker-url`` (default ``redis://127.0.0.1:6379/9``; its queue purged first) and run by one
Celery worker process (``--pool=solo``) started by the script on the same machine, so the
machine still pays for them. A round then ends when the worker has done every task it was
given (each placement's e-mail sent, every event dispatched; 120 s at most): besides orders/s
over the answers, it prints the drain time and orders/s up to the drain. Each row also says
the CPU per placed order of the web workers and of the Celery worker (from /proc).

    .venv/bin/python bench/orders.py [--dealers 100] [--products 2000] [--clients 100]
                                     [--orders 3] [--lines 5] [--hot 10] [--workers 4]
                                     [--rounds 2] [--sold-out] [--broker [--broker-url URL]]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from _common import (
    PYTHON,
    database_name,
    database_url,
    ensure_database,
    free_port,
    group_cpu,
    keep_bench_off_path,
    log,
    login,
    manage,
    percentile_ms,
    setup_django,
    spawn,
    start_gunicorn,
    stop,
    stop_gunicorn,
    use_bench_env,
)

keep_bench_off_path()  # a bench/<name>.py must not shadow a module the project imports
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/b2b_orderbench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/11"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/9"  # --broker: the queue (the cache stays on 11)
DRAIN_SECONDS = 120  # --broker: how long a round waits for the worker to finish its tasks
CODE_PREFIX = "OB"
SKU_PREFIX = "OB-"
PASSWORD = "Order-Bench-2026!"  # noqa: S105 - the bench dealers' login, loopback only
WAREHOUSES = (("OB-IST", "İstanbul", 0, 0.6), ("OB-ANK", "Ankara", 10, 0.4))
RESET_TABLES = (
    "orders_orderstatuschange",
    "orders_orderline",
    "orders_order",
    "inventory_stockmovement",
    "integrations_outboxevent",
    "core_idempotencyrecord",
    "auditlog_logentry",
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dealers", type=int, default=100)
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--stock", type=int, default=100_000, help="units per product")
    parser.add_argument("--clients", type=int, default=100, help="concurrent dealers")
    parser.add_argument("--orders", type=int, default=3, help="orders per client")
    parser.add_argument("--lines", type=int, default=5, help="lines per order")
    parser.add_argument("--hot", type=int, default=10, help="products of the contended runs")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--sold-out", action="store_true", help="add the sold-out scenario")
    parser.add_argument(
        "--sold-out-share",
        type=float,
        default=0.4,
        help="hot stock as a share of the expected demand in the sold-out scenario",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="rounds of uncontended + contended (alternating which goes first); best kept",
    )
    parser.add_argument(
        "--broker",
        action="store_true",
        help="run the rounds again with a Redis broker and one Celery worker (not eager)",
    )
    parser.add_argument(
        "--broker-url",
        default=os.environ.get("BENCH_ORDERS_BROKER_URL", DEFAULT_BROKER_URL),
        help="the broker of --broker (loopback Redis; its Celery queue is purged)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    if args.clients > args.dealers:
        parser.error("--clients cannot exceed --dealers (one dealer per client)")
    if args.products // args.clients < args.lines or args.hot < args.lines:
        parser.error("every client needs at least --lines products of its own, and --hot too")
    if args.broker and urlsplit(args.broker_url).hostname not in ("127.0.0.1", "localhost"):
        parser.error("--broker-url must be a loopback Redis")
    return args


# --- database -----------------------------------------------------------------------------------


def _vkn(n: int) -> str:
    from stdnum.tr import vkn

    base = f"8{n:08d}"  # far from the demo dealers' 9xxxxxxxx
    return base + vkn.calc_check_digit(base)


def not_stored(manager, field: str, values: list[str]) -> list[str]:
    """The ``values`` no row of ``manager`` holds in ``field``, in their order."""
    have = set(manager.filter(**{f"{field}__in": values}).values_list(field, flat=True))
    return [value for value in values if value not in have]


def seed_dealers(count: int) -> None:
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db import transaction

    from apps.accounts.models import Address, Customer, CustomerStatus, DealerRole, User
    from apps.accounts.roles import DEALER_ROLE_GROUPS

    codes = [f"{CODE_PREFIX}{n:04d}" for n in range(1, count + 1)]
    missing = not_stored(Customer.all_objects, "code", codes)
    if not missing:
        return
    log(f"creating {len(missing)} dealers (owner user, addresses)")
    password = make_password(PASSWORD)  # hashed once (argon2), shared by the bench owners
    owner_group = Group.objects.get(name=DEALER_ROLE_GROUPS[DealerRole.OWNER])
    with transaction.atomic():
        customers = Customer.objects.bulk_create(
            Customer(
                code=code,
                name=f"Order Bench Bayi {code}",
                tax_number=_vkn(int(code[len(CODE_PREFIX) :])),
                tax_office="Kadıköy",
                phone="+90 216 000 00 00",
                tier="B",
                status=CustomerStatus.ACTIVE,
                credit_limit=Decimal("999999999.00"),
            )
            for code in missing
        )
        Address.objects.bulk_create(
            Address(
                customer=customer,
                type=kind,
                title=f"{kind} {customer.code}",
                line1="Atatürk Cd. No: 1",
                district="Kadıköy",
                city="İstanbul",
                postal_code="34710",
                country="TR",
                is_default=True,
            )
            for customer in customers
            for kind in (Address.Type.SHIPPING, Address.Type.BILLING)
        )
        users = User.objects.bulk_create(
            User(
                email=owner_email(customer.code),
                first_name="Bench",
                last_name=customer.code,
                customer=customer,
                role=DealerRole.OWNER,
                password=password,
            )
            for customer in customers
        )
        User.groups.through.objects.bulk_create(
            User.groups.through(user_id=user.pk, group_id=owner_group.pk) for user in users
        )


def owner_email(code: str) -> str:
    return f"owner@{code.lower()}.bench.example.com"


def seed_products(count: int, stock: int) -> None:
    from django.db import transaction

    from apps.catalog.cache import catalog_cache_bump
    from apps.catalog.models import Brand, Category, Product
    from apps.catalog.search import build_search_document
    from apps.catalog.services.categories import category_create
    from apps.inventory.models import StockLevel, Warehouse
    from apps.pricing.models import Price, PriceList

    skus = [f"{SKU_PREFIX}{n:06d}" for n in range(1, count + 1)]
    missing = not_stored(Product.all_objects, "sku", skus)
    if not missing:
        return
    log(f"creating {len(missing)} products (LIST price, stock in 2 warehouses)")
    rng = random.Random(count - len(missing))  # noqa: S311 - bench data (seeded by those stored)
    category = Category.objects.filter(name="Order Bench").first() or category_create(
        name="Order Bench"
    )
    brand, _ = Brand.objects.get_or_create(
        slug="order-bench", defaults={"name": "Order Bench Brand"}
    )
    warehouses = [
        Warehouse.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})[0]
        for code, name, order, _share in WAREHOUSES
    ]
    list_prices = PriceList.objects.get(code="LIST")
    with transaction.atomic():
        products = Product.objects.bulk_create(
            Product(
                sku=sku,
                name=f"Bench part {sku}",
                brand=brand,
                category=category,
                vat_rate=20,
                search_document=build_search_document(
                    sku=sku,
                    name=f"Bench part {sku}",
                    brand_name=brand.name,
                    barcodes=[],
                    attributes={},
                ),
            )
            for sku in missing
        )
        Price.objects.bulk_create(
            Price(
                price_list=list_prices,
                product=product,
                amount=Decimal(rng.randint(1000, 500000)) / 100,
            )
            for product in products
        )
        StockLevel.objects.bulk_create(
            StockLevel(product=product, warehouse=warehouse, on_hand=units, reserved=0)
            for product in products
            for warehouse, units in zip(warehouses, split(stock), strict=True)
        )
    catalog_cache_bump()


def warm_price_cache() -> None:
    """Fill the price engine's cache for every bench product, as a running shop has it (the
    uncontended runs would otherwise pay ~1,500 first misses the contended ones do not)."""
    from apps.catalog.models import Product
    from apps.pricing.engine import price_list_rows
    from apps.pricing.models import PriceList

    ids = list(Product.objects.filter(sku__startswith=SKU_PREFIX).values_list("pk", flat=True))
    price_list_rows(ids, list(PriceList.objects.values_list("code", flat=True)))


def split(units: int) -> tuple[int, int]:
    first = round(units * WAREHOUSES[0][3])
    return first, units - first


def reset(*, stock: int, hot_skus: list[str], hot_stock: int) -> None:
    """Empty what placements write and put the seeded stock back."""
    from django.db import connection

    from apps.catalog.models import Product
    from apps.inventory.models import StockLevel, Warehouse

    database_name(os.environ["DATABASE_URL"])  # never on a database that is not a bench one
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(RESET_TABLES)} CASCADE")
    bench = Product.objects.filter(sku__startswith=SKU_PREFIX)
    for code, _name, _order, _share in WAREHOUSES:
        warehouse = Warehouse.objects.get(code=code)
        levels = StockLevel.objects.filter(warehouse=warehouse)
        first = code == WAREHOUSES[0][0]
        levels.filter(product__in=bench).update(on_hand=split(stock)[0 if first else 1], reserved=0)
        levels.filter(product__sku__in=hot_skus).update(
            on_hand=split(hot_stock)[0 if first else 1], reserved=0
        )


def check(expected_orders: int) -> str:
    """The database after a scenario: one order per 201, and reserved units == units on the
    orders' lines == reservation movements, nothing above on hand."""
    from django.db.models import F, Sum

    from apps.inventory.models import StockLevel, StockMovement
    from apps.orders.models import Order, OrderLine

    orders = Order.objects.count()
    lines = OrderLine.objects.aggregate(q=Sum("quantity"))["q"] or 0
    reserved = StockLevel.objects.aggregate(r=Sum("reserved"))["r"] or 0
    moved = (
        StockMovement.objects.filter(kind=StockMovement.Kind.RESERVATION).aggregate(
            q=Sum("quantity")
        )["q"]
        or 0
    )
    over = StockLevel.objects.filter(reserved__gt=F("on_hand")).count()
    problems = []
    if orders != expected_orders:
        problems.append(f"{orders} orders stored for {expected_orders} answers 201")
    if not lines == reserved == moved:
        problems.append(f"units on lines {lines}, reserved {reserved}, movements {moved}")
    if over:
        problems.append(f"{over} stock levels reserved above on hand")
    return "; ".join(problems) or f"ok ({orders} orders, {reserved} units reserved)"


# --- HTTP ---------------------------------------------------------------------------------------


def tokens(port: int, emails: list[str]) -> list[str]:
    """The first dealer logs in through the endpoint (proving the password and the token
    path); the others get their tokens from the service that endpoint uses (``tokens_for``,
    signed with the server's key from the shared environment): 100 argon2 checks would take
    a minute and measure nothing about orders."""
    from apps.accounts.models import User
    from apps.accounts.services.auth import tokens_for

    users = {u.email: u for u in User.objects.filter(email__in=emails).select_related("customer")}
    first = login(f"http://127.0.0.1:{port}", emails[0], PASSWORD)
    return [first] + [tokens_for(users[email])["access"] for email in emails[1:]]


def order_bodies(pools: list[list[str]], orders: int, lines: int, seed: int) -> list[list[bytes]]:
    rng = random.Random(seed)  # noqa: S311 - bench data
    out = []
    for pool in pools:
        mine = []
        for _ in range(orders):
            items = [{"sku": sku, "quantity": rng.randint(1, 3)} for sku in rng.sample(pool, lines)]
            mine.append(json.dumps({"payment_method": "on_account", "items": items}).encode())
        out.append(mine)
    return out


def drive(port: int, tokens: list[str], bodies: list[list[bytes]]) -> dict:
    """One thread per client, released together; each POSTs its bodies one after another on
    its own connection. Returns wall time, latencies and status counts."""
    barrier = threading.Barrier(len(tokens) + 1)
    results: list[list[tuple[float, int]]] = [[] for _ in tokens]

    def client(index: int) -> None:
        headers = {
            "Authorization": f"Bearer {tokens[index]}",
            "Content-Type": "application/json",
        }
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        barrier.wait(timeout=60)
        for body in bodies[index]:
            started = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/orders", body, headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()  # reconnects on the next request
                status = 0
            results[index].append((time.perf_counter() - started, status))
        conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(len(tokens))]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=60)
    started = time.monotonic()
    for thread in threads:
        thread.join(timeout=600)
    elapsed = time.monotonic() - started
    if any(thread.is_alive() for thread in threads):
        raise SystemExit("a client hung for 10 minutes")
    flat = [item for items in results for item in items]
    latencies = sorted(latency for latency, _status in flat)
    statuses: dict[int, int] = {}
    for _latency, status in flat:
        statuses[status] = statuses.get(status, 0) + 1
    return {
        "elapsed": elapsed,
        "requests": len(flat),
        "placed": statuses.get(201, 0),
        "refused": statuses.get(409, 0),
        "errors": sum(n for status, n in statuses.items() if status not in (201, 409)),
        "statuses": statuses,
        "rps": len(flat) / elapsed,
        "ops": statuses.get(201, 0) / elapsed,
        "p50_ms": percentile_ms(latencies, 50),
        "p95_ms": percentile_ms(latencies, 95),
        "p99_ms": percentile_ms(latencies, 99),
    }


def queries_per_placement(
    token: str, pools: list[list[str]], warm: str, sizes=(1, 20)
) -> dict[int, int]:
    """SQL statements of one ``POST /api/v1/orders`` per order size, through the whole stack
    in this process (authentication included), inside a transaction rolled back at the end:
    nothing stays, and the after-commit steps (a worker's job in production) do not run; the
    placement's own transaction is then a savepoint (2 of the statements counted)."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    client = APIClient(SERVER_NAME="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    counts = {}
    # a first placement fills what a process loads once (content types, cached campaigns)
    for size, pool in [(1, [warm]), *zip(sizes, pools, strict=True)]:
        body = {
            "payment_method": "on_account",
            "items": [{"sku": s, "quantity": 1} for s in pool[:size]],
        }
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            response = client.post("/api/v1/orders", body, format="json")
            transaction.set_rollback(True)
        if response.status_code != 201:
            raise SystemExit(
                f"placement of {size} lines: {response.status_code} {response.content[:300]}"
            )
        counts[size] = len(queries)
    return counts


# --- the tasks: eager, or a broker and a worker ---------------------------------------------------


def start_worker(broker_url: str):
    """One Celery worker process (``--pool=solo``) on ``broker_url``, after its queue is purged
    and the dispatch marks are cleared (a task lost with an earlier run's queue would hold
    them); returns once it answers a ping (60 s at most)."""
    from celery import Celery
    from django.core.cache import cache

    from apps.integrations.tasks import DISPATCH_QUEUED_KEY, PUMP_QUEUED_KEY

    celery = [PYTHON, "-m", "celery", "-A", "config"]
    purged = subprocess.run(  # noqa: S603 - our own Celery app
        [*celery, "purge", "-f"], env=os.environ.copy(), capture_output=True, timeout=60
    )
    if purged.returncode:
        raise SystemExit(f"celery purge failed: {purged.stderr.decode()[-1000:]}")
    cache.delete_many([DISPATCH_QUEUED_KEY, PUMP_QUEUED_KEY])
    node = f"orderbench{os.getpid()}@{socket.gethostname()}"
    log_path = Path(tempfile.gettempdir()) / f"bench-orders-celery-{os.getpid()}.log"
    log(f"starting one Celery worker (solo pool) on {broker_url}, its log {log_path}")
    with open(log_path, "w") as log_file:
        proc = spawn(
            [
                *celery,
                "worker",
                "--pool=solo",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname={node}",
            ],
            log_file=log_file,
        )
    control = Celery(broker=broker_url).control
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the Celery worker exited at start ({log_path})")
        if any(node in reply for reply in control.ping(destination=[node], timeout=1.0)):
            return proc
    stop(proc)
    raise SystemExit(f"the Celery worker did not answer within 60 s (its log: {log_path})")


def last_notification_id() -> int:
    from django.db.models import Max

    from apps.notifications.models import Notification

    return Notification.objects.aggregate(last=Max("pk"))["last"] or 0


def wait_drained(after_notification: int) -> float | None:
    """Seconds until every event is dispatched and every e-mail queued after
    ``after_notification`` is sent (at once when the tasks ran eagerly); None after
    ``DRAIN_SECONDS``."""
    from apps.integrations.models import OutboxEvent
    from apps.notifications.models import Notification

    started = time.monotonic()
    while time.monotonic() - started < DRAIN_SECONDS:
        events = OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()
        mails = Notification.objects.filter(
            pk__gt=after_notification, status=Notification.Status.QUEUED
        ).exists()
        if not events and not mails:
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def run_mode(mode: str, args, *, scenarios, bodies, plan, own_slices, hot, codes, access):
    """Every round of ``plan`` on a gunicorn (and, for ``broker``, a Celery worker) of its
    own; returns the rows and the access tokens (made on the first mode's server)."""
    from django.db import connections

    from apps.integrations.models import OutboxEvent

    port = free_port()
    proc = start_gunicorn(port, args.workers, backlog=2048)
    worker = start_worker(args.broker_url) if mode == "broker" else None
    groups = [proc.pid] + ([worker.pid] if worker else [])
    runs: list[tuple[str, dict]] = []
    try:
        if access is None:
            log(f"tokens for {len(codes)} dealers")
            access = tokens(port, [owner_email(code) for code in codes])
        warm = 2 * args.workers  # every worker has loaded and placed before the clock runs
        log(f"{mode}: warm-up: {warm} orders")
        before = last_notification_id()
        drive(port, access[:warm], order_bodies(own_slices[:warm], 1, args.lines, args.seed - 1))
        if wait_drained(before) is None:
            raise SystemExit(f"the warm-up's tasks were not done within {DRAIN_SECONDS} s")
        for round_number, name in plan:
            reset(stock=args.stock, hot_skus=hot, hot_stock=scenarios[name][1])
            connections.close_all()
            log(
                f"{mode} round {round_number} {name}: {args.clients} clients x {args.orders} "
                f"orders of {args.lines} lines (load average {os.getloadavg()[0]:.1f})"
            )
            before = last_notification_id()
            web_cpu, task_cpu = group_cpu(groups[:1]), group_cpu(groups[1:])
            result = drive(port, access, bodies[name])
            drained = wait_drained(before)
            placed = max(result["placed"], 1)
            result["web_ms"] = (group_cpu(groups[:1]) - web_cpu) * 1000 / placed
            result["task_ms"] = (group_cpu(groups[1:]) - task_cpu) * 1000 / placed
            result["drain"] = drained
            result["ops_drained"] = (
                result["placed"] / (result["elapsed"] + drained) if drained is not None else 0.0
            )
            result["check"] = check(result["placed"])
            if drained is None:
                left = OutboxEvent.objects.filter(dispatched_at__isnull=True).count()
                result["check"] += f"; tasks not done after {DRAIN_SECONDS} s ({left} events)"
            result["round"] = round_number
            result["mode"] = mode
            result["load"] = os.getloadavg()[0]
            connections.close_all()
            log(f"{mode} {name}: {result['statuses']} in {result['elapsed']:.1f} s")
            runs.append((name, result))
    finally:
        if worker is not None:
            stop(worker)
        stop_gunicorn(proc)
    return runs, access


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop gunicorn on the way out
    url = database_url(DEFAULT_DATABASE_URL)
    use_bench_env(url, redis_url=os.environ.get("REDIS_URL", DEFAULT_REDIS_URL))
    ensure_database(url)
    log("migrating")
    manage("migrate", "--noinput")
    setup_django()
    from django.db import connection, connections

    seed_dealers(args.dealers)
    seed_products(args.products, args.stock)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    from apps.catalog.models import Product

    skus = list(
        Product.objects.filter(sku__startswith=SKU_PREFIX)
        .order_by("sku")
        .values_list("sku", flat=True)
    )[: args.products]
    codes = [f"{CODE_PREFIX}{n:04d}" for n in range(1, args.clients + 1)]
    per_client = len(skus) // args.clients
    own_slices = [skus[i * per_client : (i + 1) * per_client] for i in range(args.clients)]
    hot = skus[: args.hot]
    expected_per_hot = args.clients * args.orders * args.lines * 2 / args.hot  # 2 = mean qty
    sold_out_stock = int(expected_per_hot * args.sold_out_share)
    scenarios = {
        "uncontended": (own_slices, args.stock),
        "contended": ([hot] * args.clients, args.stock),
        "sold-out": ([hot] * args.clients, sold_out_stock),
    }
    bodies = {
        name: order_bodies(pools, args.orders, args.lines, args.seed + number)
        for number, (name, (pools, _stock)) in enumerate(scenarios.items())
    }
    plan = []  # the same orders every round; which of the two goes first alternates
    for number in range(args.rounds):
        pair = ["uncontended", "contended"]
        plan += [(number + 1, name) for name in (pair if number % 2 == 0 else pair[::-1])]
    if args.sold_out:
        plan.append((1, "sold-out"))
    warm_price_cache()
    connections.close_all()

    runs: list[tuple[str, dict]] = []
    access = None
    for mode in ("eager", "broker") if args.broker else ("eager",):
        if mode == "broker":  # what gunicorn and the worker are started with from here on
            os.environ.update(CELERY_TASK_ALWAYS_EAGER="0", CELERY_BROKER_URL=args.broker_url)
        mode_runs, access = run_mode(
            mode,
            args,
            scenarios=scenarios,
            bodies=bodies,
            plan=plan,
            own_slices=own_slices,
            hot=hot,
            codes=codes,
            access=access,
        )
        runs += mode_runs
    connections.close_all()
    cold = skus[args.hot :]  # stock left whatever ran (the sold-out runs empty the hot ones)
    query_counts = queries_per_placement(access[0], [cold[1:2], cold[2:22]], warm=cold[0])
    results: dict[tuple[str, str], dict] = {}  # the best round of each scenario in each mode
    for name, r in runs:
        key = (r["mode"], name)
        if key not in results or r["ops"] > results[key]["ops"]:
            results[key] = r

    print()
    print(
        f"data: {args.dealers} dealers (owner, 2 default addresses, generous credit limit), "
        f"{len(skus)} products with LIST prices, 2 warehouses ({args.stock} units per product, "
        f"60/40); uncontended: {per_client} own products per dealer; contended: the same "
        f"{args.hot} products for all"
        + (f"; sold-out: {sold_out_stock} units per hot product" if args.sold_out else "")
    )
    print(
        f"load: {args.clients} concurrent clients (threads, http.client; sync workers close "
        f"the connection after each answer) x {args.orders} orders of {args.lines} lines "
        f"(1-3 units, on_account); server: gunicorn {args.workers} sync workers, DEBUG=0, "
        f"rate limits off, loopback; tasks: eager (in the request after the commit)"
        + (", and broker (Redis, one Celery worker process, solo pool)" if args.broker else "")
        + f"; CPUs: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f} at the end"
    )
    print()
    print(
        f"{'mode':<7}{'scenario':<13}{'round':>6}{'orders':>8}{'201':>6}{'409':>6}{'errors':>8}"
        f"{'orders/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'drain s':>9}"
        f"{'drained/s':>11}{'web ms':>8}{'task ms':>9}{'load':>6}  database"
    )
    for name, r in runs:
        best = results[(r["mode"], name)] is r and args.rounds > 1 and name != "sold-out"
        drain = f"{r['drain']:.1f}" if r["drain"] is not None else "-"
        print(
            f"{r['mode']:<7}{name:<13}{r['round']:>6}{r['requests']:>8}{r['placed']:>6}"
            f"{r['refused']:>6}{r['errors']:>8}{r['ops']:>10.1f}{r['p50_ms']:>9.0f}"
            f"{r['p95_ms']:>9.0f}{r['p99_ms']:>9.0f}{drain:>9}{r['ops_drained']:>11.1f}"
            f"{r['web_ms']:>8.1f}{r['task_ms']:>9.1f}{r['load']:>6.1f}  {r['check']}"
            + ("  (best)" if best else "")
        )
    print(
        "orders/s: 201 answers over the time to the last answer; drained/s: over the time "
        "until the tasks were done too; web ms / task ms: CPU per placed order of the gunicorn "
        "workers / of the Celery worker"
    )
    print(
        "SQL statements per placement (whole request, in process, savepoints included): "
        + ", ".join(
            f"{size} line{'s' if size > 1 else ''}: {n}" for size, n in query_counts.items()
        )
    )
    print()
    for mode in ("eager", "broker") if args.broker else ("eager",):
        base, hot_run = results[(mode, "uncontended")], results[(mode, "contended")]
        print(
            f"{mode}: contended / uncontended (best of {args.rounds}): orders/s "
            f"{hot_run['ops']:.1f} / {base['ops']:.1f} = {hot_run['ops'] / base['ops']:.2f}, "
            f"p95 {hot_run['p95_ms']:.0f} / {base['p95_ms']:.0f} ms = "
            f"{hot_run['p95_ms'] / base['p95_ms']:.2f}x"
        )
    if args.broker:
        for name in ("uncontended", "contended"):
            eager, broker = results[("eager", name)], results[("broker", name)]
            print(
                f"{name}: broker / eager (best of {args.rounds}): orders/s "
                f"{broker['ops']:.1f} / {eager['ops']:.1f}, until drained "
                f"{broker['ops_drained']:.1f} / {eager['ops_drained']:.1f}"
            )
    failed = sorted(
        {
            f"{r['mode']} {name}"
            for name, r in runs
            if r["errors"]
            or not r["check"].startswith("ok")
            or (name != "sold-out" and r["refused"])
        }
    )
    if failed:
        raise SystemExit(f"unexpected answers or inconsistent data in: {', '.join(failed)}")


if __name__ == "__main__":
    main()
