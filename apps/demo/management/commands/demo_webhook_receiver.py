"""``demo_webhook_receiver [--host 127.0.0.1] [--port 8766] [--log FILE] [--exit-with-parent]``:
the demo's webhook receiver, as the ERP connector would run one: it checks each request's
Standard Webhooks signature with the demo endpoint's secret, answers 204 (401 to a bad
signature), and writes one line per event: time, type, ``webhook-id``, what it says about it.
A ``webhook-id`` it has seen is answered 204 again and written as a repeat (receivers
deduplicate by it). Never for production: the secret is the demo's, fixed."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.core.management.base import CommandError
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from apps.core.commands import OneLineErrorsCommand
from apps.demo.webhooks import DEMO_WEBHOOK_PORT, demo_webhook_secret

MAX_BODY = 5 * 1024 * 1024


class Command(OneLineErrorsCommand):
    help = (
        "Run the demo's loopback webhook receiver: checks each signature with the demo "
        "endpoint's secret and writes a line per event received. Demo only."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
        parser.add_argument(
            "--port", type=int, default=DEMO_WEBHOOK_PORT, help=f"port ({DEMO_WEBHOOK_PORT})"
        )
        parser.add_argument("--log", help="append the lines to this file (default: stdout)")
        parser.add_argument(
            "--exit-with-parent",
            action="store_true",
            help="stop when the process that started it ends (./dev demo runs it)",
        )

    def handle(self, *args, host, port, log, exit_with_parent, **options):
        if not 0 <= port <= 65535:
            raise CommandError(f"--port: expected 0 to 65535, got {port}")
        out = open(log, "a", encoding="utf-8") if log else sys.stdout  # noqa: SIM115 - served until the end
        verifier = Webhook(demo_webhook_secret())
        seen: set[str] = set()
        lock = threading.Lock()

        def write(line: str) -> None:
            with lock:
                out.write(f"{timezone.now():%Y-%m-%d %H:%M:%S} {line}\n")
                out.flush()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the sender reuses its connection

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                if not 0 <= length <= MAX_BODY:
                    return self._answer(413)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                webhook_id = headers.get("webhook-id", "")
                try:
                    verifier.verify(body, headers)
                    event = json.loads(body)
                except (WebhookVerificationError, ValueError) as exc:
                    write(f"REFUSED {webhook_id or '-'} {self.path}: {exc}")
                    return self._answer(401)
                with lock:
                    repeat = webhook_id in seen
                    seen.add(webhook_id)
                note = "repeat, already taken" if repeat else "signature ok"
                write(f"{event.get('type', '?'):<24} {webhook_id} {note}")
                return self._answer(204)

            def _answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format, *args):
                return

        if exit_with_parent:
            parent = os.getppid()

            def watch() -> None:
                while os.getppid() == parent:
                    time.sleep(1)
                os._exit(0)

            threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()
        try:
            server = ThreadingHTTPServer((host, port), Handler)
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc}") from exc
        self.stdout.write(f"Demo webhook receiver on http://{host}:{server.server_address[1]}")
        self.stdout.flush()
        try:
            server.serve_forever()
        finally:
            server.server_close()
