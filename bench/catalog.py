#!/usr/bin/env python
"""Catalog benchmark: the dealer product list against a trivial authenticated endpoint.

What it does, each step bounded:
1. creates the PostgreSQL database of ``DATABASE_URL`` (default
   ``postgres://postgres@127.0.0.1:5432/b2b_catbench``) when missing and migrates it;
2. seeds it with ``manage.py seed_demo --products N --dealers M`` (skipped when the data is
   already there). When seed_demo leaves fewer than N products, the missing ones are created
   here with bulk_create: a 3-level category tree (10 x 10 x 10), 50 brands, two warehouses
   of stock, search documents as the catalog services build them;
3. prints EXPLAIN ANALYZE of the category-filtered and the searched page query and count
   (which indexes PostgreSQL uses);
4. starts gunicorn on a loopback port (several workers, DEBUG=0, rate limits off, access log
   off), logs the demo dealer in, and measures with wrk (a thread loop if wrk is missing):
   ``GET /api/v1/me`` and ``GET /api/v1/products?page_size=50`` filtered by a category, by a
   search term, and unfiltered, each for ``--duration`` seconds after a short warm-up;
5. prints requests/s, p50/p95/p99 and the ratios to ``/me``, then stops gunicorn.

    .venv/bin/python bench/catalog.py [--products 100000] [--dealers 1000] [--duration 15]
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/b2b_catbench"
DEALER_EMAIL = "owner@demo001.example.com"
DEALER_PASSWORD = "Demo-Dealer-2026"  # noqa: S105 - the printed demo login
BENCH_SKU_PREFIX = "BENCH-"

WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nBENCH {"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d, '
    .. '"p50_us": %d, "p95_us": %d, "p99_us": %d, "mean_us": %.1f}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean))
end
"""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--dealers", type=int, default=1000)
    parser.add_argument("--duration", type=int, default=15, help="seconds per scenario")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per scenario")
    parser.add_argument("--workers", type=int, default=max(2, (os.cpu_count() or 2) * 2))
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--category", help="category slug (default: the largest root)")
    parser.add_argument("--search", help="search term (default: a common name word)")
    parser.add_argument("--no-explain", action="store_true")
    parser.add_argument("--explain-only", action="store_true", help="seed, EXPLAIN, no load")
    return parser.parse_args()


def bench_env() -> dict[str, str]:
    env = {
        "DATABASE_URL": os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/10"),
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "RATE_LIMIT_USER": "off",
        "RATE_LIMIT_IP": "off",
        "RATE_LIMIT_API_KEY": "off",
        "LOG_LEVEL": "WARNING",
        "JWT_ACCESS_MINUTES": "120",
    }
    env.pop("CELERY_BROKER_URL", None)
    return env


# --- database -----------------------------------------------------------------------------------


def ensure_database(url: str) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise SystemExit(f"refusing an unusual database name: {name!r}")
    admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            log(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def manage(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own manage.py
        [PYTHON, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=os.environ.copy(),
        check=check,
        text=True,
        capture_output=True,
    )


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def seed(args: argparse.Namespace) -> str:
    """Returns how the products came to be (for the report)."""
    from apps.accounts.models import Customer
    from apps.catalog.models import Product

    have_products = Product.objects.count()
    have_dealers = Customer.all_objects.filter(code__startswith="DEMO").count()
    wanted_dealers = min(args.dealers, 999)
    if have_products >= args.products and have_dealers >= wanted_dealers:
        log(f"data present: {have_products} products, {have_dealers} demo dealers")
        return "already present"
    for dealers in dict.fromkeys([args.dealers, wanted_dealers]):
        log(f"seed_demo --products {args.products} --dealers {dealers} (slow: password hashes)")
        started = time.monotonic()
        result = manage(
            "seed_demo", "--products", str(args.products), "--dealers", str(dealers), check=False
        )
        if result.returncode == 0:
            log(f"seed_demo done in {time.monotonic() - started:.0f} s")
            break
        log(f"seed_demo --dealers {dealers} failed: {result.stderr.strip()[-300:]}")
    else:
        raise SystemExit("seed_demo failed")
    have_products = Product.objects.count()
    if have_products >= args.products:
        return f"seed_demo ({have_products} products)"
    missing = args.products - have_products
    log(f"seed_demo made {have_products} products: creating {missing} more with bulk_create")
    fill_products(missing)
    return f"seed_demo made {have_products}; bench/catalog.py bulk-created {missing}"


WORDS = {
    "nouns": [
        "kablo",
        "cable",
        "priz",
        "socket",
        "anahtar",
        "switch",
        "sigorta",
        "breaker",
        "kontaktor",
        "contactor",
        "lamba",
        "lamp",
        "armatur",
        "fixture",
        "pano",
        "panel",
        "klemens",
        "terminal",
        "role",
        "relay",
        "trafo",
        "transformer",
        "motor",
        "pompa",
        "pump",
        "fan",
        "vantilator",
        "matkap",
        "drill",
        "vida",
        "screw",
        "dubel",
        "anchor",
        "boru",
        "pipe",
        "vana",
        "valve",
        "sensor",
        "dedektor",
        "detector",
        "kamera",
        "camera",
    ],
    "adjectives": [
        "akilli",
        "smart",
        "endustriyel",
        "industrial",
        "dijital",
        "digital",
        "kompakt",
        "compact",
        "sessiz",
        "silent",
        "guclu",
        "powerful",
        "ekonomik",
        "economic",
        "profesyonel",
        "professional",
        "modular",
        "su_gecirmez",
        "waterproof",
    ],
}


def fill_products(count: int) -> None:
    import random

    from django.db import transaction

    from apps.catalog.cache import catalog_cache_bump
    from apps.catalog.models import Brand, Category, Product
    from apps.catalog.search import build_search_document
    from apps.catalog.services.categories import category_create
    from apps.inventory.models import StockLevel, Warehouse

    rng = random.Random(2026)  # noqa: S311 - test data
    leaves = list(Category.objects.filter(depth=3, slug__startswith="bench-"))
    if not leaves:
        log("creating the 3-level bench category tree (10 x 10 x 10)")
        for i in range(10):
            root = category_create(name=f"Bench {i}", sort_order=i)
            for j in range(10):
                middle = category_create(name=f"Group {i}.{j}", parent=root, sort_order=j)
                for k in range(10):
                    leaves.append(
                        category_create(name=f"Line {i}.{j}.{k}", parent=middle, sort_order=k)
                    )
    brands = []
    for n in range(50):
        brand, _ = Brand.objects.get_or_create(
            slug=f"bench-brand-{n}", defaults={"name": f"Benchmark Brand {n}"}
        )
        brands.append(brand)
    catalog_cache_bump()
    warehouses = [
        Warehouse.objects.get_or_create(code=code, defaults={"name": name, "sort_order": n})[0]
        for n, (code, name) in enumerate([("BENCH-IST", "İstanbul"), ("BENCH-ANK", "Ankara")])
    ]
    start = Product.all_objects.filter(sku__startswith=BENCH_SKU_PREFIX).count()
    batch = 5000
    for offset in range(0, count, batch):
        products = []
        for n in range(start + offset, start + min(offset + batch, count)):
            brand = rng.choice(brands) if n % 10 else None
            noun = rng.choice(WORDS["nouns"])
            name = (
                f"{rng.choice(WORDS['adjectives']).replace('_', ' ')} {noun} "
                f"{rng.randint(1, 400)}{rng.choice(['W', 'A', 'V', 'mm', 'm'])} "
                f"model {rng.randint(100, 999)}"
            ).capitalize()
            sku = f"{BENCH_SKU_PREFIX}{n:07d}"
            barcodes = [f"869{rng.randint(0, 10**10 - 1):010d}"]
            attributes = {"power_w": rng.randint(1, 2000), "colour": rng.choice(["white", "grey"])}
            products.append(
                Product(
                    sku=sku,
                    name=name,
                    description=f"{name}. Benchmark product.",
                    brand=brand,
                    category=rng.choice(leaves),
                    vat_rate=20,
                    barcodes=barcodes,
                    attributes=attributes,
                    search_document=build_search_document(
                        sku=sku,
                        name=name,
                        brand_name=brand.name if brand else None,
                        barcodes=barcodes,
                        attributes=attributes,
                    ),
                )
            )
        with transaction.atomic():
            created = Product.objects.bulk_create(products)
            StockLevel.objects.bulk_create(
                StockLevel(
                    product=product,
                    warehouse=warehouse,
                    on_hand=(on_hand := rng.choice([0, 3, 12, 40, 250])),
                    reserved=min(on_hand, rng.choice([0, 0, 1, 5])),
                )
                for product in created
                for warehouse in warehouses
            )
        log(f"  {start + offset + len(products)} bench products")


def pick_category(args) -> tuple[str, int]:
    """The active root category with the most visible products (or --category)."""
    from django.db.models import Count

    from apps.catalog.models import Category, Product

    if args.category:
        category = Category.objects.get(slug=args.category)
    else:
        counts = collections.Counter(
            dict(
                Product.objects.visible()
                .values_list("category__path")
                .annotate(n=Count("pk"))
                .values_list("category__path", "n")
            )
        )
        roots: collections.Counter = collections.Counter()
        for path, n in counts.items():
            roots[path[:4]] += n
        category = Category.objects.get(path=roots.most_common(1)[0][0])
    count = Product.objects.visible().filter(category__path__startswith=category.path).count()
    return category.slug, count


def pick_search_term(args) -> tuple[str, int]:
    """A word of product names found in roughly 2 % of the products (or --search)."""
    from apps.catalog.models import Product
    from apps.catalog.selectors import product_list, product_search

    total = Product.objects.visible().count()
    if args.search:
        term = args.search
    else:
        every = list(Product.objects.visible().order_by("pk").values_list("name", flat=True))
        names = every[:: max(1, len(every) // 3000)]  # a fixed sample: the same term each run
        words = collections.Counter(
            word for name in names for word in set(re.findall(r"[^\W\d_]{4,}", name.lower()))
        )
        target = 0.02 * len(names)
        term = min(words, key=lambda word: abs(words[word] - target))
    count = product_search(product_list(), term=term).count()
    log(f"search term {term!r}: {count} of {total} products match")
    return term, count


# --- EXPLAIN ------------------------------------------------------------------------------------


def explain(category_slug: str, term: str, page_size: int) -> None:
    from django.http import QueryDict

    from apps.catalog.api.filters import ProductFilter
    from apps.catalog.selectors import product_list

    for label, params in [
        ("category", f"category={category_slug}"),
        ("search", urllib.parse.urlencode({"search": term})),
    ]:
        filterset = ProductFilter(QueryDict(params), queryset=product_list())
        assert filterset.is_valid(), filterset.errors
        queryset = filterset.qs
        print(f"\n--- EXPLAIN ANALYZE: page of {page_size}, {label} ({params}) ---")
        print(queryset[:page_size].explain(analyze=True, buffers=True))
        print(f"--- EXPLAIN ANALYZE: count, {label} ---")
        print(queryset.order_by().values("pk").explain(analyze=True))


# --- HTTP ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int, workers: int) -> subprocess.Popen:
    command = [
        str(Path(PYTHON).with_name("gunicorn")),
        "-c",
        str(ROOT / "config/gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        "/dev/null",
        "config.wsgi:application",
    ]
    log(f"starting gunicorn ({workers} workers) on 127.0.0.1:{port}")
    proc = subprocess.Popen(  # noqa: S603 - our own server
        command,
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited: {proc.stderr.read()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=2):
                return proc
        except OSError:
            time.sleep(0.3)
    stop_gunicorn(proc)
    raise SystemExit("gunicorn did not answer within 60 s")


def stop_gunicorn(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=35)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log("gunicorn stopped")


def request_json(url: str, *, token: str | None = None, body: dict | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 - loopback
    with urllib.request.urlopen(req, timeout=30) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def run_wrk(url: str, token: str, seconds: int, args, script: str) -> dict:
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        script,
        "-H",
        f"Authorization: Bearer {token}",
        "-H",
        "Accept-Encoding: gzip",
        url,
    ]
    options = {"capture_output": True, "text": True, "check": True, "timeout": seconds + 60}
    result = subprocess.run(command, **options)  # noqa: S603 - wrk on loopback
    line = next(line for line in result.stdout.splitlines() if line.startswith("BENCH "))
    data = json.loads(line[len("BENCH ") :])
    return {
        "rps": data["requests"] / (data["duration_us"] / 1e6),
        "p50_ms": data["p50_us"] / 1000,
        "p95_ms": data["p95_us"] / 1000,
        "p99_ms": data["p99_us"] / 1000,
        "requests": data["requests"],
        "errors": data["status_errors"] + data["socket_errors"],
    }


def run_threads(url: str, token: str, seconds: int, args) -> dict:
    """A plain keep-alive thread loop, when wrk is not installed."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker():
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        mine = []
        while time.monotonic() < deadline:
            started = time.perf_counter()
            conn.request(
                "GET", path, headers={"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
            )
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(args.connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] * 1000

    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "requests": len(latencies),
        "errors": errors[0],
    }


def measure(url: str, token: str, args, script: str | None) -> dict:
    if script:
        run_wrk(url, token, args.warmup, args, script)
        return run_wrk(url, token, args.duration, args, script)
    run_threads(url, token, args.warmup, args)
    return run_threads(url, token, args.duration, args)


def main() -> None:
    args = parse_args()
    os.environ.update(bench_env())
    ensure_database(os.environ["DATABASE_URL"])
    log("migrating")
    manage("migrate", "--noinput")
    setup_django()
    origin = seed(args)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # statistics and visibility map of the fresh data

    from apps.catalog.models import Category, Product

    visible = Product.objects.visible().count()
    categories = Category.objects.count()
    category_slug, category_count = pick_category(args)
    term, term_count = pick_search_term(args)
    log(f"category {category_slug!r}: {category_count} of {visible} products")
    if not args.no_explain:
        explain(category_slug, term, args.page_size)
    if args.explain_only:
        return
    from django.db import connections

    connections.close_all()

    tool = "wrk" if shutil.which("wrk") else "python threads"
    tmpdir = tempfile.mkdtemp(prefix="bench-catalog-")
    script = None
    if tool == "wrk":
        script = os.path.join(tmpdir, "report.lua")
        Path(script).write_text(WRK_REPORT)
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v1"
    proc = start_gunicorn(port, args.workers)
    results = {}
    try:
        token = request_json(
            f"{base}/auth/token", body={"email": DEALER_EMAIL, "password": DEALER_PASSWORD}
        )["access"]
        page = f"page_size={args.page_size}"
        scenarios = {
            "me": f"{base}/me",
            "products?category": f"{base}/products?{page}&category={category_slug}",
            "products?search": f"{base}/products?{page}&"
            + urllib.parse.urlencode({"search": term}),
            "products (no filter)": f"{base}/products?{page}",
        }
        for name, url in scenarios.items():
            probe = request_json(url, token=token)
            if name != "me":
                assert len(probe["results"]) == min(args.page_size, probe["count"]), name
            log(f"measuring {name} for {args.duration} s ({tool}, {args.connections} conn.)")
            results[name] = measure(url, token, args, script)
    finally:
        stop_gunicorn(proc)
        shutil.rmtree(tmpdir, ignore_errors=True)

    me = results["me"]
    print()
    print(
        f"data: {visible} visible products ({origin}), {categories} categories; "
        f"category {category_slug!r} holds {category_count}; search {term!r} matches "
        f"{term_count}"
    )
    print(
        f"server: gunicorn {args.workers} sync workers, DEBUG=0, rate limits off, loopback; "
        f"load: {tool}, {args.connections} connections, {args.duration} s per scenario after "
        f"{args.warmup} s warm-up, Accept-Encoding: gzip; CPUs: {os.cpu_count()}"
    )
    print()
    header = f"{'scenario':<22}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
    print(header + f"{'errors':>8}{'rps vs me':>11}{'p50 vs me':>11}")
    for name, r in results.items():
        print(
            f"{name:<22}{r['rps']:>9.1f}{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}{r['p99_ms']:>9.1f}"
            f"{r['errors']:>8}{r['rps'] / me['rps']:>11.2f}{r['p50_ms'] / me['p50_ms']:>11.2f}"
        )
    if any(r["errors"] for r in results.values()):
        raise SystemExit("some requests failed")


if __name__ == "__main__":
    main()
