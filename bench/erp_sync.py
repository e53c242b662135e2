"""ERP feed benchmark: the integration API's products, stock, prices and special-prices
endpoints against a raw PostgreSQL upsert of the same rows.

    .venv/bin/python bench/erp_sync.py [--products 20000] [--warehouses 5] [--batch 5000]
                                        [--concurrency 2] [--workers 2] [--rounds 3]
                                        [--dealers 20] [--special-prices 20000]
                                        [--only products,stock,prices,special-prices]

What it does, on the database of ``DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/b2b_bench``, created when missing, migrated, and its
catalog and stock tables emptied: it refuses a database whose name lacks "bench" unless
``--force``):

1. starts the app under gunicorn on a free loopback port (``DEBUG=0``, rate limits off, its
   log in the temporary directory), creates an API key with ``manage.py create_api_key``;
2. each round, on emptied product, stock and price tables: pushes ``--products`` product
   records, then ``--products x --warehouses`` stock records, ``--products x 5`` price records
   (LIST with a break at 10, A, B, C) and ``--special-prices`` special prices (for
   ``--dealers`` dealers, created once through the customers endpoint), over HTTP in batches
   of ``--batch`` (``--concurrency`` batches at a time, each with an ``Idempotency-Key`` as a
   connector sends them), each resource twice: a first pass that creates every row, a second
   that changes every row. ``--only`` picks resources; the products the others need are then
   pushed untimed;
3. then, on the emptied tables again, upserts the same rows with psycopg alone, batch by batch
   in one connection: ``COPY`` into a temporary table, then ``INSERT ... ON CONFLICT DO
   UPDATE`` (brand, category, product, warehouse, price list and customer ids looked up
   beforehand, untimed);
4. prints rows/s of both (the best of ``--rounds``: the machine may be shared) and the ratio
   endpoint / raw per resource and pass, then stops gunicorn.

The endpoint does more than the raw upsert: validation, brands and categories, comparison with
what is stored, audit-log entries for products and prices, row locks and an ``erp_sync``
movement per changed stock level, a price-history row per changed price, the batch log, the
idempotency record. The raw upsert is the floor the endpoint is measured against.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import psycopg
from _common import (
    database_url,
    ensure_database,
    free_port,
    log,
    manage,
    plain_log,
    start_gunicorn,
    stop_gunicorn,
    use_bench_env,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/b2b_bench"
# emptied before each round (brands, categories, warehouses and dealers stay) ...
ROUND_TABLES = (
    "pricing_pricechange",
    "pricing_specialprice",
    "pricing_price",
    "inventory_stockmovement",
    "inventory_stocklevel",
    "catalog_product",
    "auditlog_logentry",
    "integrations_batchlog",
    "core_idempotencyrecord",
)
# ... and all of these once at the start
FEED_TABLES = (
    *ROUND_TABLES,
    "catalog_brand",
    "catalog_attributedefinition",
    "catalog_category",
    "inventory_warehouse",
)
RESOURCES = ("products", "stock", "prices", "special-prices")
UNITS = ("piece", "box", "meter", "kg")
VAT_RATES = (20, 20, 20, 10, 1, 0)


# --- database ---------------------------------------------------------------------------------


def empty_tables(url: str, tables=FEED_TABLES) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


# --- data -------------------------------------------------------------------------------------


def product_records(count: int, generation: int) -> list[dict]:
    suffix = "" if generation == 0 else f" (rev {generation})"
    return [
        {
            "sku": f"BENCH-{n:06d}",
            "name": f"Ürün {n} {['Kablo', 'Priz', 'Anahtar', 'Armatür'][n % 4]}{suffix}",
            "brand": f"Marka {n % 50}",
            "category": f"Kök {n % 10} > Grup {n % 100}",
            "unit": UNITS[n % len(UNITS)],
            "vat_rate": VAT_RATES[n % len(VAT_RATES)],
            "attributes": {},
            "is_active": True,
            # not serial-tracked: the stock records carry no serial numbers
            "serial_tracked": False,
            "description": f"Açıklama {n}",
            "barcodes": [f"869{n:010d}"],
        }
        for n in range(count)
    ]


def stock_records(products: int, warehouses: int, generation: int) -> list[dict]:
    return [
        {
            "sku": f"BENCH-{n:06d}",
            "warehouse": f"DEPO-{w + 1}",
            "on_hand": 10 + (n + w) % 90 + generation,
        }
        for w in range(warehouses)
        for n in range(products)
    ]


# (price list, min_quantity, share of the list price in per mille)
PRICE_BREAKS = (("LIST", 1, 1000), ("LIST", 10, 950), ("A", 1, 800), ("B", 1, 850), ("C", 1, 900))


def _amount(cents: int) -> str:
    return f"{cents // 10000}.{cents % 10000:04d}"  # 4 decimal places, as text


def price_records(products: int, generation: int) -> list[dict]:
    """Five breaks per SKU; every 10th SKU's LIST price has a window. The second generation
    changes every amount."""
    records = []
    for n in range(products):
        list_price = (100_0000 + (n % 5000) * 1234 + generation * 5000) // 10 * 10
        for code, min_quantity, share in PRICE_BREAKS:
            record = {
                "sku": f"BENCH-{n:06d}",
                "price_list": code,
                "min_quantity": min_quantity,
                "amount": _amount(list_price * share // 1000),
            }
            if n % 10 == 0 and code == "LIST":
                record["valid_from"] = "2026-01-01T00:00:00+03:00"
                record["valid_to"] = "2027-01-01T00:00:00+03:00"
            records.append(record)
    return records


def dealer_codes(dealers: int) -> list[str]:
    return [f"BENCH-D{n:03d}" for n in range(dealers)]


def special_price_records(count: int, products: int, dealers: int, generation: int) -> list[dict]:
    """``count`` special prices: each dealer gets ``count / dealers`` SKUs."""
    codes = dealer_codes(dealers)
    return [
        {
            "customer_code": codes[n % dealers],
            "sku": f"BENCH-{(n // dealers) % products:06d}",
            "min_quantity": 1 + (n // (dealers * products)) * 10,
            "amount": _amount(70_0000 + (n % 997) * 100 + generation * 2500),
        }
        for n in range(count)
    ]


def customer_records(dealers: int) -> list[dict]:
    from stdnum.tr import vkn

    records = []
    for n, code in enumerate(dealer_codes(dealers)):
        base = f"{(n + 1) * 7919 + 900_000_000:09d}"
        records.append(
            {
                "code": code,
                "name": f"Bench Bayi {n}",
                "tax_number": base + vkn.calc_check_digit(base),
                "tier": "ABC"[n % 3],
                "status": "active",
            }
        )
    return records


def batches(records: list[dict], size: int) -> list[bytes]:
    return [
        json.dumps(records[start : start + size], ensure_ascii=False).encode()
        for start in range(0, len(records), size)
    ]


# --- the endpoint -----------------------------------------------------------------------------


def push(base: str, key: str, resource: str, bodies: list[bytes], concurrency: int, run: str):
    """POST every body; answers must show no failure. Returns (seconds, summed counts)."""

    def send(numbered):
        number, body = numbered
        request = urllib.request.Request(  # noqa: S310 (loopback)
            f"{base}/api/integration/v1/{resource}",
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-API-Key": key,
                "Idempotency-Key": f"{run}-{resource}-{number}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=300) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise SystemExit(f"{resource} batch {number}: {exc.code} {exc.read()[:500]}") from exc

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        answers = list(pool.map(send, enumerate(bodies)))
    seconds = time.perf_counter() - started
    total = {k: sum(a[k] for a in answers) for k in ("received", "created", "updated", "failed")}
    if total["failed"]:
        first = next(a["errors"][:3] for a in answers if a["failed"])
        raise SystemExit(f"{resource}: {total['failed']} records failed, e.g. {first}")
    return seconds, total


# --- raw PostgreSQL -----------------------------------------------------------------------------

PRODUCT_COLUMNS = (
    "sku, name, description, brand_id, category_id, unit, vat_rate, min_order_quantity, "
    "order_multiple, barcodes, attributes, is_active, serial_tracked, search_document"
)


def copy_upsert(
    conn, rows: list[tuple], size: int, *, temp: str, columns: str, upsert: str
) -> float:
    """The timed part of a raw upsert: per batch of ``size`` rows, in one transaction, ``temp``
    (a ``CREATE TEMP TABLE raw_in ... ON COMMIT DROP``), ``COPY`` of the rows into raw_in's
    ``columns``, then ``upsert`` (an ``INSERT ... SELECT ... FROM raw_in ON CONFLICT``).
    Returns the seconds."""
    started = time.perf_counter()
    for start in range(0, len(rows), size):
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(temp)
            with cur.copy(f"COPY raw_in ({columns}) FROM STDIN") as copy:
                for row in rows[start : start + size]:
                    copy.write_row(row)
            cur.execute(upsert)
    return time.perf_counter() - started


def raw_products(url: str, records: list[dict], size: int) -> float:
    """The same product rows (brand and category ids looked up beforehand, untimed)."""
    with psycopg.connect(url, autocommit=True) as conn:
        brands = dict(conn.execute("SELECT name, id FROM catalog_brand").fetchall())
        leaves = dict(
            conn.execute(
                "SELECT p.name || ' > ' || c.name, c.id FROM catalog_category c "
                "JOIN catalog_category p ON p.id = c.parent_id"
            ).fetchall()
        )
        rows = [
            (
                r["sku"],
                r["name"],
                r["description"],
                brands[r["brand"]],
                leaves[r["category"]],
                r["unit"],
                r["vat_rate"],
                1,
                1,
                json.dumps(r["barcodes"]),
                json.dumps(r["attributes"]),
                r["is_active"],
                r["serial_tracked"],
                f"{r['sku']} {r['name']} {r['brand']} {' '.join(r['barcodes'])}".lower(),
            )
            for r in records
        ]
        updates = ", ".join(
            f"{c.strip()} = EXCLUDED.{c.strip()}" for c in PRODUCT_COLUMNS.split(",")[1:]
        )
        return copy_upsert(
            conn,
            rows,
            size,
            temp="CREATE TEMP TABLE raw_in ON COMMIT DROP AS "  # noqa: S608
            f"SELECT {PRODUCT_COLUMNS} FROM catalog_product WITH NO DATA",
            columns=PRODUCT_COLUMNS,
            upsert=f"INSERT INTO catalog_product ({PRODUCT_COLUMNS}, is_deleted, created_at, "  # noqa: S608
            f"updated_at) SELECT {PRODUCT_COLUMNS}, false, now(), now() FROM raw_in "
            f"ON CONFLICT (sku) DO UPDATE SET {updates}, updated_at = now()",
        )


def raw_breaks(
    url: str, records: list[dict], size: int, *, table: str, owner: str, owners: str, key: str
) -> float:
    """The same rows of a price ``table`` (prices: price lists; special prices: customers):
    ids of the products and of the owners (``owners``: a ``SELECT code, id``; the record's
    ``key`` holds the code) looked up beforehand, untimed; then COPY + INSERT ... ON CONFLICT of
    (``owner`` id, product id, min_quantity, amount, valid_from, valid_to) rows."""
    with psycopg.connect(url, autocommit=True) as conn:
        products = dict(conn.execute("SELECT sku, id FROM catalog_product").fetchall())
        ids = dict(conn.execute(owners).fetchall())
    rows = [
        (
            ids[r[key]],
            products[r["sku"]],
            r["min_quantity"],
            r["amount"],
            r.get("valid_from"),
            r.get("valid_to"),
        )
        for r in records
    ]
    columns = f"{owner}, product_id, min_quantity, amount, valid_from, valid_to"
    with psycopg.connect(url, autocommit=True) as conn:
        return copy_upsert(
            conn,
            rows,
            size,
            temp=f"CREATE TEMP TABLE raw_in ON COMMIT DROP AS "  # noqa: S608
            f"SELECT {columns} FROM {table} WITH NO DATA",
            columns=columns,
            upsert=f"INSERT INTO {table} ({columns}, created_at, updated_at) "  # noqa: S608
            f"SELECT {columns}, now(), now() FROM raw_in "
            f"ON CONFLICT ({owner}, product_id, min_quantity) DO UPDATE "
            "SET amount = EXCLUDED.amount, valid_from = EXCLUDED.valid_from, "
            "valid_to = EXCLUDED.valid_to, updated_at = now()",
        )


def raw_stock(url: str, records: list[dict], size: int) -> float:
    """The same stock levels (product and warehouse ids looked up beforehand, untimed; the
    products must exist: ``raw_products`` ran first)."""
    with psycopg.connect(url, autocommit=True) as conn:
        products = dict(conn.execute("SELECT sku, id FROM catalog_product").fetchall())
        warehouses = dict(conn.execute("SELECT code, id FROM inventory_warehouse").fetchall())
        rows = [(products[r["sku"]], warehouses[r["warehouse"]], r["on_hand"]) for r in records]
        return copy_upsert(
            conn,
            rows,
            size,
            temp="CREATE TEMP TABLE raw_in (product_id bigint, warehouse_id bigint, "
            "on_hand integer) ON COMMIT DROP",
            columns="product_id, warehouse_id, on_hand",
            upsert="INSERT INTO inventory_stocklevel (product_id, warehouse_id, on_hand, "
            "reserved, updated_at) SELECT product_id, warehouse_id, on_hand, 0, now() "
            "FROM raw_in ON CONFLICT (product_id, warehouse_id) DO UPDATE "
            "SET on_hand = EXCLUDED.on_hand, updated_at = now()",
        )


# --- main -------------------------------------------------------------------------------------


RAW = {
    "products": raw_products,
    "stock": raw_stock,
    "prices": partial(
        raw_breaks,
        table="pricing_price",
        owner="price_list_id",
        owners="SELECT code, id FROM pricing_pricelist",
        key="price_list",
    ),
    "special-prices": partial(
        raw_breaks,
        table="pricing_specialprice",
        owner="customer_id",
        owners="SELECT code, id FROM accounts_customer",
        key="customer_code",
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--warehouses", type=int, default=5)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=2, help="batches in flight")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--rounds", type=int, default=3, help="each figure is the best round")
    parser.add_argument("--dealers", type=int, default=20, help="dealers with special prices")
    parser.add_argument("--special-prices", type=int, default=20_000)
    parser.add_argument(
        "--only",
        default=",".join(RESOURCES),
        help=f"comma-separated resources to measure, of {', '.join(RESOURCES)}",
    )
    parser.add_argument("--force", action="store_true", help="a database not named *bench*")
    args = parser.parse_args()
    selected = [r for r in RESOURCES if r in {x.strip() for x in args.only.split(",")}]
    unknown = {x.strip() for x in args.only.split(",")} - set(RESOURCES)
    if unknown or not selected:
        raise SystemExit(f"--only: a comma-separated choice of {', '.join(RESOURCES)}")
    if not (0 < args.dealers <= 1000 and 0 < args.special_prices <= 200_000):
        raise SystemExit("--dealers 1..1000, --special-prices 1..200000")
    if not (0 < args.products <= 200_000 and 0 < args.warehouses <= 20):
        raise SystemExit("--products 1..200000, --warehouses 1..20")
    if not (0 < args.batch <= 5000 and 0 < args.concurrency <= 16 and 0 < args.workers <= 16):
        raise SystemExit("--batch 1..5000, --concurrency 1..16, --workers 1..16")
    if not 0 < args.rounds <= 10:
        raise SystemExit("--rounds 1..10")

    plain_log()
    url = database_url(DEFAULT_DATABASE_URL, force=args.force)
    use_bench_env(url, INTEGRATION_MAX_BATCH=str(max(args.batch, 5000)), GUNICORN_TIMEOUT="300")
    ensure_database(url)
    log("migrating ...")
    manage("migrate", "--noinput", timeout=600)
    empty_tables(url)
    scopes = "catalog:write,stock:write,prices:write,customers:write"
    created = manage("create_api_key", "--name", "bench", "--scopes", scopes, timeout=600)
    key = created.stdout.strip().splitlines()[-1]

    makers = {
        "products": lambda g: product_records(args.products, g),
        "stock": lambda g: stock_records(args.products, args.warehouses, g),
        "prices": lambda g: price_records(args.products, g),
        "special-prices": lambda g: special_price_records(
            args.special_prices, args.products, args.dealers, g
        ),
    }
    # the products every other resource refers to, pushed untimed when not measured
    needs_products = "products" not in selected
    rows = {r: [makers[r](g) for g in (0, 1)] for r in selected}
    seed_products = product_records(args.products, 0) if needs_products else []
    bodies = {r: [batches(records, args.batch) for records in rows[r]] for r in selected}
    megabytes = {name: sum(map(len, b[0])) / 1e6 for name, b in bodies.items()}
    passes = [
        (resource, g, label) for resource in rows for g, label in ((0, "create"), (1, "update"))
    ]
    endpoint = {p: [] for p in passes}
    raw = {p: [] for p in passes}

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # its access log too, in its log file in the temporary folder
    server = start_gunicorn(port, args.workers, access_log=True, quiet=True)
    try:
        if "special-prices" in selected:  # the dealers, once (an upsert: reruns are fine)
            customers = customer_records(args.dealers)
            push(base, key, "customers", batches(customers, 500), 1, secrets.token_hex(4))
        for round_number in range(1, args.rounds + 1):
            # the endpoint, then raw SQL, on the same emptied tables (brands, categories,
            # warehouses and dealers made by the first round stay)
            empty_tables(url, ROUND_TABLES)
            run = f"{secrets.token_hex(4)}-{round_number}"
            if needs_products:
                push(
                    base,
                    key,
                    "products",
                    batches(seed_products, args.batch),
                    args.concurrency,
                    f"{run}-seed",
                )
            for resource, generation, label in passes:
                seconds, total = push(
                    base,
                    key,
                    resource,
                    bodies[resource][generation],
                    args.concurrency,
                    f"{run}-{label}",
                )
                expected = "created" if generation == 0 else "updated"
                if total[expected] != len(rows[resource][generation]):
                    raise SystemExit(f"{resource} {label}: {total}")
                endpoint[resource, generation, label].append(seconds)
            empty_tables(url, ROUND_TABLES)
            if needs_products:
                raw_products(url, seed_products, args.batch)
            for resource, generation, label in passes:
                seconds = RAW[resource](url, rows[resource][generation], args.batch)
                raw[resource, generation, label].append(seconds)
            log(
                f"round {round_number}: "
                + ", ".join(
                    f"{r} {lb} {endpoint[r, g, lb][-1]:.2f}/{raw[r, g, lb][-1]:.2f} s"
                    for r, g, lb in passes
                )
            )
    finally:
        stop_gunicorn(server, quiet=True)

    log("")
    sizes = {
        "products": f"{args.products} products",
        "stock": f"{args.products * args.warehouses} stock records ({args.products} SKUs x "
        f"{args.warehouses} warehouses",
        "prices": f"{args.products * len(PRICE_BREAKS)} prices ({args.products} SKUs x "
        "LIST, LIST from 10, A, B, C",
        "special-prices": f"{args.special_prices} special prices ({args.dealers} dealers",
    }
    described = []
    for resource in selected:
        size = sizes[resource]
        opened = "(" in size
        size += f"{', ' if opened else ' ('}{megabytes[resource]:.1f} MB JSON)"
        described.append(size)
    log(
        f"data: {', '.join(described)}; batches of "
        f"{args.batch}, {args.concurrency} in flight, {args.workers} gunicorn workers, "
        f"{os.cpu_count()} CPUs; best of {args.rounds} rounds"
    )
    log(
        f"{'resource':14} {'pass':7} {'rows':>7} {'endpoint rows/s':>16} {'raw rows/s':>11} "
        f"{'ratio':>6} {'median ratio':>13}"
    )
    for resource, generation, label in passes:
        count = len(rows[resource][generation])
        ours, theirs = endpoint[resource, generation, label], raw[resource, generation, label]
        ratios = sorted(r / e for e, r in zip(ours, theirs, strict=True))
        log(
            f"{resource:14} {label:7} {count:7d} {count / min(ours):16,.0f} "
            f"{count / min(theirs):11,.0f} {min(theirs) / min(ours):6.2f} "
            f"{ratios[len(ratios) // 2]:13.2f}"
        )


if __name__ == "__main__":
    main()
