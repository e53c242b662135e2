"""Finance benchmark: the integration API's invoice and payment feeds against a raw PostgreSQL
insert of the same rows, and the dealer's account statement at 10,000 and 100,000 entries.

    .venv/bin/python bench/finance.py [--invoices 10000] [--lines 3] [--dealers 200]
                                      [--batch 1000] [--concurrency 2] [--workers 2]
                                      [--rounds 2] [--statement 10000,100000]

What it does, on the database of ``DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/b2b_bench_finance``, created when missing, migrated; it
refuses a database whose name lacks "bench" unless ``--force``):

1. starts the app under gunicorn on a free loopback port (``DEBUG=0``, rate limits off) and
   creates ``--dealers`` dealers through the customers feed and an API key;
2. each round, on emptied finance tables: pushes ``--invoices`` e-invoices of ``--lines`` lines
   (the arithmetic checked to the kuruş, a ledger entry, the settlement, audit entries and an
   event each) in batches of ``--batch``, ``--concurrency`` at a time, then half as many
   payments (each settling the dealer's oldest invoices);
3. then, on the emptied tables again, inserts the same rows with psycopg alone: ``COPY`` into
   temporary tables, then one ``INSERT ... SELECT`` each for the ledger entries, the invoices
   (``ON CONFLICT (number) DO NOTHING``), their lines and the payments;
4. prints rows/s of both (the best of ``--rounds``) and the ratio endpoint / raw;
5. for each ``--statement`` size: a dealer with that many ledger entries in one year (COPY),
   then ``GET /api/v1/account/statement`` for the year as JSON and CSV over HTTP (best of 3).
"""

from __future__ import annotations

import argparse
import datetime
import json
import secrets
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import ROUND_HALF_UP, Decimal

import psycopg
from _common import (
    database_url,
    ensure_database,
    free_port,
    log,
    login,
    manage,
    plain_log,
    start_gunicorn,
    stop_gunicorn,
    use_bench_env,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/b2b_bench_finance"
ROUND_TABLES = (
    "finance_paymentreminder",
    "finance_settlement",
    "finance_invoiceline",
    "finance_invoice",
    "finance_payment",
    "finance_balanceconfirmation",
    "finance_ledgerentry",
    "auditlog_logentry",
    "integrations_batchlog",
    "core_idempotencyrecord",
    "integrations_outboxevent",
)
TWO = Decimal("0.01")
YEAR = datetime.date.today().year


def r2(value: Decimal) -> Decimal:
    return value.quantize(TWO, rounding=ROUND_HALF_UP)


def empty_tables(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        # the ledger's trigger refuses deletes, not TRUNCATE
        conn.execute(f"TRUNCATE {', '.join(ROUND_TABLES)} RESTART IDENTITY CASCADE")


# --- data -------------------------------------------------------------------------------------


def dealer_code(n: int) -> str:
    return f"FIN{n:04d}"


def tax_number(n: int) -> str:
    """A valid Turkish tax number (VKN) of its own for ``n``."""
    from stdnum.tr import vkn

    base = f"{n * 7919 % 900_000_000 + 100_000_000:09d}"
    return base + vkn.calc_check_digit(base)


def invoice_records(count: int, lines: int, dealers: int, generation: int) -> list[dict]:
    issued = datetime.date(YEAR, 1, 1)
    records = []
    for n in range(count):
        items = []
        for k in range(lines):
            quantity = Decimal(1 + (n + k) % 9)
            unit = (Decimal(1000 + (n * 37 + k * 11) % 90000) / 100).quantize(Decimal("0.0001"))
            rate = (20, 20, 10, 1, 0)[(n + k) % 5]
            net = r2(quantity * unit)
            line = {
                "sku": f"SKU-{(n + k) % 5000:05d}",
                "description": f"Ürün {(n + k) % 5000}",
                "quantity": str(quantity),
                "unit_net": str(unit),
                "vat_rate": rate,
                "line_net": str(net),
                "line_vat": str(r2(net * rate / 100)),
            }
            if rate == 0:
                line["vat_exemption_code"] = "301"
            items.append(line)
        net = sum(Decimal(i["line_net"]) for i in items)
        vat = sum(Decimal(i["line_vat"]) for i in items)
        number = f"BNC{YEAR}{generation:02d}{n:07d}"
        day = issued + datetime.timedelta(days=n % 300)
        records.append(
            {
                "number": number,
                "ettn": str(uuid.uuid5(uuid.NAMESPACE_OID, number)),
                "profile": "e-fatura",
                "customer_code": dealer_code(n % dealers),
                "issue_date": day.isoformat(),
                "due_date": (day + datetime.timedelta(days=30)).isoformat(),
                "lines": items,
                "totals": {"net": str(net), "vat": str(vat), "gross": str(net + vat)},
            }
        )
    return records


def payment_records(count: int, dealers: int, generation: int) -> list[dict]:
    return [
        {
            "reference": f"DEK-{generation}-{n:07d}",
            "customer_code": dealer_code(n % dealers),
            "amount": f"{100 + n % 900}.50",
            "date": (datetime.date(YEAR, 1, 1) + datetime.timedelta(days=n % 300)).isoformat(),
            "method": "bank_transfer",
        }
        for n in range(count)
    ]


def batches(records: list[dict], size: int) -> list[bytes]:
    return [
        json.dumps(records[start : start + size], ensure_ascii=False).encode()
        for start in range(0, len(records), size)
    ]


# --- the endpoint -----------------------------------------------------------------------------


def push(base: str, key: str, resource: str, bodies: list[bytes], concurrency: int) -> float:
    def send(body: bytes) -> dict:
        request = urllib.request.Request(  # noqa: S310 (loopback)
            f"{base}/api/integration/v1/{resource}",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "X-API-Key": key},
        )
        try:
            with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise SystemExit(f"{resource}: {exc.code} {exc.read()[:500]}") from exc

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        answers = list(pool.map(send, bodies))
    seconds = time.perf_counter() - started
    failed = [a for a in answers if a["failed"]]
    if failed:
        raise SystemExit(f"{resource}: records failed, e.g. {failed[0]['errors'][:2]}")
    return seconds


# --- raw PostgreSQL -----------------------------------------------------------------------------

RAW_INVOICES = """
WITH e AS (
  INSERT INTO finance_ledgerentry (customer_id, kind, amount, entry_date, due_date,
      document_number, description, reason, created_at)
  SELECT c.id, 'invoice', r.gross, r.issue_date, r.due_date, r.number, '', '', now()
  FROM raw_in r JOIN accounts_customer c ON c.code = r.customer_code
  RETURNING id, document_number
)
INSERT INTO finance_invoice (number, ettn, profile, customer_id, issue_date, due_date, currency,
    net_total, vat_total, gross_total, xml, pdf, content_hash, ledger_entry_id, created_at)
SELECT r.number, r.ettn, r.profile, c.id, r.issue_date, r.due_date, 'TRY', r.net, r.vat,
    r.gross, '', '', '', e.id, now()
FROM raw_in r JOIN e ON e.document_number = r.number
JOIN accounts_customer c ON c.code = r.customer_code
ON CONFLICT (number) DO NOTHING
"""
RAW_LINES = """
INSERT INTO finance_invoiceline (invoice_id, position, sku, description, quantity, unit_net,
    vat_rate, vat_exemption_code, line_net, line_vat)
SELECT i.id, l.position, l.sku, l.description, l.quantity, l.unit_net, l.vat_rate, l.code,
    l.line_net, l.line_vat
FROM raw_lines l JOIN finance_invoice i ON i.number = l.number
"""
RAW_PAYMENTS = """
WITH e AS (
  INSERT INTO finance_ledgerentry (customer_id, kind, amount, entry_date, document_number,
      description, reason, created_at)
  SELECT c.id, 'payment', -r.amount, r.day, r.reference, '', '', now()
  FROM raw_in r JOIN accounts_customer c ON c.code = r.customer_code
  RETURNING id, document_number
)
INSERT INTO finance_payment (reference, customer_id, amount, payment_date, method,
    invoice_numbers, content_hash, ledger_entry_id, created_at)
SELECT r.reference, c.id, r.amount, r.day, r.method, '[]', '', e.id, now()
FROM raw_in r JOIN e ON e.document_number = r.reference
JOIN accounts_customer c ON c.code = r.customer_code
ON CONFLICT (reference) DO NOTHING
"""


def raw_invoices(url: str, records: list[dict], size: int) -> float:
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        for start in range(0, len(records), size):
            part = records[start : start + size]
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(
                    "CREATE TEMP TABLE raw_in (number text, ettn uuid, profile text, "
                    "customer_code text, issue_date date, due_date date, net numeric, "
                    "vat numeric, gross numeric) ON COMMIT DROP"
                )
                cur.execute(
                    "CREATE TEMP TABLE raw_lines (number text, position int, sku text, "
                    "description text, quantity numeric, unit_net numeric, vat_rate int, "
                    "code text, line_net numeric, line_vat numeric) ON COMMIT DROP"
                )
                with cur.copy("COPY raw_in FROM STDIN") as copy:
                    for r in part:
                        t = r["totals"]
                        copy.write_row(
                            (r["number"], r["ettn"], r["profile"], r["customer_code"],
                             r["issue_date"], r["due_date"], t["net"], t["vat"], t["gross"])
                        )  # fmt: skip
                with cur.copy("COPY raw_lines FROM STDIN") as copy:
                    for r in part:
                        for position, li in enumerate(r["lines"], start=1):
                            copy.write_row(
                                (r["number"], position, li["sku"], li["description"],
                                 li["quantity"], li["unit_net"], li["vat_rate"],
                                 li.get("vat_exemption_code", ""), li["line_net"],
                                 li["line_vat"])
                            )  # fmt: skip
                cur.execute(RAW_INVOICES)
                cur.execute(RAW_LINES)
        return time.perf_counter() - started


def raw_payments(url: str, records: list[dict], size: int) -> float:
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        for start in range(0, len(records), size):
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(
                    "CREATE TEMP TABLE raw_in (reference text, customer_code text, "
                    "amount numeric, day date, method text) ON COMMIT DROP"
                )
                with cur.copy("COPY raw_in FROM STDIN") as copy:
                    for r in records[start : start + size]:
                        copy.write_row(
                            (r["reference"], r["customer_code"], r["amount"], r["date"],
                             r["method"])
                        )  # fmt: skip
                cur.execute(RAW_PAYMENTS)
        return time.perf_counter() - started


# --- the statement ------------------------------------------------------------------------------


def statement_dealer(url: str, base: str, key: str, entries: int) -> tuple[str, str]:
    """A dealer with ``entries`` ledger entries in this year and its owner; (code, e-mail)."""
    code = f"STMT{entries}"
    email = f"owner@{code.lower()}.example.com"
    password = secrets.token_urlsafe(16)
    manage(  # the customers feed makes no users: the dealer and its owner come from here
        "shell",
        "-c",
        "from apps.accounts.models import Customer, User, DealerRole\n"
        "from apps.accounts.services.users import user_sync_role_group\n"
        f"c, _ = Customer.objects.get_or_create(code='{code}', defaults={{'name': 'Statement "
        f"{entries}', 'status': 'active', 'tax_number': '{tax_number(800_000 + entries)}'}})\n"
        f"u = User.objects.filter(email='{email}').first() or User.objects.create_user("
        f"email='{email}', password='{password}', customer=c, role=DealerRole.OWNER)\n"
        f"u.set_password('{password}'); u.save()\n"
        "user_sync_role_group(user=u)\n",
        timeout=600,
    )
    with psycopg.connect(url, autocommit=True) as conn:
        customer_id = conn.execute(
            "SELECT id FROM accounts_customer WHERE code = %s", [code]
        ).fetchone()[0]
        have = conn.execute(
            "SELECT count(*) FROM finance_ledgerentry WHERE customer_id = %s", [customer_id]
        ).fetchone()[0]
        if have < entries:
            with conn.cursor().copy(
                "COPY finance_ledgerentry (customer_id, kind, amount, entry_date, due_date, "
                "document_number, description, reason, created_at) FROM STDIN"
            ) as copy:
                for n in range(have, entries):
                    day = datetime.date(YEAR, 1, 1) + datetime.timedelta(days=n % 330)
                    invoice = n % 3 != 2
                    copy.write_row(
                        (customer_id, "invoice" if invoice else "payment",
                         f"{100 + n % 5000}.25" if invoice else f"-{150 + n % 3000}.50",
                         day, day + datetime.timedelta(days=30) if invoice else None,
                         f"DOC-{n:07d}", f"Entry {n}", "", datetime.datetime.now(datetime.UTC))
                    )  # fmt: skip
            conn.execute("ANALYZE finance_ledgerentry")
    return email, password


def time_statement(base: str, token: str, fmt: str) -> tuple[float, int]:
    url = (
        f"{base}/api/v1/account/statement?date_from={YEAR}-01-01&date_to={YEAR}-12-31&format={fmt}"
    )
    best, size = float("inf"), 0
    for _ in range(3):
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
            body = response.read()
        best = min(best, time.perf_counter() - started)
        size = len(body)
    return best, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=3)
    parser.add_argument("--dealers", type=int, default=200)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--statement", default="10000,100000", help="entry counts (comma-separated)"
    )
    parser.add_argument("--force", action="store_true", help="a database not named *bench*")
    args = parser.parse_args()
    if not (0 < args.invoices <= 200_000 and 0 < args.lines <= 100 and 0 < args.dealers <= 5000):
        raise SystemExit("--invoices 1..200000, --lines 1..100, --dealers 1..5000")
    if not (0 < args.batch <= 5000 and 0 < args.concurrency <= 16 and 0 < args.rounds <= 10):
        raise SystemExit("--batch 1..5000, --concurrency 1..16, --rounds 1..10")
    sizes = [int(x) for x in args.statement.split(",") if x.strip()]
    if any(not 0 < s <= 1_000_000 for s in sizes):
        raise SystemExit("--statement: entry counts 1..1000000")

    plain_log()
    url = database_url(DEFAULT_DATABASE_URL, force=args.force)
    use_bench_env(url, GUNICORN_TIMEOUT="660", DB_STATEMENT_TIMEOUT_INTEGRATION="600")
    ensure_database(url)
    log("migrating ...")
    manage("migrate", "--noinput", timeout=900)
    empty_tables(url)
    created = manage(
        "create_api_key", "--name", "bench", "--scopes",
        "customers:write,invoices:write,payments:write", timeout=600,
    )  # fmt: skip
    key = created.stdout.strip().splitlines()[-1]
    invoices = [invoice_records(args.invoices, args.lines, args.dealers, g) for g in range(2)]
    payments = [payment_records(args.invoices // 2, args.dealers, g) for g in range(2)]
    endpoint = {"invoices": [], "payments": []}
    raw = {"invoices": [], "payments": []}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_gunicorn(port, args.workers, quiet=True)
    try:
        dealers = [
            {"code": dealer_code(n), "name": f"Bayi {n}", "status": "active",
             "tax_number": tax_number(n + 1)}
            for n in range(args.dealers)
        ]  # fmt: skip
        push(base, key, "customers", batches(dealers, 500), 1)
        for round_number in range(args.rounds):
            generation = round_number % 2
            empty_tables(url)
            seconds = push(
                base, key, "invoices", batches(invoices[generation], args.batch), args.concurrency
            )
            endpoint["invoices"].append(len(invoices[generation]) / seconds)
            seconds = push(
                base, key, "payments", batches(payments[generation], args.batch), args.concurrency
            )
            endpoint["payments"].append(len(payments[generation]) / seconds)
            empty_tables(url)
            raw["invoices"].append(
                len(invoices[generation]) / raw_invoices(url, invoices[generation], args.batch)
            )
            raw["payments"].append(
                len(payments[generation]) / raw_payments(url, payments[generation], args.batch)
            )
            log(
                f"round {round_number + 1}: invoices {endpoint['invoices'][-1]:,.0f}/s "
                f"(raw {raw['invoices'][-1]:,.0f}/s), payments {endpoint['payments'][-1]:,.0f}/s "
                f"(raw {raw['payments'][-1]:,.0f}/s)"
            )
        print(
            f"\nfinance feeds: {args.invoices:,} invoices of {args.lines} lines for "
            f"{args.dealers} dealers, {args.invoices // 2:,} payments; batches of {args.batch}, "
            f"{args.concurrency} in flight, {args.workers} gunicorn workers; best of {args.rounds}"
        )
        print(f"{'feed':<10} {'endpoint rows/s':>16} {'raw rows/s':>12} {'ratio':>7}")
        for name in ("invoices", "payments"):
            best, floor = max(endpoint[name]), max(raw[name])
            print(f"{name:<10} {best:>16,.0f} {floor:>12,.0f} {best / floor:>7.2f}")

        print("\nstatement (GET /api/v1/account/statement for one year, best of 3):")
        print(f"{'entries':>9} {'json s':>8} {'json MB':>8} {'csv s':>8} {'csv MB':>8}")
        for entries in sizes:
            email, password = statement_dealer(url, base, key, entries)
            token = login(base, email, password)
            json_s, json_size = time_statement(base, token, "json")
            csv_s, csv_size = time_statement(base, token, "csv")
            print(
                f"{entries:>9,} {json_s:>8.2f} {json_size / 1e6:>8.1f} {csv_s:>8.2f} "
                f"{csv_size / 1e6:>8.1f}"
            )
    finally:
        stop_gunicorn(server, quiet=True)


if __name__ == "__main__":
    main()
