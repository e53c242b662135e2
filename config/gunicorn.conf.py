"""gunicorn settings for production (``gunicorn -c config/gunicorn.conf.py config.wsgi``).

Prometheus metrics are collected across worker processes through PROMETHEUS_MULTIPROC_DIR.
"""

import json
import logging
import multiprocessing
import os
import shutil
import time
import uuid
from pathlib import Path

from gunicorn import util

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# A worker silent for longer than ``timeout`` is killed and its client gets an error. It stays
# above the longest statement_timeout of a web request (config/settings.py: the web default and
# the dealer reads' and the ERP feeds', same variables and defaults), so PostgreSQL cancels a
# runaway query and the request answers 503 before gunicorn kills the worker; a smaller
# GUNICORN_TIMEOUT stops start-up.
_statement_timeout = max(
    float(os.environ.get("DB_STATEMENT_TIMEOUT") or 30),
    float(os.environ.get("DB_STATEMENT_TIMEOUT_DEALER_READ") or 10),
    float(os.environ.get("DB_STATEMENT_TIMEOUT_INTEGRATION") or 60),
)
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or _statement_timeout + 30)
if timeout <= _statement_timeout:
    raise RuntimeError(
        f"GUNICORN_TIMEOUT={timeout} must be above the statement timeout of web requests "
        f"({_statement_timeout:g} s: DB_STATEMENT_TIMEOUT, DB_STATEMENT_TIMEOUT_DEALER_READ, "
        "DB_STATEMENT_TIMEOUT_INTEGRATION)"
    )
graceful_timeout = 30
keepalive = 5
# a long query string (a search of thousands of characters, many filters) reaches the app,
# which answers it in JSON (400 with the field), instead of gunicorn's HTML 414 at 4094
limit_request_line = 8190  # gunicorn's maximum
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
# gunicorn's own plain lines in UTC, as the app's: a worker runs Django, which sets the
# process's TZ to TIME_ZONE (Istanbul), and logging's times are local by default
logging.Formatter.converter = time.gmtime
# one access line per request, with the request id the response carried (X-Request-ID)
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'
if (os.environ.get("LOG_FORMAT") or "json") == "json":
    # gunicorn's own lines as the app's: JSON lines on stdout (time, level, logger, message)
    _json = {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": "%(levelname)s %(name)s %(message)s",
        "rename_fields": {"levelname": "level", "name": "logger"},
        "timestamp": "time",
    }
    _stdout = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": _json},
        "handlers": {"json_stdout": _stdout},
        "loggers": {
            "gunicorn.error": {"handlers": ["json_stdout"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["json_stdout"], "level": "INFO", "propagate": False},
        },
        "root": {"handlers": [], "level": "WARNING"},
    }
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# What gunicorn refuses before the app sees the request (a malformed request line, method or
# header, more than 100 headers, a transfer coding it does not take) gets the API's JSON error
# body instead of gunicorn's HTML page, so a client reads every refusal the same way.
_GUNICORN_CODES = {
    400: "malformed_request",
    403: "forbidden",
    414: "request_line_too_long",
    417: "expectation_failed",
    431: "headers_too_large",
    501: "not_implemented",
}


# the headers every answer of the app carries (Django's security middleware, the request id),
# on these too: an unparsed request has no id to echo, so a new one, written to the log line
_SECURITY_HEADERS = (
    "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n"
    "Referrer-Policy: same-origin\r\nCache-Control: no-store\r\n"
)


# set in a worker that gunicorn aborts for outliving ``timeout`` (``worker_abort``): the request
# it was serving is answered on the way out, and its transaction dies with the connection
_aborting = False
ABORTED_RETRY_AFTER = 30


def _json_error(sock, status_int, reason, mesg):
    code = _GUNICORN_CODES.get(status_int, "server_error")
    detail = str(mesg)[:500] or reason
    extra = {}
    if _aborting and status_int == 500:
        # not a fault of the request: it outlived the worker's timeout and nothing of it was
        # kept (its transaction was never committed), so it may be sent again, as for the
        # database's own 503 (not the 500 that "no request makes a 500" rules out)
        status_int, reason, code = 503, "Service Unavailable", "service_unavailable"
        detail = "The request took too long and was stopped. Try again shortly."
        extra = {"retry_after": ABORTED_RETRY_AFTER}
    request_id = uuid.uuid4().hex
    logging.getLogger("gunicorn.error").info(
        "%s: %s %s (%s) request_id=%s",
        "stopped past the worker's timeout" if extra else "refused before the app",
        status_int,
        code,
        detail,
        request_id,
    )
    body = json.dumps({"detail": detail, "code": code, "errors": {}, **extra}).encode()
    retry = f"Retry-After: {ABORTED_RETRY_AFTER}\r\n" if extra else ""
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"X-Request-ID: {request_id}\r\n{retry}{_SECURITY_HEADERS}\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


util.write_error = _json_error


def worker_abort(worker):
    global _aborting
    _aborting = True


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
