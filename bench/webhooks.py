"""Webhook delivery benchmark: events emitted through the outbox, delivered by real Celery
workers to a loopback receiver; a burst (throughput) and a paced phase (commit-to-delivery
latency at a steady rate).

    .venv/bin/python bench/webhooks.py [--events 5000] [--rate 200] [--seconds 20]
                                       [--workers 2] [--concurrency 4] [--per-commit 10]
                                       [--subjects 100] [--phases burst,paced] [--emitters 2]
                                       [--pool prefork|threads|solo]

What it does, on the database of ``DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/b2b_bench_webhooks``, created when missing, migrated,
its outbox and webhook tables emptied: it refuses a name without "bench" unless ``--force``)
and the Redis of ``--broker`` (default ``redis://127.0.0.1:6379/12``, flushed; the cache uses
the next database, 13):

1. starts a receiver (a threaded ``http.server`` speaking HTTP/1.1 keep-alive, in its own
   process) on a loopback port that answers 204 to every POST and records, per request, its
   arrival time, headers, body and TCP connection;
2. subscribes one endpoint to every event type; ``--workers`` Celery worker processes
   (``--pool``, ``--concurrency`` each) and celery beat (the sweeper, as in production) are
   started after the burst is emitted;
3. **burst**: before the workers start, emits ``--events`` ``customer.updated`` events with
   ``event_emit``, ``--per-commit`` per transaction, spread over ``--subjects`` subjects (so
   the per-subject ordering rule is in force); starts the workers and waits until all are
   delivered: deliveries/s = events / (first arrival to last arrival), the rate at which
   the workers drain a backlog (the emitter, one process, is not what is measured);
4. **paced**: emits ``--rate`` events/s for ``--seconds`` the same way (from ``--emitters``
   processes, each emitting the events of its share of the subjects, in order, at its time),
   and waits: the commit-to-arrival latency p50 / p95 / p99 / max at that rate;
5. checks: every event received, no event received twice nor under two webhook-ids, every
   signature valid (the ``standardwebhooks`` verifier), each subject's events in order;
   prints the TCP connections the receiver saw, the CPU per delivery and the load average.

The CPU of the workers is read from ``/proc`` (every process of their groups) per phase.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from _common import (
    PYTHON,
    database_url,
    ensure_database,
    free_port,
    group_cpu,
    keep_bench_off_path,
    log,
    manage,
    plain_log,
    setup_django,
    spawn,
    stop,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/b2b_bench_webhooks"
DEFAULT_BROKER = "redis://127.0.0.1:6379/12"
TABLES = (
    "integrations_webhookattempt",
    "integrations_webhookdelivery",
    "integrations_outboxevent",
    "integrations_webhookendpoint",
)


# --- the receiver (its own process: ``bench/webhooks.py receive PORT FILE``) ------------------


def receive(port: int, out: str) -> None:
    # (n, webhook-id, arrived, connection, webhook-timestamp, webhook-signature, body)
    arrivals: list[tuple] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive
        disable_nagle_algorithm = True

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            arrived = time.time()
            arrivals.append(
                (
                    json.loads(body)["data"]["n"],
                    self.headers["webhook-id"],
                    arrived,
                    f"{self.client_address[0]}:{self.client_address[1]}",
                    self.headers["webhook-timestamp"],
                    self.headers["webhook-signature"],
                    body.decode(),
                )
            )
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


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} CPUs"


# --- the benchmark ----------------------------------------------------------------------------


def main() -> None:
    # the script's own directory first on sys.path would shadow packages (bench/request_cost.py)
    keep_bench_off_path()
    plain_log()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5_000, help="events of the burst")
    parser.add_argument("--rate", type=float, default=200, help="events/s of the paced phase")
    parser.add_argument("--seconds", type=float, default=20, help="length of the paced phase")
    parser.add_argument("--phases", default="burst,paced")
    parser.add_argument("--emitters", type=int, default=2, help="processes emitting the paced")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--concurrency", type=int, default=4, help="pool size of each worker")
    parser.add_argument("--pool", default="prefork", choices=["prefork", "threads", "solo"])
    parser.add_argument("--per-commit", type=int, default=10, help="events per transaction")
    parser.add_argument("--subjects", type=int, default=100, help="ordering keys")
    parser.add_argument("--broker", default=os.environ.get("BENCH_BROKER_URL", DEFAULT_BROKER))
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait at most")
    parser.add_argument("--force", action="store_true", help="a database not named *bench*")
    args = parser.parse_args()
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    if not phases or set(phases) - {"burst", "paced"}:
        raise SystemExit("--phases: burst, paced or both")
    if not (0 < args.events <= 1_000_000 and 0 < args.workers <= 16):
        raise SystemExit("--events 1..1000000, --workers 1..16")
    if not (0 < args.concurrency <= 64 and 0 < args.per_commit <= 10_000):
        raise SystemExit("--concurrency 1..64, --per-commit 1..10000")
    if not (0 < args.rate <= 100_000 and 0 < args.seconds <= 3600):
        raise SystemExit("--rate 0..100000, --seconds 0..3600")
    if not 0 < args.emitters <= 16:
        raise SystemExit("--emitters 1..16")
    if not 0 < args.subjects <= args.events:
        raise SystemExit("--subjects 1..events")

    url = database_url(DEFAULT_DATABASE_URL, force=args.force)
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
    manage("migrate", "--noinput", env=env)
    os.environ.update(env)
    setup_django()
    import redis
    from django.db import connection, transaction
    from standardwebhooks.webhooks import Webhook

    from apps.core.events import event_emit
    from apps.integrations.models import WebhookDelivery
    from apps.integrations.services.endpoints import webhook_endpoint_create

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    redis.Redis.from_url(args.broker).flushdb()
    redis.Redis.from_url(cache).flushdb()

    tmp = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    port = free_port()
    logfile = (tmp / "processes.log").open("w")
    receiver = spawn(
        [PYTHON, __file__, "receive", str(port), str(tmp / "arrivals.json")],
        log_file=logfile,
        env=env,
    )
    _endpoint, secret = webhook_endpoint_create(
        url=f"http://127.0.0.1:{port}/hooks", event_types=["*"]
    )
    committed: dict[int, float] = {}
    results: dict[str, dict] = {}
    log(f"before: {load()}")

    def emit(
        first: int, count: int, rate: float | None, *, share: int = 0, shares: int = 1
    ) -> float:
        """Commits the events of the subjects of ``share`` (subject number modulo ``shares``;
        a subject's events come from one process, one transaction after the other, so their
        order is defined), ``--per-commit`` to a transaction, each at its time."""
        mine = [n for n in range(first, first + count) if (n % args.subjects) % shares == share]
        began = time.time()
        for offset in range(0, len(mine), args.per_commit):
            numbers = mine[offset : offset + args.per_commit]
            if rate:
                time.sleep(max(0.0, began + offset * shares / rate - time.time()))
            with transaction.atomic():
                for n in numbers:
                    code = f"BENCH{n % args.subjects:04d}"
                    event_emit(
                        "customer.updated",
                        {"n": n, "code": code, "name": "Bench Ltd."},
                        subject=f"customer:{code}",
                    )
            now = time.time()
            for n in numbers:
                committed[n] = now
        return time.time() - began

    def emit_forked(first: int, count: int, rate: float) -> float:
        """``emit`` in ``--emitters`` forked processes (one alone cannot keep the rate on a
        busy machine); their commit times are merged."""
        from config.celery import app as celery_app

        connection.close()  # each child opens its own database connection ...
        celery_app.close()  # ... and broker connection
        began = time.time()
        children = []
        for share in range(args.emitters):
            out = tmp / f"committed-{first}-{share}.json"
            pid = os.fork()
            if pid == 0:  # the child
                try:
                    committed.clear()
                    emit(first, count, rate, share=share, shares=args.emitters)
                    out.write_text(json.dumps(committed))
                finally:
                    os._exit(0)
            children.append((pid, out))
        for pid, out in children:
            os.waitpid(pid, 0)
            committed.update({int(n): at for n, at in json.loads(out.read_text()).items()})
        return time.time() - began

    def wait_delivered(total: int) -> bool:
        deadline = time.time() + args.timeout
        while time.time() < deadline:
            if WebhookDelivery.objects.filter(status="delivered").count() >= total:
                return True
            time.sleep(0.2)
        return False

    burst = "burst" in phases
    total = args.events if burst else 0
    if burst:  # emitted before the workers start: a backlog to drain
        emitted = emit(0, args.events, None)
        log(
            f"burst: emitted {args.events} events in {emitted:.1f} s "
            f"({args.events / emitted:.0f} events/s), workers stopped"
        )
    celery = [PYTHON, "-m", "celery", "-A", "config"]
    workers = [
        spawn(
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
            log_file=logfile,
            env=env,
        )
        for n in range(args.workers)
    ]
    beat = spawn(
        # the database scheduler, as in production (the bench database's schedule)
        [*celery, "beat", "--loglevel=WARNING"],
        log_file=logfile,
        env=env,
    )
    groups = [proc.pid for proc in (*workers, beat)]
    try:
        from config.celery import app as celery_app

        ready = time.time() + 120
        while len(celery_app.control.ping(timeout=1.0)) < args.workers:  # the workers are up
            if time.time() > ready:
                raise SystemExit("the workers did not answer within 120 s")
        log(
            f"{args.workers} workers x {args.concurrency} ({args.pool}) + beat; "
            f"{args.per_commit} events per commit, {args.subjects} subjects; "
            f"WEBHOOK_BATCH_SIZE={os.environ.get('WEBHOOK_BATCH_SIZE', 'default')}"
        )
        if burst:
            cpu_before = group_cpu(groups)
            complete = wait_delivered(total)
            time.sleep(0.5)  # the last records
            results["burst"] = {
                "first": 0,
                "count": args.events,
                "cpu": group_cpu(groups) - cpu_before,
                "complete": complete,
                "load": load(),
            }
        if "paced" in phases:
            count = int(args.rate * args.seconds)
            first = total
            total += count
            cpu_before = group_cpu(groups)
            emitted = emit_forked(first, count, args.rate)
            log(
                f"paced: emitted {count} events in {emitted:.1f} s ({count / emitted:.0f}/s, "
                f"{args.emitters} emitter processes)"
            )
            complete = wait_delivered(total)
            time.sleep(0.5)  # the last records
            results["paced"] = {
                "first": first,
                "count": count,
                "cpu": group_cpu(groups) - cpu_before,
                "complete": complete,
                "load": load(),
            }
    finally:
        for proc in (*workers, beat):
            stop(proc)
        stop(receiver)
        logfile.close()

    arrivals = json.loads((tmp / "arrivals.json").read_text())
    first_arrival: dict[int, float] = {}
    ids: dict[int, set[str]] = {}
    connections: dict[str, int] = {}
    signer = Webhook(secret)
    bad_signatures = 0
    order: dict[str, list[int]] = {}
    for n, webhook_id, at, conn, timestamp, signature, body in arrivals:
        first_arrival[n] = min(at, first_arrival.get(n, at))
        ids.setdefault(n, set()).add(webhook_id)
        connections[conn] = connections.get(conn, 0) + 1
        order.setdefault(f"BENCH{n % args.subjects:04d}", []).append(n)
        # the verifier's own signing (its freshness window is left out: checked after the run)
        expected = signer.sign(webhook_id, datetime.fromtimestamp(int(timestamp), UTC), body)
        if expected not in signature.split(" "):
            bad_signatures += 1
    out_of_order = sum(1 for ns in order.values() if ns != sorted(ns))
    for phase, result in results.items():
        numbers = range(result["first"], result["first"] + result["count"])
        got = [n for n in numbers if n in first_arrival]
        latencies = [first_arrival[n] - committed[n] for n in got]
        log(f"--- {phase}: received {len(got)} of {result['count']} events")
        if not got:
            continue
        if phase == "burst":  # the backlog drained: first arrival to last
            span = max(first_arrival[n] for n in got) - min(first_arrival[n] for n in got)
            log(
                f"deliveries/s: {len(got) / span:.0f} (a backlog of {result['count']} events: "
                f"first arrival to last {span:.1f} s)"
            )
        else:
            span = max(first_arrival[n] for n in got) - min(committed[n] for n in numbers)
            log(f"deliveries/s: {len(got) / span:.0f} (first commit to last arrival {span:.1f} s)")
        log(
            "commit -> delivery: "
            + ", ".join(
                f"{name} {percentile(latencies, share) * 1000:.0f} ms"
                for name, share in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))
            )
        )
        log(
            f"CPU of workers + beat: {result['cpu']:.1f} s "
            f"({result['cpu'] / result['count'] * 1000:.2f} ms/delivery); after: {result['load']}"
        )
    attempts = WebhookDelivery.objects.filter(attempt_count__gt=1).count()
    log("--- checks")
    log(
        f"requests {len(arrivals)} on {len(connections)} TCP connections; events received "
        f"{len(first_arrival)} of {len(committed)}; requests for an event already received: "
        f"{len(arrivals) - len(first_arrival)}; events with two webhook-ids: "
        f"{sum(1 for s in ids.values() if len(s) > 1)}; bad signatures: {bad_signatures}; "
        f"subjects out of order: {out_of_order}; deliveries that needed a second attempt: "
        f"{attempts}"
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "receive":
        receive(int(sys.argv[2]), sys.argv[3])
    else:
        main()
