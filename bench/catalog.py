#!/usr/bin/env python
"""Catalog benchmark: the dealer product list against a trivial authenticated endpoint.

What it does, each step bounded:
1. creates the PostgreSQL database of ``DATABASE_URL`` (default
   ``postgres://postgres@127.0.0.1:5432/b2b_catbench``; it refuses a name without "bench")
   when missing and migrates it;
2. seeds it with ``manage.py seed_demo --products N --dealers M`` (skipped when the data is
   already there). When seed_demo leaves fewer than N products, the missing ones are created
   here with bulk_create: a 3-level category tree (10 x 10 x 10), 50 brands, two warehouses
   of stock, search documents as the catalog services build them;
3. prices them, set-based and idempotent (``seed_prices``): every product a LIST price with a
   quantity break at 10, every other product (even ids) a tier-B price, ``--special-prices``
   (500) special prices for the benchmark dealer (``--dealer-email``, by default the owner of
   the tier-B demo dealer DEMO002) and 3 live campaigns reaching it (3 % for everyone, 8 % on
   a category, 10 % on 5 brands for its tier; other campaigns are deactivated in this
   database);
4. prints EXPLAIN ANALYZE of the category-filtered, the searched, the price-ordered and the
   price-filtered page query and count (which indexes PostgreSQL uses), and the number of
   queries per request at two page sizes (in-process: it must not grow with the page);
5. starts gunicorn on a loopback port (several workers, DEBUG=0, rate limits off, access log
   off), logs the dealer in, checks that a page of each scenario carries the expected prices
   (source special / tier / list, campaign, unit price; price order and range), and measures
   with wrk (a thread loop if wrk is missing): ``GET /api/v1/me`` and
   ``GET /api/v1/products?page_size=50`` filtered by a category, by a search term, unfiltered,
   ordered by price, filtered by a price range, random pages (1 to ``--max-page``) in name
   and in price order, each for ``--duration`` seconds after a
   short warm-up; a scenario whose single requests (up to 3, one at a time) all take longer
   than ``--slow-limit`` (5 s) is reported with their times instead of being load-tested (the
   server's timeout is raised to let them answer);
6. prints requests/s, p50/p95/p99 and the ratios to ``/me``, then stops gunicorn.

    .venv/bin/python bench/catalog.py [--products 100000] [--dealers 1000] [--duration 15]
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import os
import random
import re
import shutil
import tempfile
import threading
import time
import urllib.parse

from _common import (
    database_url,
    ensure_database,
    free_port,
    log,
    login,
    manage,
    measure,
    percentile_ms,
    request_json,
    run_wrk,
    setup_django,
    start_gunicorn,
    stop_gunicorn,
    use_bench_env,
    worker_rss_mb,
    wrk_script,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/b2b_catbench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/10"
DEFAULT_DEALER_EMAIL = "owner@demo002.example.com"  # DEMO002, tier B
DEALER_PASSWORD = "Demo-Dealer-2026"  # noqa: S105 - the printed demo login
BENCH_SKU_PREFIX = "BENCH-"
BENCH_CAMPAIGN_PREFIX = "Bench: "
STALE_STATS_TABLES = (
    "catalog_product",
    "catalog_category",
    "pricing_price",
    "pricing_specialprice",
    "pricing_priceindex",
    "inventory_stocklevel",
)
STALE_STATS_SQL = (
    "DELETE FROM pg_statistic WHERE starelid IN ("  # noqa: S608  (constant table names)
    + ", ".join(f"'{table}'::regclass" for table in STALE_STATS_TABLES)
    + ")"
)
RANDOM_PAGES = """
request = function()
  return wrk.format("GET", "{path}&page=" .. math.random(1, {pages}))
end
"""
CAMPAIGN_BRANDS = 5


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--dealers", type=int, default=1000)
    parser.add_argument("--duration", type=int, default=15, help="seconds per scenario")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per scenario")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--category", help="category slug (default: the largest root)")
    parser.add_argument("--search", help="search term (default: a common name word)")
    parser.add_argument(
        "--dealer-email",
        default=os.environ.get("BENCH_DEALER_EMAIL", DEFAULT_DEALER_EMAIL),
        help=f"the dealer user to log in as (default {DEFAULT_DEALER_EMAIL}, tier B)",
    )
    parser.add_argument("--special-prices", type=int, default=500, help="for the dealer")
    parser.add_argument("--price-min", default="100", help="price_min of the price-range scenario")
    parser.add_argument("--price-max", default="200", help="price_max of the price-range scenario")
    parser.add_argument(
        "--slow-limit",
        type=float,
        default=5.0,
        help="seconds: a scenario whose single requests (up to 3) all take longer is reported "
        "with their times instead of being load-tested",
    )
    parser.add_argument("--max-page", type=int, default=2000, help="random pages 1..N")
    parser.add_argument(
        "--stale-stats",
        action="store_true",
        help="measure with the planner statistics of the catalog and price tables removed, as "
        "right after a bulk load with autovacuum behind",
    )
    parser.add_argument(
        "--browse",
        type=int,
        default=0,
        metavar="SECONDS",
        help="then many browsing users: --browse-connections connections for this long over "
        "the default page, search, category, price order and random pages; p99 per minute and "
        "the workers' memory",
    )
    parser.add_argument("--browse-connections", type=int, default=1000)
    parser.add_argument(
        "--think-ms",
        type=int,
        default=0,
        help="browsing users (a thread each) wait a random 0..2x this many ms between two pages "
        "(mean: this); 0: wrk without think time (saturation)",
    )
    parser.add_argument("--browse-only", action="store_true", help="skip the scenarios")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class")
    parser.add_argument("--threads-per-worker", type=int, default=1, help="gthread threads")
    parser.add_argument("--no-explain", action="store_true")
    parser.add_argument("--explain-only", action="store_true", help="seed, EXPLAIN, no load")
    return parser.parse_args()


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


# --- prices -------------------------------------------------------------------------------------

LIST_PRICE_SQL = """
INSERT INTO pricing_price (price_list_id, product_id, min_quantity, amount, created_at, updated_at)
SELECT %(list)s, p.id, b.q, round((1250 + (p.id * 7919) %% 250000) / 100.0 * b.f, 4), now(), now()
FROM catalog_product p CROSS JOIN (VALUES (1, 1.00), (10, 0.95)) AS b (q, f)
WHERE NOT EXISTS (
    SELECT 1 FROM pricing_price x
    WHERE x.price_list_id = %(list)s AND x.product_id = p.id AND x.min_quantity = b.q
)
ON CONFLICT (price_list_id, product_id, min_quantity) DO NOTHING
"""
TIER_PRICE_SQL = """
INSERT INTO pricing_price (price_list_id, product_id, min_quantity, amount, created_at, updated_at)
SELECT %(tier)s, l.product_id, 1, round(l.amount * 0.85, 4), now(), now()
FROM pricing_price l
WHERE l.price_list_id = %(list)s AND l.min_quantity = 1 AND l.product_id %% 2 = 0
  AND NOT EXISTS (
    SELECT 1 FROM pricing_price x
    WHERE x.price_list_id = %(tier)s AND x.product_id = l.product_id AND x.min_quantity = 1
  )
ON CONFLICT (price_list_id, product_id, min_quantity) DO NOTHING
"""
TIER_UNPRICE_SQL = (
    "DELETE FROM pricing_price WHERE price_list_id = %(tier)s AND product_id %% 2 = 1"
)


def dealer_get(email: str):
    from apps.accounts.models import User

    user = User.objects.select_related("customer").filter(email__iexact=email).first()
    if user is None or user.customer is None:
        raise SystemExit(f"no dealer user {email!r} (seed_demo makes owner@demo00N.example.com)")
    return user.customer


def largest_root():
    """The active root category with the most visible products."""
    from django.db.models import Count

    from apps.catalog.models import Category, Product

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
    return Category.objects.get(path=roots.most_common(1)[0][0])


def seed_prices(args, dealer) -> str:
    """Prices for every product, special prices and 3 campaigns for ``dealer``; set-based and
    idempotent (a second run changes nothing). Returns a summary for the report."""
    from decimal import Decimal

    from django.db import connection, transaction
    from django.db.models import Count
    from django.utils import timezone

    from apps.campaigns.models import Audience, Campaign
    from apps.campaigns.rules import active_campaign_rules, campaigns_bump
    from apps.catalog.models import Brand, Product
    from apps.catalog.selectors import product_list
    from apps.demo.catalog import insert_rows
    from apps.pricing.engine import prices_bump
    from apps.pricing.models import Price, PriceIndex, PriceList, SpecialPrice

    started = time.monotonic()
    lists = {pl.code: pl.pk for pl in PriceList.objects.all()}
    tier = dealer.tier
    codes = {"list": lists["LIST"], "tier": lists[tier]}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(LIST_PRICE_SQL, codes)
        listed = cursor.rowcount
        cursor.execute(TIER_UNPRICE_SQL, codes)
        unpriced = cursor.rowcount
        cursor.execute(TIER_PRICE_SQL, codes)
        tiered = cursor.rowcount
    prices_bump()
    if listed or unpriced or tiered:
        log(
            f"prices: {listed} LIST rows added (breaks 1 and 10), {tiered} tier-{tier} rows "
            f"added (even product ids), {unpriced} tier-{tier} rows of odd ids removed"
        )

    # special prices: every other product of the first unfiltered page (so a page shows all
    # three sources), the rest spread evenly over the catalog in the list's order
    ids = list(product_list().order_by("name", "id").values_list("pk", flat=True))
    first = min(args.special_prices, args.page_size // 2)
    rest = ids[args.page_size :]
    spread = min(args.special_prices - first, len(rest))  # distinct products
    chosen = ids[: 2 * first : 2] + [rest[i * len(rest) // spread] for i in range(spread)]
    specials = SpecialPrice.objects.filter(customer=dealer)
    if (
        set(specials.values_list("product_id", flat=True)) != set(chosen)
        or specials.exclude(min_quantity=1, valid_from=None, valid_to=None).exists()
    ):
        list_amounts = dict(
            Price.objects.filter(
                price_list_id=lists["LIST"], min_quantity=1, product_id__in=chosen
            ).values_list("product_id", "amount")
        )
        now = timezone.now()
        with transaction.atomic():
            specials.delete()
            insert_rows(
                SpecialPrice,
                [
                    {
                        "customer_id": dealer.pk,
                        "product_id": pid,
                        "min_quantity": 1,
                        "amount": (list_amounts[pid] * Decimal("0.70")).quantize(Decimal("0.0001")),
                        "created_at": now,
                        "updated_at": now,
                    }
                    for pid in chosen
                ],
            )
        log(f"special prices: {len(chosen)} for {dealer.code} (70 % of LIST)")

    # campaigns: exactly these three are live for the dealer
    category = largest_root()
    brands = list(
        Brand.objects.filter(products__in=Product.objects.visible())
        .annotate(n=Count("products"))
        .order_by("-n", "pk")[:CAMPAIGN_BRANDS]
    )
    wanted = [
        (
            f"{BENCH_CAMPAIGN_PREFIX}3% for every dealer",
            {"audience": Audience.EVERYONE, "tiers": [], "scope": Campaign.Scope.EVERYTHING},
            "3",
            {},
        ),
        (
            f"{BENCH_CAMPAIGN_PREFIX}8% on {category.name}",
            {"audience": Audience.EVERYONE, "tiers": [], "scope": Campaign.Scope.CATEGORIES},
            "8",
            {"categories": [category]},
        ),
        (
            f"{BENCH_CAMPAIGN_PREFIX}10% on {len(brands)} brands for tier {tier}",
            {"audience": Audience.TIERS, "tiers": [tier], "scope": Campaign.Scope.BRANDS},
            "10",
            {"brands": brands},
        ),
    ]
    keep = []
    for name, fields, percent, sets in wanted:
        defaults = {
            **fields,
            "discount_type": Campaign.DiscountType.PERCENTAGE,
            "discount_value": Decimal(percent),
            "min_quantity": 1,
            "is_active": True,
            "starts_at": None,
            "ends_at": None,
            "priority": 0,
            "applies_to_special_prices": False,
        }
        campaign = Campaign.objects.filter(name=name).first()
        if campaign is None or any(getattr(campaign, k) != v for k, v in defaults.items()):
            campaign, _ = Campaign.objects.update_or_create(name=name, defaults=defaults)
        for relation in ("categories", "brands"):
            targets = sets.get(relation, [])
            if {x.pk for x in getattr(campaign, relation).all()} != {x.pk for x in targets}:
                getattr(campaign, relation).set(targets)
        keep.append(campaign.pk)
    stale = Campaign.objects.filter(name__startswith=BENCH_CAMPAIGN_PREFIX).exclude(pk__in=keep)
    if stale.exists():
        stale.delete()
    others = Campaign.objects.filter(is_active=True).exclude(pk__in=keep)
    deactivated = list(others.values_list("name", flat=True))
    if deactivated:
        others.update(is_active=False)
        log(f"deactivated {len(deactivated)} other campaigns: {', '.join(deactivated)}")
    campaigns_bump()
    # the prices above were written with bulk SQL: bring the price index up to date with them
    from apps.pricing.index import price_index_sync

    index_started = time.monotonic()
    written = price_index_sync(force=True)["rows"]
    log(
        f"price index: {PriceIndex.objects.count()} rows ({written} written) in "
        f"{time.monotonic() - index_started:.1f} s"
    )

    now = timezone.now()
    live = [r for r in active_campaign_rules() if r.live_at(now) and r.reaches(dealer)]
    tier_priced = Price.objects.filter(price_list_id=lists[tier], min_quantity=1).count()
    list_priced = Price.objects.filter(price_list_id=lists["LIST"], min_quantity=1).count()
    log(f"prices ready in {time.monotonic() - started:.1f} s")
    return (
        f"{list_priced} LIST prices (+ a break at 10), {tier_priced} tier-{tier}, "
        f"{specials.count()} special prices of {dealer.code}; {len(live)} live campaigns "
        f"reach it: {'; '.join(r.name for r in live)}"
    )


def pick_category(args) -> tuple[str, int]:
    """The active root category with the most visible products (or --category)."""
    from apps.catalog.models import Category, Product

    category = Category.objects.get(slug=args.category) if args.category else largest_root()
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


def filtered(params: str, dealer):
    """The product list queryset of ``GET products?<params>`` for ``dealer``, as the view
    builds it (the filter reads the dealer from the request for the price filters)."""
    from types import SimpleNamespace

    from django.http import QueryDict

    from apps.catalog.api.filters import ProductFilter
    from apps.catalog.selectors import product_list

    request = SimpleNamespace(user=SimpleNamespace(customer=dealer))
    filterset = ProductFilter(QueryDict(params), queryset=product_list(), request=request)
    assert filterset.is_valid(), filterset.errors
    return filterset.qs


def captured_sql(run) -> list[str]:
    """The SQL statements ``run()`` sends, as sent (parameters inlined)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        run()
    return [q["sql"] for q in ctx.captured_queries]


def explain_sql(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def plan_summary(plan: str) -> str:
    """A long plan of correlated sub-queries, readable: the nodes of the main tree (no
    conditions, outputs or buffers), then one line per sub-plan (the node it hangs under, how
    often it ran and its total time), and the planning and execution times."""
    lines = plan.splitlines()
    indent = [len(line) - len(line.lstrip()) for line in lines]
    nodes, subplans = lines[:1], []
    stack = [(-1, re.sub(r"\s+\(cost=.*", "", lines[0]))]  # (indent, node) of the main tree
    inside = None  # the indent of the SubPlan line whose block we are in
    for i, line in enumerate(lines[1:], start=1):
        stripped = line.strip()
        if inside is not None and indent[i] <= inside:
            inside = None
        if inside is None and stripped.startswith("SubPlan"):
            inside = indent[i]
            while len(stack) > 1 and stack[-1][0] >= indent[i]:
                stack.pop()
            parent = stack[-1][1]
            match = re.search(r"actual time=[\d.]+\.\.([\d.]+) rows=\d+ loops=(\d+)", lines[i + 1])
            ms, loops = (float(match[1]), int(match[2])) if match else (0.0, 0)
            subplans.append((stripped, parent, loops, ms * loops))
        elif inside is None and stripped.startswith("->"):
            nodes.append(line)
            while len(stack) > 1 and stack[-1][0] >= indent[i]:
                stack.pop()
            stack.append((indent[i], re.sub(r"\s+\(cost=.*", "", stripped[2:].strip())))
    times = [
        line.strip()
        for line in lines
        if re.match(r"\s*(Planning Time|Execution Time|JIT:|Functions:|Timing:)", line)
    ]
    total = sum(ms for *_, ms in subplans)
    summary = [
        *nodes,
        f"{len(subplans)} sub-plans, {sum(n for _, _, n, _ in subplans)} executions, "
        f"{total:.0f} ms in all:",
    ]
    by_parent: dict[str, list] = collections.defaultdict(list)
    for name, under, loops, ms in subplans:
        by_parent[under].append((name, loops, ms))
    for under, items in by_parent.items():
        runs = collections.Counter(loops for _, loops, _ in items)
        summary.append(
            f"  under {under}: {len(items)} sub-plans, run "
            + ", ".join(f"{n} x {loops} times" for loops, n in sorted(runs.items(), reverse=True))
            + f", {sum(ms for *_, ms in items):.0f} ms"
        )
    return "\n".join([*summary, *(f"  {t}" if t.startswith(("Fu", "Ti")) else t for t in times)])


def explain(category_slug: str, term: str, page_size: int, dealer, price_range: str) -> None:
    for label, params in [
        ("category", f"category={category_slug}"),
        ("search", urllib.parse.urlencode({"search": term})),
    ]:
        queryset = filtered(params, dealer)
        print(f"\n--- EXPLAIN ANALYZE: page of {page_size}, {label} ({params}) ---")
        print(queryset[:page_size].explain(analyze=True, buffers=True))
        print(f"--- EXPLAIN ANALYZE: count, {label} ---")
        print(queryset.order_by().values("pk").explain(analyze=True))
    # the price ones: the very statements the paginator sends (count, then the page), whose
    # sort key / filter is the SQL price of annotate_base_price (special, tier, LIST and the
    # campaigns of the dealer: one correlated sub-query per source and use)
    for label, params in [("ordering=price", "ordering=price"), ("price range", price_range)]:
        queryset = filtered(params, dealer)
        count_sql = captured_sql(queryset.count)
        page_sql = captured_sql(lambda qs=queryset: list(qs[:page_size]))
        for what, sql in [("page", page_sql[0]), ("count", count_sql[0])]:
            print(f"\n--- EXPLAIN ANALYZE: {what} of {page_size}, {label} ({params}) ---")
            print(plan_summary(explain_sql(sql)))


def query_counts(base_url_path: str, scenarios: dict[str, str], email: str) -> dict[str, tuple]:
    """Queries per ``GET products`` at page_size 10 and 50, in-process with Django's test
    client (the query-count test of tests/catalog, on this data): they must be equal."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from apps.campaigns.rules import active_campaign_rules, campaigns_bump

    client = Client(HTTP_HOST="127.0.0.1")
    response = client.post(
        f"{base_url_path}/auth/token",
        {"email": email, "password": DEALER_PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    auth = {"HTTP_AUTHORIZATION": f"Bearer {response.json()['access']}"}
    counts = {}
    for name, query in scenarios.items():
        started = time.monotonic()
        # warm the caches (campaigns, price rows of the 50, which include the first 10), as in
        # steady state
        client.get(f"{base_url_path}/products?page_size=50{query}", **auth)
        sizes = []
        for size in (10, 50):
            url = f"{base_url_path}/products?page_size={size}{query}"
            # cache the campaigns afresh: their 5-minute TTL would otherwise run out in the
            # middle of a slow request and add the 5 queries of their reload to it
            campaigns_bump()
            active_campaign_rules()
            with CaptureQueriesContext(connection) as ctx:
                got = client.get(url, **auth)
            assert got.status_code == 200, (url, got.status_code)
            sizes.append(len(ctx.captured_queries))
        counts[name] = tuple(sizes)
        log(f"  {name}: {sizes[0]} / {sizes[1]} queries ({time.monotonic() - started:.1f} s)")
    return counts


# --- the prices of a page -----------------------------------------------------------------------


def check_prices(
    name: str, data: dict, dealer, *, ordered: bool = False, price_range=None
) -> tuple[str, list[str]]:
    """Check every product of an API page against the rule computed here from the database
    (not by the engine): a non-null price whose source is the dealer's special price, else its
    tier price, else LIST; the campaign of the benchmark's three with the largest percentage
    that reaches the dealer and covers the product (none on a special price); the unit price.
    With ``ordered`` the page must go up by unit price, with ``price_range`` stay inside it.
    Returns a summary line and the problems found."""
    from decimal import Decimal

    from apps.campaigns.models import Campaign
    from apps.catalog.models import Product
    from apps.core.money import round4
    from apps.pricing.models import Price, SpecialPrice

    results = data["results"]
    products = {
        p.sku: p
        for p in Product.all_objects.filter(sku__in=[r["sku"] for r in results]).select_related(
            "category"
        )
    }
    ids = [p.pk for p in products.values()]

    def amounts(queryset):
        return dict(
            queryset.valid_at()
            .filter(product_id__in=ids, min_quantity=1)
            .values_list("product_id", "amount")
        )

    specials = amounts(SpecialPrice.objects.filter(customer=dealer))
    tiers = amounts(Price.objects.filter(price_list__code=dealer.tier))
    listing = amounts(Price.objects.filter(price_list__code="LIST"))
    campaigns = []
    for c in Campaign.objects.live().prefetch_related("categories", "brands"):
        if c.audience == "everyone" or (c.audience == "tiers" and dealer.tier in c.tiers):
            assert c.discount_type == "percentage" and c.min_quantity == 1, c.name
            paths = [x.path for x in c.categories.all()]
            brands = {x.pk for x in c.brands.all()}
            campaigns.append((c, paths, brands))

    problems, sources, used = [], collections.Counter(), collections.Counter()
    units = []
    for row in results:
        product, price = products[row["sku"]], row["price"]
        pid = product.pk
        if pid in specials:
            source, base = "special", specials[pid]
        elif pid in tiers:
            source, base = f"tier:{dealer.tier}", tiers[pid]
        else:
            source, base = "list", listing.get(pid)
        best = None
        if base is None:
            source = None
        elif source != "special":
            for c, paths, brands in campaigns:
                covers = (
                    c.scope == "everything"
                    or (c.scope == "categories" and product.category.path.startswith(tuple(paths)))
                    or (c.scope == "brands" and product.brand_id in brands)
                )
                if covers and (best is None or c.discount_value > best.discount_value):
                    best = c
        unit = base if best is None else round4(base * (100 - best.discount_value) / 100)
        sources[source or "unpriced"] += 1
        used[best.name if best else "none"] += 1
        if price is None:
            problems.append(f"{name}: {row['sku']} has no price")
            continue
        if unit is None:
            problems.append(f"{name}: {row['sku']} priced {price} without a price row")
            continue
        units.append(Decimal(price["unit_net"]))
        got = (price["source"], (price["campaign"] or {}).get("name"), price["unit_net"])
        want = (source, best.name if best else None, f"{unit:.4f}")
        if got != want:
            problems.append(f"{name}: {row['sku']} priced {got}, expected {want}")
    if ordered and units != sorted(units):
        problems.append(f"{name}: the page is not ordered by unit price: {units}")
    if price_range and not all(price_range[0] <= u <= price_range[1] for u in units):
        problems.append(f"{name}: unit prices outside {price_range}: {units}")
    span = f"unit_net {min(units)}..{max(units)}" if units else "no prices"
    line = (
        f"{name}: {len(results)} products, {len(units)} priced; sources "
        + ", ".join(f"{k} {v}" for k, v in sorted(sources.items()))
        + "; campaigns "
        + ", ".join(f"{k!r} {v}" for k, v in sorted(used.items()))
        + f"; {span}"
    )
    return line, problems


# --- HTTP ---------------------------------------------------------------------------------------


BROWSE_SCRIPT = """
local paths = {{{paths}}}
request = function()
  if math.random(1, 5) == 5 then
    return wrk.format("GET", paths[1] .. "&page=" .. math.random(1, {pages}))
  end
  return wrk.format("GET", paths[math.random(1, #paths)])
end
"""


def auth_headers(token: str) -> dict[str, str]:
    """The headers of every load request: the dealer's token, gzip as a browser asks."""
    return {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}


def browse(
    paths: list[str], url: str, token: str, args, tmpdir: str, proc, pages: int
) -> list[str]:
    """Many users browsing for ``args.browse`` seconds: errors and p50/p99 per minute, and the
    workers' memory after each. Without think time one wrk run per minute (saturation); with
    it, one thread per user (``browse_users``)."""
    start = f"  start: worker memory {', '.join(f'{m:.0f}' for m in worker_rss_mb(proc.pid))} MB"
    if args.think_ms:
        return [start, *browse_users(paths, url, token, args, proc, pages)]
    quoted = ", ".join(json.dumps(path) for path in paths)
    lua = BROWSE_SCRIPT.format(paths=quoted, pages=pages)
    script = wrk_script(tmpdir, "browse.lua", lua)
    lines = [start]
    remaining, minute = args.browse, 0
    while remaining > 0:
        seconds = min(60, remaining)
        minute += 1
        log(f"browsing: minute {minute}, {args.browse_connections} connections")
        r = run_wrk(
            url,
            seconds,
            script=script,
            connections=args.browse_connections,
            threads=args.threads,
            headers=auth_headers(token),
        )
        lines.append(minute_line(minute, r, proc))
        log(lines[-1].strip())
        remaining -= seconds
    return lines


def minute_line(minute: int, r: dict, proc) -> str:
    memory = ", ".join(f"{m:.0f}" for m in worker_rss_mb(proc.pid))
    return (
        f"  minute {minute}: {r['rps']:.1f} req/s, p50 {r['p50_ms']:.0f} ms, p99 "
        f"{r['p99_ms']:.0f} ms, errors {r['errors']} of {r['requests']}; worker memory "
        f"{memory} MB"
    )


def fetch(conn: http.client.HTTPConnection, path: str, headers: dict) -> bool:
    """GET ``path``: True for a 200 read to the end. A kept-alive connection that the server
    closed while the user was thinking (gunicorn's ``keepalive``) is opened again and the
    request sent once more, as browsers do; any other failure is an error."""
    for attempt in (1, 2):
        reused = conn.sock is not None
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.will_close:
                conn.close()
            return response.status == 200
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            conn.close()
            if not reused or attempt == 2:
                return False
        except (OSError, http.client.HTTPException):
            conn.close()
            return False
    return False


def browse_users(paths: list[str], url: str, token: str, args, proc, pages: int) -> list[str]:
    """``args.browse_connections`` users, each a thread with its own keep-alive connection:
    it arrives at a random moment of the first think time, then asks for a page (as the wrk
    script does: one in five a random page of the whole catalog, else one of ``paths``), reads
    it, waits a random 0..2x ``args.think_ms`` and asks again, until the time is up. An answer
    other than 200, or none within 10 s, is an error. Figures per minute of completion."""
    origin = urllib.parse.urlsplit(url)
    headers = auth_headers(token)
    think = args.think_ms / 1000
    began = time.monotonic()
    deadline = began + args.browse
    done: list[tuple[float, float, bool]] = []  # (completed at, seconds, ok)
    lock = threading.Lock()

    def user(seed: int) -> None:
        rng = random.Random(seed)  # noqa: S311 - load pattern, not security
        conn = http.client.HTTPConnection(origin.hostname, origin.port, timeout=10)
        wait = rng.uniform(0, 2 * think)
        while time.monotonic() + wait < deadline:
            time.sleep(wait)
            if rng.randint(1, 5) == 5:
                path = f"{paths[0]}&page={rng.randint(1, pages)}"
            else:
                path = rng.choice(paths)
            started = time.monotonic()
            ok = fetch(conn, path, headers)
            finished = time.monotonic()
            with lock:
                done.append((finished - began, finished - started, ok))
            wait = rng.uniform(0, 2 * think)
        conn.close()

    threads = [
        threading.Thread(target=user, args=(n,), daemon=True)
        for n in range(args.browse_connections)
    ]
    for thread in threads:
        thread.start()
    lines, minute = [], 0
    while minute * 60 < args.browse:
        minute += 1
        end = min(minute * 60, args.browse)
        time.sleep(max(0.0, began + end - time.monotonic()))
        log(f"browsing: minute {minute}, {args.browse_connections} users")
        with lock:
            these = [d for d in done if (minute - 1) * 60 <= d[0] < end]
        latencies = sorted(seconds for _at, seconds, _ok in these)
        r = {
            "rps": len(these) / (end - (minute - 1) * 60),
            "p50_ms": percentile_ms(latencies, 50),
            "p99_ms": percentile_ms(latencies, 99),
            "errors": sum(1 for *_rest, ok in these if not ok),
            "requests": len(these),
        }
        lines.append(minute_line(minute, r, proc))
        log(lines[-1].strip())
    for thread in threads:
        thread.join(timeout=15)  # a request in flight at the end: at most its timeout
    return lines


def main() -> None:
    from decimal import Decimal

    args = parse_args()
    price_range = (Decimal(args.price_min), Decimal(args.price_max))
    db_url = database_url(DEFAULT_DATABASE_URL)
    # GUNICORN_TIMEOUT: so a pathologically slow page still answers, and is timed
    redis_url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    use_bench_env(db_url, redis_url=redis_url, GUNICORN_TIMEOUT="900")
    ensure_database(db_url)
    log("migrating")
    manage("migrate", "--noinput")
    setup_django()
    origin = seed(args)
    dealer = dealer_get(args.dealer_email)
    log(f"dealer: {args.dealer_email} of {dealer.code} {dealer.name!r}, tier {dealer.tier}")
    prices = seed_prices(args, dealer)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # statistics and visibility map of the fresh data

    from apps.catalog.models import Category, Product

    visible = Product.objects.visible().count()
    categories = Category.objects.count()
    category_slug, category_count = pick_category(args)
    term, term_count = pick_search_term(args)
    log(f"category {category_slug!r}: {category_count} of {visible} products")
    range_query = urllib.parse.urlencode({"price_min": args.price_min, "price_max": args.price_max})
    range_count = filtered(range_query, dealer).count()
    log(f"price range {range_query}: {range_count} of {visible} products")
    product_queries = {  # scenario -> query string after page_size
        "products?category": f"&category={category_slug}",
        "products?search": "&" + urllib.parse.urlencode({"search": term}),
        "products (no filter)": "",
        "products?ordering=price": "&ordering=price",
        "products?ordering=-price": "&ordering=-price",
        "products?price_min/max": f"&{range_query}",
    }
    if not args.no_explain:
        explain(category_slug, term, args.page_size, dealer, range_query)
    log("counting queries per request at page_size 10 and 50 (in-process)")
    counts = query_counts("/api/v1", product_queries, args.dealer_email)
    if args.explain_only:
        return
    detail_sku = (
        Product.objects.visible().order_by("pk").values_list("sku", flat=True)[visible // 2]
    )
    pages = min(args.max_page, max(1, visible // args.page_size))
    if args.stale_stats:
        with connection.cursor() as cursor:
            cursor.execute(STALE_STATS_SQL)
        log(f"planner statistics removed: {STALE_STATS_TABLES}")
    from django.db import connections

    connections.close_all()

    tool = "wrk" if shutil.which("wrk") else "python threads"
    tmpdir = tempfile.mkdtemp(prefix="bench-catalog-")
    script = None
    if tool == "wrk":
        script = wrk_script(tmpdir)
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v1"
    proc = start_gunicorn(
        port, args.workers, worker_class=args.worker_class, threads=args.threads_per_worker
    )
    results, slow, checks, problems = {}, {}, [], []
    try:
        token = login(f"http://127.0.0.1:{port}", args.dealer_email, DEALER_PASSWORD)
        headers = auth_headers(token)
        page = f"page_size={args.page_size}"
        scenarios = {
            "health/live": f"http://127.0.0.1:{port}/health/live",
            "me": f"{base}/me",
        }
        for name, query in product_queries.items():
            scenarios[name] = f"{base}/products?{page}{query}"
        scenarios[f"products, random page 1-{pages}"] = f"{base}/products?{page}&page=RANDOM"
        scenarios[f"ordering=price, random page 1-{pages}"] = (
            f"{base}/products?{page}&ordering=price&page=RANDOM"
        )
        scenarios["product detail"] = f"{base}/products/{urllib.parse.quote(detail_sku)}"
        if args.browse_only:
            scenarios = {}
        for name, url in scenarios.items():
            time.sleep(2)  # let the server finish what the last load left queued
            started = time.perf_counter()
            probe = request_json(url.replace("RANDOM", str(pages)), token=token, timeout=900)
            times = [time.perf_counter() - started]
            if name.startswith("products") and "RANDOM" not in url:
                assert len(probe["results"]) == min(args.page_size, probe["count"]), name
                line, found = check_prices(
                    name,
                    probe,
                    dealer,
                    ordered="ordering=price" in url,
                    price_range=price_range if "price_min" in url else None,
                )
                log(f"prices: {line}")
                checks.append(line)
                problems += found
            while name != "me" and min(times) > args.slow_limit and len(times) < 3:
                log(f"{name}: a single request took {times[-1]:.1f} s: timing another one")
                started = time.perf_counter()
                request_json(url, token=token, timeout=900)
                times.append(time.perf_counter() - started)
            if min(times) > args.slow_limit:
                slow[name] = times
                continue
            log(f"measuring {name} for {args.duration} s ({tool}, {args.connections} conn.)")
            if "RANDOM" in url and tool == "wrk":
                path = urllib.parse.urlsplit(url)
                query = path.query.replace("&page=RANDOM", "")
                lua = RANDOM_PAGES.format(path=f"{path.path}?{query}", pages=pages)
                random_script = wrk_script(tmpdir, "random.lua", lua)
                results[name] = measure(
                    url.replace("RANDOM", "1"), args, script=random_script, headers=headers
                )
            else:
                results[name] = measure(
                    url.replace("RANDOM", str(pages)), args, script=script, headers=headers
                )
        if args.browse:
            paths = [
                urllib.parse.urlsplit(f"{base}/products?{page}{query}")
                for query in ("", f"&category={category_slug}", "&ordering=price")
            ]
            paths.append(urllib.parse.urlsplit(f"{base}/products?{page}&search={term}"))
            browse_lines = browse(
                [f"{p.path}?{p.query}" for p in paths],
                f"{base}/me",
                token,
                args,
                tmpdir,
                proc,
                pages,
            )
    finally:
        stop_gunicorn(proc)
        shutil.rmtree(tmpdir, ignore_errors=True)
    if args.browse:
        print()
        print(
            f"many browsing users: {args.browse_connections} "
            + ("users (a thread and a connection each)" if args.think_ms else "connections")
            + f", {args.browse} s, "
            f"gunicorn {args.workers} {args.worker_class} workers"
            + (f" x {args.threads_per_worker} threads" if args.worker_class != "sync" else "")
            + f", {pages} pages; each request one of: page 1, category, price order, search, a "
            "random page"
            + (
                f"; think time 0-{2 * args.think_ms} ms (mean {args.think_ms})"
                if args.think_ms
                else "; no think time"
            )
        )
        for line in browse_lines:
            print(line)
    if args.browse_only:
        return

    live = results["health/live"]
    first = results["products (no filter)"]
    print()
    print(
        f"data: {visible} visible products ({origin}), {categories} categories; "
        f"category {category_slug!r} holds {category_count}; search {term!r} matches "
        f"{term_count}; price range {args.price_min}..{args.price_max} holds {range_count}"
    )
    print(f"dealer: {args.dealer_email} of {dealer.code} {dealer.name!r}, tier {dealer.tier}")
    print(f"prices: {prices}")
    print(
        "queries per request, page_size 10 / 50: "
        + "; ".join(f"{name} {small}/{large}" for name, (small, large) in counts.items())
    )
    print("prices of the first page of each scenario (checked against the database):")
    for line in checks:
        print(f"  {line}")
    print(
        f"server: gunicorn {args.workers} sync workers, DEBUG=0, rate limits off, loopback; "
        f"load: {tool}, {args.connections} connections, {args.duration} s per scenario after "
        f"{args.warmup} s warm-up, Accept-Encoding: gzip; CPUs: {os.cpu_count()}"
    )
    print()
    header = f"{'scenario':<34}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
    if args.stale_stats:
        print(f"planner statistics removed before the load: {STALE_STATS_TABLES}")
    print(header + f"{'errors':>8}{'vs live':>9}{'vs page 1':>11}")
    for name, r in results.items():
        print(
            f"{name:<34}{r['rps']:>9.1f}{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}{r['p99_ms']:>9.1f}"
            f"{r['errors']:>8}{r['rps'] / live['rps']:>9.3f}{r['rps'] / first['rps']:>11.2f}"
        )
    for name, times in slow.items():
        print(
            f"{name:<26} too slow to load-test (> {args.slow_limit:g} s): single requests one "
            f"at a time {', '.join(f'{t:.1f}' for t in times)} s"
        )
    for problem in problems:
        print(f"PRICE PROBLEM: {problem}")
    unequal = [name for name, (small, large) in counts.items() if small != large]
    if unequal:
        print(f"QUERY COUNT grows with the page: {', '.join(unequal)}")
    if any(r["errors"] for r in results.values()) or problems or unequal:
        raise SystemExit("some requests failed, prices were wrong or query counts grew")


if __name__ == "__main__":
    main()
