"""What the bench/ scripts share: the project's paths, progress lines, the *bench* database
(the name guard, creation, ``manage.py``, Django in process), the bench environment, gunicorn on
a free loopback port, child processes and what /proc tells of them, and the load generators (wrk
with a Lua report, or a thread loop when wrk is missing).

The scripts run as ``.venv/bin/python bench/X.py``: Python puts bench/ first on ``sys.path``,
so ``from _common import ...`` finds this file from any working directory. Only the standard
library is imported at the top (psycopg when a database is created).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
PYTHON = sys.executable
HOST = "127.0.0.1"

# --- output -------------------------------------------------------------------------------------

_stamped = True


def log(message: str) -> None:
    """A progress line, flushed at once, after ``[bench HH:MM:SS]`` unless ``plain_log()``."""
    stamp = f"[bench {time.strftime('%H:%M:%S')}] " if _stamped else ""
    print(stamp + message, flush=True)


def plain_log() -> None:
    """``log`` prints the bare message from now on (erp_sync.py and webhooks.py: their results
    are printed through it)."""
    global _stamped
    _stamped = False


def keep_bench_off_path() -> None:
    """Take bench/ off ``sys.path`` (Python puts a script's folder first), where a script named
    like a module the project imports would shadow it. Call it after importing from here."""
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR]


# --- the database -------------------------------------------------------------------------------


def database_name(url: str, *, force: bool | None = None) -> str:
    """The database name of ``url``. A benchmark writes and empties tables: a name without
    "bench" is refused unless ``force`` (the script's ``--force``; None: it has none), and a
    name of other characters than letters, digits and _ always."""
    name = urllib.parse.urlsplit(url).path.lstrip("/")
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise SystemExit(f"refusing an unusual database name: {name!r}")
    if "bench" not in name and not force:
        hint = ", or --force" if force is not None else ""
        raise SystemExit(f"refusing database {name!r}: use a name containing 'bench'{hint}")
    return name


def database_url(default: str, *, force: bool | None = None) -> str:
    """``DATABASE_URL``, else ``default``, once ``database_name`` accepts it."""
    url = os.environ.get("DATABASE_URL", default)
    database_name(url, force=force)
    return url


def ensure_database(url: str) -> None:
    """Create the database of ``url`` when missing (connected to ``postgres`` on its server)."""
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = database_name(url, force=True)  # the callers have applied the "bench" guard
    admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            log(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def manage(
    *args: str, env: dict | None = None, check: bool = True, timeout: float | None = None
) -> subprocess.CompletedProcess:
    """``manage.py *args`` in a child process (the environment ``env``, else this process's),
    its output captured; with ``check`` a failure ends the benchmark with that output."""
    done = subprocess.run(  # noqa: S603 - our own manage.py
        [PYTHON, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=os.environ.copy() if env is None else env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode:
        raise SystemExit(
            f"manage.py {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return done


def setup_django() -> None:
    """Django in this process, on the environment as it stands."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def use_bench_env(
    url: str, *, redis_url: str | None = None, rate_limit: str = "off", **extra: str
) -> None:
    """Put the bench environment in ``os.environ`` (what ``manage``, ``setup_django`` and
    gunicorn then run under): this database, DEBUG off, a fresh SECRET_KEY, loopback hosts, no
    SSL redirect, Celery eager without a broker, every rate limit ``rate_limit`` (off, or a
    limit such as 1000000/min), warnings only, access tokens that outlast the run. ``redis_url``:
    REDIS_URL (None: the environment's, else the in-process cache); ``extra``: more variables."""
    limits = ("RATE_LIMIT_USER", "RATE_LIMIT_IP", "RATE_LIMIT_API_KEY", "RATE_LIMIT_AUTH_IP")
    os.environ.update(
        {
            "DATABASE_URL": url,
            "CELERY_TASK_ALWAYS_EAGER": "1",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            **dict.fromkeys(limits, rate_limit),
            "LOG_LEVEL": "WARNING",
            "JWT_ACCESS_MINUTES": "120",
            **({"REDIS_URL": redis_url} if redis_url else {}),
            **extra,
        }
    )
    os.environ.pop("CELERY_BROKER_URL", None)


# --- processes ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def spawn(command: list[str], *, log_file, env: dict | None = None) -> subprocess.Popen:
    """``command`` in the project folder and a session of its own (``stop`` ends its process
    group; a Ctrl-C reaches only the script, which stops it), its output into ``log_file``, an
    open file (a pipe nobody reads fills up and blocks the child)."""
    return subprocess.Popen(  # noqa: S603 - our own programs
        command,
        cwd=ROOT,
        env=os.environ.copy() if env is None else env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen, *, grace: float = 30) -> None:
    """SIGTERM to the process group of ``proc`` (``spawn``), SIGKILL after ``grace`` seconds."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def start_gunicorn(
    port: int,
    workers: int,
    *,
    worker_class: str = "sync",
    threads: int = 1,
    backlog: int | None = None,
    access_log: bool = False,
    log_path: Path | None = None,
    quiet: bool = False,
) -> subprocess.Popen:
    """The app under gunicorn with the production settings (config/gunicorn.conf.py) and this
    process's environment (``use_bench_env``) on the loopback ``port``: ``workers`` processes of
    ``worker_class`` (with ``threads`` each when not sync), the listen ``backlog``, the access
    log off unless ``access_log``; its output into ``log_path`` (default
    bench-<script>-gunicorn-<port>.log in the temporary folder). Returns once /health/live
    answers (60 s at most); ``quiet``: no progress lines."""
    command = [
        str(Path(PYTHON).with_name("gunicorn")),
        "-c",
        str(ROOT / "config/gunicorn.conf.py"),
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
    ]
    kind = f"{workers} {worker_class} workers"
    if worker_class != "sync":
        command += ["--worker-class", worker_class, "--threads", str(threads)]
        kind += f" x {threads} threads"
    if backlog:
        command += ["--backlog", str(backlog)]
    if not access_log:
        command += ["--access-logfile", "/dev/null"]
    command.append("config.wsgi:application")
    if log_path is None:
        stem = Path(sys.argv[0]).stem
        log_path = Path(tempfile.gettempdir()) / f"bench-{stem}-gunicorn-{port}.log"
    if not quiet:
        log(f"starting gunicorn ({kind}) on {HOST}:{port}, its log {log_path}")
    with open(log_path, "w") as log_file:
        proc = spawn(command, log_file=log_file)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(
                f"gunicorn exited at start ({log_path}):\n{log_path.read_text()[-2000:]}"
            )
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/health/live", timeout=2):
                return proc
        except OSError:
            time.sleep(0.2)
    stop_gunicorn(proc, quiet=quiet)
    raise SystemExit(f"gunicorn did not answer within 60 s (its log: {log_path})")


def stop_gunicorn(proc: subprocess.Popen, *, quiet: bool = False) -> None:
    """Stop gunicorn (graceful: its workers finish their requests, within 35 s)."""
    stop(proc, grace=35)
    if not quiet:
        log("gunicorn stopped")


# --- /proc --------------------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def proc_stat(pid: int | str) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name ([0] state, [2] process group,
    [11] utime, [12] stime, [13] cutime, [14] cstime); [] when the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def cpu_seconds(pid: int | str, *, reaped: bool = False) -> float:
    """CPU seconds (user + system) of ``pid``, or with ``reaped`` of the children it has
    waited for (gunicorn's workers replaced after max_requests)."""
    fields = proc_stat(pid)
    first = 13 if reaped else 11
    return (int(fields[first]) + int(fields[first + 1])) / CLOCK_TICKS if fields else 0.0


def group_cpu(groups: list[int]) -> float:
    """CPU seconds (user + system) of the live processes of these process groups (``spawn``
    gives each program a group of its own: gunicorn and its workers, a Celery worker and its
    pool)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        fields = proc_stat(entry.name) if entry.name.isdigit() else []
        if fields and int(fields[2]) in groups:  # pgrp
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    return total


def children(pid: int) -> list[int]:
    """The live children of ``pid`` (gunicorn's master: its workers)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def worker_rss_mb(master: int) -> list[float]:
    """Resident memory of each gunicorn worker (the master's children), in MB."""
    sizes = []
    for pid in children(master):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
    return sizes


# --- HTTP and load ------------------------------------------------------------------------------


def request_json(
    url: str, *, token: str | None = None, body: dict | None = None, timeout: float = 30
) -> dict:
    """GET ``url`` (POST with a JSON ``body``), as ``token``'s bearer; the JSON answer."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 - loopback
    with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def login(origin: str, email: str, password: str) -> str:
    """An access token of ``email`` from ``POST <origin>/api/v1/auth/token``."""
    try:
        answer = request_json(
            f"{origin}/api/v1/auth/token", body={"email": email, "password": password}, timeout=60
        )
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"login of {email} failed: {exc.code} {exc.read()[:500]!r}") from exc
    return answer["access"]


def percentile_ms(ordered: list[float], p: float) -> float:
    """The ``p``-th percentile of sorted seconds (the value at rank n * p / 100), in ms."""
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000


# wrk calls ``done`` at the end of a run: one line with what the benchmarks read
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


def wrk_script(directory: str | Path, name: str = "report.lua", lua: str = "") -> str:
    """Write ``lua`` (request or delay functions) and ``WRK_REPORT`` to ``directory/name``;
    its path."""
    path = Path(directory) / name
    path.write_text(lua + WRK_REPORT)
    return str(path)


def run_wrk(
    url: str, seconds: int, *, script: str, connections: int, threads: int, headers: dict
) -> dict:
    """wrk on ``url`` for ``seconds`` (``script``: a ``wrk_script``; requests time out after
    10 s): requests/s, p50/p95/p99 in ms, requests, errors (non-2xx/3xx and socket errors)."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    command += ["-s", script]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
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


def run_threads(url: str, seconds: int, *, connections: int, headers: dict) -> dict:
    """A bounded keep-alive thread loop, when wrk is not installed (it saturates sooner than
    wrk: a ratio is then a floor, not the server's figure); the figures of ``run_wrk``, every
    answer but 200 an error."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
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
                conn.request("GET", path, headers=headers)
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

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": percentile_ms(latencies, 50),
        "p95_ms": percentile_ms(latencies, 95),
        "p99_ms": percentile_ms(latencies, 99),
        "requests": len(latencies),
        "errors": errors[0],
    }


def measure(url: str, args, *, script: str | None, headers: dict, before=None) -> dict:
    """``args.warmup`` seconds of load on ``url`` (not kept), ``before()`` if given, then
    ``args.duration`` seconds measured: wrk with ``script`` when given, else the thread loop;
    ``args.connections`` connections (and ``args.threads`` wrk threads)."""

    def load(seconds: int) -> dict:
        if script:
            return run_wrk(
                url,
                seconds,
                script=script,
                connections=args.connections,
                threads=args.threads,
                headers=headers,
            )
        return run_threads(url, seconds, connections=args.connections, headers=headers)

    load(args.warmup)
    if before is not None:
        before()
    return load(args.duration)
