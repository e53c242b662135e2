"""A real webhook receiver: an HTTP server on a loopback port, in a thread of the test process.

It answers the requests it gets according to a script (one behaviour per request, then
``default``), records every request, and deduplicates by ``webhook-id`` as a careful receiver
does. Behaviours:

* an ``int``: answer with that status (``(status, {header: value})`` adds headers);
* ``("sleep", seconds)``: process the event, then answer 200 only after ``seconds`` (longer
  than our timeout: the sender gives up although the receiver has the event);
* ``("redirect", url)``: answer 302 to ``url``.

``keep_alive=True`` speaks HTTP/1.1 and keeps connections open; ``connections()`` counts the
TCP connections the requests came on.

``default`` may also be a function of the request's JSON body returning a behaviour.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from standardwebhooks.webhooks import Webhook


@dataclass
class Request:
    at: float
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    processed: bool  # the receiver took the event (2xx, or processed then too slow)
    peer: str = ""  # the sender's address and port: one per TCP connection

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    script: list = field(default_factory=list)
    default: object = 200
    port: int = 0
    keep_alive: bool = False  # HTTP/1.1 with persistent connections (else HTTP/1.0: one each)
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- life ---

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if receiver.keep_alive else "HTTP/1.0"
            disable_nagle_algorithm = True  # headers and body go out at once

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                behaviour = receiver._next()
                if callable(behaviour):
                    behaviour = behaviour(json.loads(body or b"null"))
                status, extra, delay, location = 200, {}, 0.0, None
                if isinstance(behaviour, tuple) and behaviour[0] == "sleep":
                    delay = behaviour[1]
                elif isinstance(behaviour, tuple) and behaviour[0] == "redirect":
                    status, location = 302, behaviour[1]
                elif isinstance(behaviour, tuple):
                    status, extra = behaviour
                else:
                    status = behaviour
                processed = delay > 0 or 200 <= status < 300
                peer = f"{self.client_address[0]}:{self.client_address[1]}"
                receiver._record(
                    Request(time.monotonic(), self.path, headers, body, status, processed, peer)
                )
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    for name, value in extra.items():
                        self.send_header(name, str(value))
                    if location:
                        self.send_header("Location", location)
                    answer = b'{"ok": true}' if processed else b'{"error": "not now"}'
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass  # the sender gave up (timeout)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    # --- behaviour and records ---

    def _next(self):
        with self._lock:
            return self.script.pop(0) if self.script else self.default

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def seen(self) -> list[Request]:
        with self._lock:
            return list(self.requests)

    def connections(self) -> set[str]:
        return {request.peer for request in self.seen()}

    def processed(self) -> dict[str, Request]:
        """What a deduplicating receiver keeps: the first processed request per webhook-id."""
        kept: dict[str, Request] = {}
        for request in self.seen():
            if request.processed:
                kept.setdefault(request.webhook_id, request)
        return kept

    def verify_all(self, secret: str) -> None:
        """Every request carries a valid Standard Webhooks signature (their verifier)."""
        for request in self.seen():
            Webhook(secret).verify(request.body, request.headers)


@contextmanager
def receiver_command(log, *options: str):
    """``manage.py webhook_receiver`` as a process of its own on a free loopback port, writing
    to ``log``, on the test database (it reads the endpoints' secrets there): ``(port,
    process)``; stopped on leaving."""
    # here: the test helpers and the settings a receiver process is started with
    from tests.conftest import free_port, subprocess_database_url, wait_for_port

    port = free_port()
    command = ["manage.py", "webhook_receiver", "--port", str(port), "--log", str(log), *options]
    process = subprocess.Popen(
        [sys.executable, *command],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "DATABASE_URL": subprocess_database_url()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, timeout=30)
        yield port, process
    finally:
        process.terminate()
        process.wait(timeout=10)
