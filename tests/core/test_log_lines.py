"""Logs are JSON lines on stdout (docs/operations.md), gunicorn's own too: its start-up lines
and one access line per request, with the request id the response carried."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.celery_workers import Workers, worker_env
from tests.conftest import ROOT, free_port, subprocess_database_url, wait_for_port

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_gunicorn_writes_json_lines_with_the_request_id(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": subprocess_database_url(),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "WARNING",
        # as in production (with DEBUG on, Django also prints its own plain lines on stderr)
        "DEBUG": "0",
        "SECRET_KEY": "log-lines-test-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        # an existing folder: whitenoise warns on stderr, not in JSON, about a missing one
        "STATIC_ROOT": str(tmp_path),
    }
    log, errors = tmp_path / "gunicorn.log", tmp_path / "stderr.log"
    with log.open("w") as out, errors.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=err,  # the app's lines went there (a handler without a stream)
        )
    try:
        wait_for_port(port, timeout=30)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/health/live", headers={"X-Request-ID": "probe-42"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
            assert response.status == 200
        # a foreign Host header: a 400 and one WARNING line, not an ERROR with a traceback
        # (anyone could fill the logs and page whoever watches them)
        foreign = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/", headers={"Host": "evil.example"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(foreign, timeout=10)  # noqa: S310 (loopback)
        assert refused.value.code == 400
        # a long query (a 5,000-character search) reaches the app and its JSON answer, not
        # gunicorn's HTML 414 (its request line limit is raised to its maximum, 8190)
        long = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/products?search={'a' * 5000}"
        )
        with pytest.raises(urllib.error.HTTPError) as answered:
            urllib.request.urlopen(long, timeout=10)  # noqa: S310 (loopback)
        assert answered.value.code == 401
        assert answered.value.headers["Content-Type"].startswith("application/json")
        time.sleep(0.5)  # the access line is written after the answer
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is JSON
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records), lines
    access = [r for r in records if r["logger"] == "gunicorn.access"]
    assert len(access) == 3 and "GET /health/live" in access[0]["message"]
    host = [r for r in records if r["logger"] == "django.security.DisallowedHost"]
    assert [r["level"] for r in host] == ["WARNING"] and "exc_info" not in host[0], host
    assert "request_id=probe-42" in access[0]["message"]
    assert any(r["logger"] == "gunicorn.error" for r in records)  # "Listening at ..."
    assert errors.read_text() == ""


def test_a_celery_worker_writes_json_lines_on_stdout_in_utc(tmp_path):
    """Workers and beat logged in Celery's own text format, in local time, without the
    fields a log shipper reads."""
    # a server in local time still logs UTC
    workers = Workers(worker_env(LOG_FORMAT="json", TZ="Europe/Istanbul"))
    proc = workers.start("--pool=solo", loglevel="INFO")
    lines: queue.Queue[str] = queue.Queue()
    # read in a thread: a worker that never prints the line must not block the test
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()
    ready = None
    try:
        deadline = time.monotonic() + 60
        while ready is None and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line.startswith("{"):
                record = json.loads(line)
                if record["message"].endswith(" ready."):
                    ready = record
    finally:
        workers.close()
    assert ready is not None, "no JSON 'ready' line on the worker's stdout"
    assert ready["level"] == "INFO" and ready["logger"] == "celery.apps.worker"
    assert ready["time"].endswith("+00:00")


@pytest.mark.parametrize(("status", "traceback_kept"), [(403, False), (404, False), (500, True)])
def test_a_refused_request_is_one_line_without_a_traceback(status, traceback_kept):
    """Every 403 of the admin logged the PermissionDenied's traceback at WARNING (noise beside
    the real failures); a 500's traceback stays."""
    import logging

    from apps.core.logging import ClientMistakeFilter

    try:
        raise PermissionError("refused")
    except PermissionError:
        record = logging.LogRecord(
            "django.request", logging.WARNING, __file__, 1, "Forbidden", (), sys.exc_info()
        )
    record.status_code = status
    assert ClientMistakeFilter().filter(record) is True
    assert (record.exc_info is not None) is traceback_kept


@pytest.mark.parametrize("log_format", ["plain", "json"])
def test_under_debug_a_refused_request_is_one_line_on_stdout_and_nothing_on_stderr(log_format):
    """With DEBUG on (the demo), Django's own console handler also printed every admin 403
    with its traceback to stderr, beside our line; the plain lines gave local time, no zone."""
    script = (
        "import django, logging, sys\n"
        "django.setup()\n"
        "try:\n"
        "    raise PermissionError('refused')\n"
        "except PermissionError:\n"
        "    logging.getLogger('django.request').warning(\n"
        "        'Forbidden (Permission denied): /admin/x', exc_info=sys.exc_info(),\n"
        "        extra={'status_code': 403})\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "1",
        "LOG_FORMAT": log_format,
        "LOG_LEVEL": "INFO",
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stderr == ""
    [line] = result.stdout.splitlines()
    assert "Forbidden (Permission denied): /admin/x" in line and "Traceback" not in line
    if log_format == "plain":
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARNING django.request", line)
    else:
        assert json.loads(line)["time"].endswith("+00:00")
