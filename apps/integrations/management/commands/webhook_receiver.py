"""``webhook_receiver [--host 127.0.0.1] [--port 8766] [--log FILE] [--secret whsec_...]
[--exit-with-parent]``: a loopback webhook receiver, as a subscriber would run one, for the demo
and for trying an endpoint. It checks each request's Standard Webhooks signature (with
``--secret``, else with the secret of each endpoint registered at its address, read from the
database when the request comes), answers 204 (401 to a signature none of them made), and
writes one line per event: time, type, ``webhook-id``, what it made of it. A ``webhook-id`` it
has seen is answered 204 again and written as a repeat (receivers deduplicate by it). Not for
production: it keeps nothing but the lines."""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from apps.core.commands import OneLineErrorsCommand, end_with_parent
from apps.integrations.models import WebhookEndpoint

MAX_BODY = 5 * 1024 * 1024
DEFAULT_PORT = 8766


class Command(OneLineErrorsCommand):
    log_to_stdout = True  # a server: its log is what it prints
    help = (
        "Run a loopback webhook receiver that checks each signature (with --secret, or the "
        "secrets of the endpoints registered at its address) and writes a line per event. "
        "For the demo and for trying an endpoint, never for production."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
        parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT})")
        parser.add_argument("--log", help="append the lines to this file (default: stdout)")
        parser.add_argument("--secret", help="the endpoint's signing secret (whsec_...)")
        parser.add_argument(
            "--exit-with-parent",
            action="store_true",
            help="stop when the process that started it ends (./dev demo runs it)",
        )

    def handle(self, *args, host, port, log, secret, exit_with_parent, **options):
        if not 0 <= port <= 65535:
            raise CommandError(f"--port: expected 0 to 65535, got {port}")
        out = open(log, "a", encoding="utf-8") if log else sys.stdout  # noqa: SIM115 - served until the end
        seen: set[str] = set()
        lock = threading.Lock()

        def write(line: str) -> None:
            with lock:
                out.write(f"{timezone.now():%Y-%m-%d %H:%M:%S} {line}\n")
                out.flush()

        def secrets_for(path: str) -> list[str]:
            if secret:
                return [secret]
            urls = {f"http://{host}:{server.server_address[1]}{path}"}
            if host == "127.0.0.1":
                urls.add(f"http://localhost:{server.server_address[1]}{path}")
            try:
                endpoints = WebhookEndpoint.objects.filter(url__in=urls)
                return list(endpoints.values_list("secret", flat=True))
            finally:
                connection.close()  # this request's thread ends with it

        def verified(body: bytes, headers: dict, path: str) -> bool:
            for candidate in secrets_for(path):
                try:
                    Webhook(candidate).verify(body, headers)
                    return True
                except WebhookVerificationError:
                    continue
            return False

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the sender reuses its connection
            timeout = 10  # a sender that stops sending mid-body does not hold a thread

            def do_POST(self):
                raw = (self.headers.get("Content-Length") or "0").strip()
                if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
                    return self._answer(400)
                length = int(raw)
                if length > MAX_BODY:
                    return self._answer(413)
                try:
                    body = self.rfile.read(length)
                except TimeoutError:
                    self.close_connection = True
                    return None
                if len(body) < length:  # the sender went away
                    self.close_connection = True
                    return None
                headers = {k.lower(): v for k, v in self.headers.items()}
                webhook_id = headers.get("webhook-id", "")
                try:
                    ok = verified(body, headers, self.path)
                    event = json.loads(body) if ok else None
                except (ValueError, RecursionError):
                    ok = False
                except Exception as exc:  # the database, say: the sender retries
                    write(f"ERROR {webhook_id or '-'} {self.path}: {type(exc).__name__}: {exc}")
                    return self._answer(503)
                if not ok:
                    write(f"REFUSED {webhook_id or '-'} {self.path}: bad signature or timestamp")
                    return self._answer(401)
                kind = event.get("type") if isinstance(event, dict) else None
                kind = kind if isinstance(kind, str) else "?"
                with lock:
                    repeat = webhook_id in seen
                note = "repeat, already taken" if repeat else "signature ok"
                write(f"{kind[:64]:<24} {webhook_id} {note}")
                with lock:
                    seen.add(webhook_id)
                return self._answer(204)

            def _answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format, *args):
                return  # the lines above say it all

        if exit_with_parent:
            end_with_parent()
        try:
            server = ThreadingHTTPServer((host, port), Handler)
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc}") from exc
        self.stdout.write(f"Webhook receiver on http://{host}:{server.server_address[1]}")
        self.stdout.flush()
        try:
            server.serve_forever()
        finally:
            server.server_close()
