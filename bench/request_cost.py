#!/usr/bin/env python
"""Request overhead benchmark: the trivial authenticated request against the trivial one.

``GET /api/v1/me`` (a dealer's JWT: authentication, the user row, permissions, rate limits,
the middleware stack, a serializer) side by side with ``GET /health/live`` (the middleware
stack alone), on the same gunicorn, in one run. The target of issue 15: ``/me`` at no less
than 0.3x (aim 0.5x) the requests per second of ``/health/live``.

What it does, each step bounded:
1. creates the PostgreSQL database of ``DATABASE_URL`` (default
   ``postgres://postgres@127.0.0.1:5432/b2b_reqbench``; it refuses a name without "bench")
   when missing, migrates it and seeds it with ``seed_demo --products 20 --dealers 4``
   (skipped when present); the dealer is ``--dealer-email`` (the owner of DEMO002, tier B);
2. starts gunicorn with the production settings (``config/gunicorn.conf.py``), ``--workers``
   (3) sync workers on a loopback port, DEBUG=0, access log off; rate limits ON by default with
   limits too high to refuse (every request still counts in Redis, as in production; ``--rate-
   limits off`` turns them off);
3. logs the dealer in, then alternates ``/health/live`` and ``/api/v1/me`` for ``--rounds``
   rounds of ``--duration`` seconds each (after a short warm-up) with wrk (``-t2 -c32``; a
   bounded thread loop if wrk is missing), every answer must be 200;
4. prints requests/s and p50/p95/p99 of each and the ratio ``/me`` / ``/health/live`` per
   round and over the rounds, then stops gunicorn. Also the CPU each request cost the gunicorn
   workers (including the workers that ``max_requests`` replaced meanwhile: each re-imports
   the project) and the PostgreSQL backends, read from /proc: on a shared machine the req/s
   move with the other jobs, the CPU per request much less.

``--profile N`` instead profiles N in-process ``GET /api/v1/me`` (and ``/health/live``) with
pyinstrument (``pip install pyinstrument``: a profiling tool, not a dependency) and prints
the call trees.

    .venv/bin/python bench/request_cost.py [--duration 15] [--rounds 3] [--workers 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
import urllib.parse
from pathlib import Path

from _common import (
    children,
    cpu_seconds,
    database_url,
    ensure_database,
    free_port,
    keep_bench_off_path,
    log,
    login,
    manage,
    measure,
    setup_django,
    start_gunicorn,
    stop_gunicorn,
    use_bench_env,
    wrk_script,
)

# this file is named like the ``requests`` library: keep its folder off the import path, or an
# ``import requests`` in the project (webhooks, SMS) would import this script instead
keep_bench_off_path()
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/b2b_reqbench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
DEFAULT_DEALER_EMAIL = "owner@demo002.example.com"  # DEMO002, tier B
DEALER_PASSWORD = "Demo-Dealer-2026"  # noqa: S105 - the printed demo login
HIGH_LIMIT = "1000000/min"  # counted on every request, never reached


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds per measurement")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up before each")
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the two requests")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--rate-limits", choices=["on", "off"], default="on")
    parser.add_argument(
        "--dealer-email",
        default=os.environ.get("BENCH_DEALER_EMAIL", DEFAULT_DEALER_EMAIL),
        help=f"the dealer user to log in as (default {DEFAULT_DEALER_EMAIL})",
    )
    parser.add_argument("--skip-migrate", action="store_true", help="the database is ready")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="profile N in-process requests"
    )
    return parser.parse_args()


def seed(args: argparse.Namespace) -> str:
    from apps.accounts.models import User

    user = User.objects.select_related("customer").filter(email__iexact=args.dealer_email).first()
    if user is None:
        log("seed_demo --products 20 --dealers 4")
        manage("seed_demo", "--products", "20", "--dealers", "4", timeout=1800)
        user = User.objects.select_related("customer").get(email__iexact=args.dealer_email)
    perms = len(user.get_all_permissions())
    return (
        f"{User.objects.count()} users; dealer {user.email} ({user.role}) of "
        f"{user.customer.code}, {perms} permissions"
    )


# --- server and load ----------------------------------------------------------------------------


def measured(url: str, token: str | None, args, script: str | None, meter: CpuMeter) -> dict:
    """``measure``, with the CPU the server spent per request."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    result = measure(url, args, script=script, headers=headers, before=meter.start)
    result.update(meter.stop(result["requests"]))
    return result


# --- CPU per request (what the machine's load does not change) ---------------------------------


def _database_backends() -> list[int]:
    """The PostgreSQL server processes of the bench database (same machine)."""
    import psycopg

    url = os.environ["DATABASE_URL"]
    name = urllib.parse.urlsplit(url).path.lstrip("/")
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        ).fetchall()
    return [row[0] for row in rows]


class CpuMeter:
    """CPU seconds used by the gunicorn workers (those running and those replaced meanwhile)
    and by the PostgreSQL backends serving them (processes on this machine, from /proc)
    between ``start`` and ``stop``. A backend that exits in between is not counted."""

    def __init__(self, master_pid: int):
        self.master_pid = master_pid

    def _snapshot(self) -> tuple[float, dict[int, float], set[int]]:
        workers = children(self.master_pid)
        app = sum(map(cpu_seconds, workers)) + cpu_seconds(self.master_pid, reaped=True)
        backends = _database_backends() if Path("/proc").is_dir() else []
        return app, {pid: cpu_seconds(pid) for pid in backends}, set(workers)

    def start(self) -> None:
        self.before = self._snapshot()

    def stop(self, requests: int) -> dict[str, float]:
        app, db, workers = self._snapshot()
        db_seconds = sum(max(0.0, used - self.before[1].get(pid, 0.0)) for pid, used in db.items())
        return {
            "app_cpu_ms": max(0.0, app - self.before[0]) * 1000 / max(requests, 1),
            "db_cpu_ms": db_seconds * 1000 / max(requests, 1),
            # workers replaced after max_requests: each re-imports the project (seconds of CPU)
            "restarts": len(workers - self.before[2]),
        }


def describe(name: str, result: dict) -> str:
    return (
        f"{name:<14} {result['rps']:8.1f} req/s  p50/p95/p99 {result['p50_ms']:.1f}/"
        f"{result['p95_ms']:.1f}/{result['p99_ms']:.1f} ms  ({result['requests']} requests, "
        f"{result['errors']} errors); CPU per request: gunicorn {result['app_cpu_ms']:.2f} ms, "
        f"PostgreSQL {result['db_cpu_ms']:.2f} ms; {result['restarts']} worker restarts"
    )


# --- in-process profile -------------------------------------------------------------------------


def profile(args: argparse.Namespace) -> None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        raise SystemExit(
            "--profile needs pyinstrument: .venv/bin/pip install pyinstrument"
        ) from None
    from django.test import Client

    client = Client(raise_request_exception=True, HTTP_HOST="127.0.0.1")
    response = client.post(
        "/api/v1/auth/token",
        {"email": args.dealer_email, "password": DEALER_PASSWORD},
        content_type="application/json",
    )
    token = response.json()["access"]
    for path, headers in (
        ("/health/live", {}),
        ("/api/v1/me", {"HTTP_AUTHORIZATION": f"Bearer {token}"}),
    ):
        for _ in range(50):  # warm caches, connections
            assert client.get(path, **headers).status_code == 200
        profiler = Profiler(interval=0.0002)
        started = time.perf_counter()
        with profiler:
            for _ in range(args.profile):
                client.get(path, **headers)
        per_request = (time.perf_counter() - started) / args.profile * 1000
        log(f"{path}: {per_request:.2f} ms per request in process (profiled)")
        print(profiler.output_text(unicode=False, color=False, show_all=False))


def main() -> None:
    args = parse_args()
    url = database_url(DEFAULT_DATABASE_URL)
    limit = HIGH_LIMIT if args.rate_limits == "on" else "off"
    use_bench_env(url, redis_url=os.environ.get("REDIS_URL", DEFAULT_REDIS_URL), rate_limit=limit)
    ensure_database(url)
    if not args.skip_migrate:
        log("migrating")
        manage("migrate", "--noinput", timeout=1800)
    setup_django()
    data = seed(args)
    log(f"data: {data}")
    if args.profile:
        profile(args)
        return
    from django.db import connections

    connections.close_all()

    script = None
    workdir = Path(tempfile.mkdtemp(prefix="reqbench-"))
    if shutil.which("wrk"):
        script = wrk_script(workdir)
        generator = f"wrk -t{args.threads} -c{args.connections}"
    else:
        generator = f"Python thread loop, {args.connections} connections (wrk not installed)"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    load_before = os.getloadavg()
    proc = start_gunicorn(port, args.workers)
    rows: list[tuple[dict, dict]] = []
    try:
        token = login(base, args.dealer_email, DEALER_PASSWORD)
        meter = CpuMeter(proc.pid)
        for number in range(1, args.rounds + 1):
            live = measured(f"{base}/health/live", None, args, script, meter)
            me = measured(f"{base}/api/v1/me", token, args, script, meter)
            rows.append((live, me))
            log(f"round {number}: " + describe("/health/live", live))
            log(f"round {number}: " + describe("/api/v1/me", me))
            log(f"round {number}: ratio /me / /health/live = {me['rps'] / live['rps']:.3f}")
    finally:
        stop_gunicorn(proc)
        shutil.rmtree(workdir, ignore_errors=True)
    load_after = os.getloadavg()

    def total(results: list[dict]) -> dict:
        return {
            "restarts": sum(r["restarts"] for r in results),
            "app_cpu_ms": sum(r["app_cpu_ms"] for r in results) / len(results),
            "db_cpu_ms": sum(r["db_cpu_ms"] for r in results) / len(results),
            "rps": sum(r["rps"] for r in results) / len(results),
            "p50_ms": sorted(r["p50_ms"] for r in results)[len(results) // 2],
            "p95_ms": sorted(r["p95_ms"] for r in results)[len(results) // 2],
            "p99_ms": sorted(r["p99_ms"] for r in results)[len(results) // 2],
            "requests": sum(r["requests"] for r in results),
            "errors": sum(r["errors"] for r in results),
        }

    live, me = total([r[0] for r in rows]), total([r[1] for r in rows])
    ratios = sorted(r[1]["rps"] / r[0]["rps"] for r in rows)
    print()
    print("=== bench/request_cost.py ===")
    print(f"data: {data}")
    print(
        f"server: gunicorn {args.workers} sync workers (config/gunicorn.conf.py), DEBUG=0, "
        f"rate limits {args.rate_limits}"
        + (f" ({HIGH_LIMIT}: counted, never refusing)" if args.rate_limits == "on" else "")
    )
    print(f"load: {generator}, {args.rounds} rounds x {args.duration} s per request")
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after"
    )
    print(describe("/health/live", live) + "  (mean of rounds; median percentiles)")
    print(describe("/api/v1/me", me))
    print(
        f"ratio /me / /health/live: {me['rps'] / live['rps']:.3f} (per round "
        + ", ".join(f"{r:.3f}" for r in ratios)
        + "); target >= 0.3, aim 0.5"
    )
    live_cpu = live["app_cpu_ms"] + live["db_cpu_ms"]
    me_cpu = me["app_cpu_ms"] + me["db_cpu_ms"]
    print(
        f"server CPU per request: /health/live {live_cpu:.2f} ms, /me {me_cpu:.2f} ms "
        f"(ratio {live_cpu / me_cpu:.3f}: what the req/s ratio tends to when the server's CPU is "
        "the limit; Redis and the load generator not counted)"
        if me_cpu
        else "server CPU per request: not measured (no /proc)"
    )
    if live["errors"] or me["errors"]:
        raise SystemExit("some answers were not 200")


if __name__ == "__main__":
    main()
