"""Webhook delivery benchmark: events emitted through the outbox, delivered by real Celery
workers to a loopback receiver.

    .venv/bin/python bench/webhooks.py [--events 10000] [--workers 2] [--concurrency 4]
                                       [--per-commit 10] [--subjects 100] [--rate 0]
                                       [--pool prefork|threads|solo]

What it does, on the database of ``DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/b2b_bench_webhooks``, created when missing, migrated,
its outbox and webhook tables emptied: it refuses a name without "bench" unless ``--force``)
and the Redis of ``--broker`` (default ``redis://127.0.0.1:6379/10``, flushed):

1. starts a receiver (a threaded ``http.server`` in its own process) on a loopback port that
   answers 204 to every POST and records, per event, its arrival time and ``webhook-id``;
2. subscribes one endpoint to every event type, starts ``--workers`` Celery worker processes
   (``--pool``, ``--concurrency`` each) and celery beat (the sweeper, as in production);
3. emits ``--events`` ``customer.updated`` events with ``event_emit``, ``--per-commit`` per
   transaction, spread over ``--subjects`` subjects (so the per-subject ordering rule is in
   force), as fast as it can or at ``--rate`` events/s; the time of each commit is noted;
4. waits until every delivery is recorded as delivered, then prints deliveries/s (events /
   time from the first commit to the last arrival), the commit-to-arrival latency (p50, p95,
   p99, max), and how many requests the receiver got more than once (same webhook-id).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/b2b_bench_webhooks"
DEFAULT_BROKER = "redis://127.0.0.1:6379/10"
TABLES = (
    "integrations_webhookattempt",
    "integrations_webhookdelivery",
    "integrations_outboxevent",
    "integrations_webhookendpoint",
)


def log(message: str) -> None:
    print(message, flush=True)


# --- the receiver (its own process: ``bench/webhooks.py receive PORT FILE``) ------------------


def receive(port: int, out: str) -> None:
    arrivals: list[tuple[int, str, float]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            arrived = time.time()
            arrivals.append((json.loads(body)["data"]["n"], self.headers["webhook-id"], arrived))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.request_queue_size = 128

    def finish(*_args):
        Path(out).write_text(json.dumps(arrivals))
        os._exit(0)

    signal.signal(signal.SIGTERM, finish)
    server.serve_forever()


# --- helpers ----------------------------------------------------------------------------------


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            log(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(args: list[str], env: dict, logfile) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 (our own programs)
        args, cwd=ROOT, env=env, stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# --- the benchmark ----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--concurrency", type=int, default=4, help="pool size of each worker")
    parser.add_argument("--pool", default="prefork", choices=["prefork", "threads", "solo"])
    parser.add_argument("--per-commit", type=int, default=10, help="events per transaction")
    parser.add_argument("--subjects", type=int, default=100, help="ordering keys")
    parser.add_argument("--rate", type=float, default=0, help="events/s to emit (0: at once)")
    parser.add_argument("--broker", default=os.environ.get("BENCH_BROKER_URL", DEFAULT_BROKER))
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait at most")
    parser.add_argument("--force", action="store_true", help="a database not named *bench*")
    args = parser.parse_args()
    if not (0 < args.events <= 1_000_000 and 0 < args.workers <= 16):
        raise SystemExit("--events 1..1000000, --workers 1..16")
    if not (0 < args.concurrency <= 64 and 0 < args.per_commit <= 10_000):
        raise SystemExit("--concurrency 1..64, --per-commit 1..10000")
    if not 0 < args.subjects <= args.events:
        raise SystemExit("--subjects 1..events")

    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    if "bench" not in urlsplit(url).path and not args.force:
        raise SystemExit("the benchmark empties tables: use a database named *bench*, or --force")
    cache = urlunsplit(
        urlsplit(args.broker)._replace(
            path=f"/{int(urlsplit(args.broker).path.strip('/') or 0) + 1}"
        )
    )
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CELERY_BROKER_URL": args.broker,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "REDIS_URL": cache,
        "WEBHOOK_ALLOW_LOOPBACK": "1",
        "WEBHOOK_REQUIRE_HTTPS": "0",
        "LOG_LEVEL": "WARNING",
    }
    ensure_database(url)
    log("migrating ...")
    done = subprocess.run(  # noqa: S603
        [PYTHON, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"migrate failed:\n{done.stdout}\n{done.stderr}")

    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import redis
    from django.db import connection, transaction

    from apps.integrations.events import event_emit
    from apps.integrations.models import WebhookDelivery
    from apps.integrations.services.endpoints import webhook_endpoint_create

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    redis.Redis.from_url(args.broker).flushdb()

    def cpu(who) -> float:
        usage = resource.getrusage(who)
        return usage.ru_utime + usage.ru_stime

    children_before = cpu(resource.RUSAGE_CHILDREN)
    tmp = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    port = free_port()
    logfile = (tmp / "processes.log").open("w")
    receiver = start(
        [PYTHON, __file__, "receive", str(port), str(tmp / "arrivals.json")], env, logfile
    )
    webhook_endpoint_create(url=f"http://127.0.0.1:{port}/hooks", event_types=["*"])
    celery = [PYTHON, "-m", "celery", "-A", "config"]
    workers = [
        start(
            [
                *celery,
                "worker",
                f"--concurrency={args.concurrency}",
                f"--pool={args.pool}",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                f"--hostname=bench{n}@%h",
            ],
            env,
            logfile,
        )
        for n in range(args.workers)
    ]
    beat = start(
        [*celery, "beat", "--loglevel=WARNING", f"--schedule={tmp / 'beat'}"], env, logfile
    )
    try:
        from config.celery import app as celery_app

        ready = time.time() + 120
        while len(celery_app.control.ping(timeout=1.0)) < args.workers:  # the workers are up
            if time.time() > ready:
                raise SystemExit("the workers did not answer within 120 s")
        log(
            f"emitting {args.events} events, {args.per_commit} per commit, {args.subjects} "
            f"subjects, {'as fast as possible' if not args.rate else f'{args.rate:g}/s'}; "
            f"{args.workers} workers x {args.concurrency} ({args.pool})"
        )
        committed: dict[int, float] = {}
        emitter_before = cpu(resource.RUSAGE_SELF)
        began = time.time()
        for first in range(0, args.events, args.per_commit):
            numbers = range(first, min(first + args.per_commit, args.events))
            if args.rate:
                time.sleep(max(0.0, began + first / args.rate - time.time()))
            with transaction.atomic():
                for n in numbers:
                    event_emit(
                        "customer.updated",
                        {"n": n, "code": f"BENCH{n % args.subjects:04d}", "name": "Bench Ltd."},
                        subject=f"customer:BENCH{n % args.subjects:04d}",
                    )
            now = time.time()
            for n in numbers:
                committed[n] = now
        emitted = time.time() - began
        emitter_cpu = cpu(resource.RUSAGE_SELF) - emitter_before
        log(f"emitted in {emitted:.1f} s ({args.events / emitted:.0f} events/s)")

        deadline = time.time() + args.timeout
        delivered = 0
        while time.time() < deadline:
            delivered = WebhookDelivery.objects.filter(status="delivered").count()
            if delivered >= args.events:
                break
            time.sleep(0.5)
        if delivered < args.events:
            log(f"only {delivered} of {args.events} delivered within {args.timeout:g} s")
    finally:
        for proc in (*workers, beat):
            stop(proc)
        stop(receiver)
        logfile.close()

    children_cpu = cpu(resource.RUSAGE_CHILDREN) - children_before
    arrivals = json.loads((tmp / "arrivals.json").read_text())
    first_arrival: dict[int, float] = {}
    ids: dict[int, set[str]] = {}
    for n, webhook_id, at in arrivals:
        first_arrival[n] = min(at, first_arrival.get(n, at))
        ids.setdefault(n, set()).add(webhook_id)
    latencies = [first_arrival[n] - committed[n] for n in first_arrival]
    span = max(first_arrival.values()) - min(committed.values())
    attempts = WebhookDelivery.objects.filter(attempt_count__gt=1).count()
    log(f"received {len(first_arrival)} of {args.events} events ({len(arrivals)} requests)")
    log(
        f"deliveries/s: {len(first_arrival) / span:.0f} (first commit to last arrival {span:.1f} s)"
    )
    log(
        "commit -> delivery: "
        + ", ".join(
            f"{name} {percentile(latencies, share) * 1000:.0f} ms"
            for name, share in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))
        )
    )
    log(
        f"CPU: emitter {emitter_cpu:.1f} s ({emitter_cpu / args.events * 1000:.2f} ms/event), "
        f"workers + beat + receiver {children_cpu:.1f} s "
        f"({children_cpu / args.events * 1000:.2f} ms/delivery); load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    log(
        f"requests for an event already received: {len(arrivals) - len(first_arrival)}; "
        f"events with two webhook-ids: {sum(1 for s in ids.values() if len(s) > 1)}; "
        f"deliveries that needed a second attempt: {attempts}"
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "receive":
        receive(int(sys.argv[2]), sys.argv[3])
    else:
        main()
