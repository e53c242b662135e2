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
# this file is named like the ``requests`` library: keep its folder off the import path, or an
# ``import requests`` in the project (webhooks, SMS) would import this script instead
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
PYTHON = sys.executable
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/b2b_reqbench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
DEFAULT_DEALER_EMAIL = "owner@demo002.example.com"  # DEMO002, tier B
DEALER_PASSWORD = "Demo-Dealer-2026"  # noqa: S105 - the printed demo login
HIGH_LIMIT = "1000000/min"  # counted on every request, never reached

WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nBENCH {"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d, '
    .. '"p50_us": %d, "p95_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


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


def bench_env(args: argparse.Namespace) -> dict[str, str]:
    limit = HIGH_LIMIT if args.rate_limits == "on" else "off"
    return {
        "DATABASE_URL": os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL),
        "REDIS_URL": os.environ.get("REDIS_URL", DEFAULT_REDIS_URL),
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "CELERY_BROKER_URL": "",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "RATE_LIMIT_USER": limit,
        "RATE_LIMIT_IP": limit,
        "RATE_LIMIT_API_KEY": limit,
        "RATE_LIMIT_AUTH_IP": limit,
        "LOG_LEVEL": "WARNING",
        "JWT_ACCESS_MINUTES": "120",
    }


# --- database -----------------------------------------------------------------------------------


def ensure_database(url: str) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name or not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise SystemExit(f"refusing database {name!r}: the name must contain 'bench'")
    admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            log(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def manage(*args: str) -> None:
    result = subprocess.run(  # noqa: S603 - our own manage.py
        [PYTHON, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=os.environ.copy(),
        text=True,
        capture_output=True,
        timeout=1800,
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def seed(args: argparse.Namespace) -> str:
    from apps.accounts.models import User

    user = User.objects.select_related("customer").filter(email__iexact=args.dealer_email).first()
    if user is None:
        log("seed_demo --products 20 --dealers 4")
        manage("seed_demo", "--products", "20", "--dealers", "4")
        user = User.objects.select_related("customer").get(email__iexact=args.dealer_email)
    perms = len(user.get_all_permissions())
    return (
        f"{User.objects.count()} users; dealer {user.email} ({user.role}) of "
        f"{user.customer.code}, {perms} permissions"
    )


# --- server and load ----------------------------------------------------------------------------


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
    log(f"starting gunicorn ({workers} sync workers) on 127.0.0.1:{port}")
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
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=35)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    log("gunicorn stopped")


def login(base: str, email: str) -> str:
    body = json.dumps({"email": email, "password": DEALER_PASSWORD}).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{base}/api/v1/auth/token", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        return json.loads(response.read())["access"]


def run_wrk(url: str, token: str | None, seconds: int, args, script: str) -> dict:
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s"]
    command += ["--timeout", "10s", "-s", script]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    result = subprocess.run(  # noqa: S603 - wrk on loopback
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60
    )
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


def run_threads(url: str, token: str | None, seconds: int, args) -> dict:
    """A bounded keep-alive thread loop, when wrk is not installed (it saturates sooner than
    wrk: the ratio is then a floor, not the server's figure)."""
    parts = urllib.parse.urlsplit(url)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker():
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        mine, failed = [], 0
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                conn.request("GET", parts.path, headers=headers)
                response = conn.getresponse()
                response.read()
                failed += response.status != 200
            except (OSError, http.client.HTTPException):
                failed += 1
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            errors[0] += failed

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


def measure(url: str, token: str | None, args, script: str | None, meter: CpuMeter) -> dict:
    if script:
        run_wrk(url, token, args.warmup, args, script)
        meter.start()
        result = run_wrk(url, token, args.duration, args, script)
    else:
        run_threads(url, token, args.warmup, args)
        meter.start()
        result = run_threads(url, token, args.duration, args)
    result.update(meter.stop(result["requests"]))
    return result


# --- CPU per request (what the machine's load does not change) ---------------------------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def _cpu_seconds(pid: int) -> float:
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / _TICK if fields else 0.0  # utime + stime


def _children_cpu_seconds(pid: int) -> float:
    """CPU of the children ``pid`` has reaped (gunicorn's workers replaced after max_requests)."""
    fields = _stat(pid)
    return (int(fields[13]) + int(fields[14])) / _TICK if fields else 0.0  # cutime + cstime


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


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
        workers = _children(self.master_pid)
        app = sum(_cpu_seconds(pid) for pid in workers) + _children_cpu_seconds(self.master_pid)
        backends = _database_backends() if Path("/proc").is_dir() else []
        return app, {pid: _cpu_seconds(pid) for pid in backends}, set(workers)

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
    os.environ.update(bench_env(args))
    ensure_database(os.environ["DATABASE_URL"])
    if not args.skip_migrate:
        log("migrating")
        manage("migrate", "--noinput")
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
        script = str(workdir / "report.lua")
        Path(script).write_text(WRK_REPORT)
        generator = f"wrk -t{args.threads} -c{args.connections}"
    else:
        generator = f"Python thread loop, {args.connections} connections (wrk not installed)"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    load_before = os.getloadavg()
    proc = start_gunicorn(port, args.workers)
    rows: list[tuple[dict, dict]] = []
    try:
        token = login(base, args.dealer_email)
        meter = CpuMeter(proc.pid)
        for number in range(1, args.rounds + 1):
            live = measure(f"{base}/health/live", None, args, script, meter)
            me = measure(f"{base}/api/v1/me", token, args, script, meter)
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
