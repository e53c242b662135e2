"""``paynet_simulator [--host 127.0.0.1] [--port 8765] [--secret-key KEY] [--test-controls]``: run
the loopback Paynet simulator (apps/integrations/paynet_simulator.py) in the foreground."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import CommandError

from apps.core.commands import OneLineErrorsCommand, end_with_parent
from apps.integrations.paynet_simulator import serve


class Command(OneLineErrorsCommand):
    log_to_stdout = True  # a server: its log is what it prints
    help = (
        "Run a loopback simulator of the Paynet payment gateway API (hosted card and 3-D Secure "
        "pages included) for the tests and the demo. Never for production: it accepts any "
        "Luhn-valid card and keeps everything in memory."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
        parser.add_argument("--port", type=int, default=8765, help="port to bind (8765)")
        parser.add_argument(
            "--secret-key",
            help="the key API calls must send as 'Authorization: Basic KEY' (default: "
            "settings.PAYNET_SECRET_KEY, else sck_simulator)",
        )
        parser.add_argument(
            "--test-controls",
            action="store_true",
            help="add the /_sim/ endpoints the tests use (reset, faults, authenticate, ...)",
        )
        parser.add_argument(
            "--exit-with-parent",
            action="store_true",
            help="stop when the process that started it ends (./dev demo runs it beside the "
            "web server)",
        )

    def handle(self, *args, host, port, secret_key, test_controls, exit_with_parent, **options):
        if not 0 <= port <= 65535:
            raise CommandError(f"--port: expected 0 to 65535, got {port}")
        key = secret_key or getattr(settings, "PAYNET_SECRET_KEY", "") or "sck_simulator"

        def ready(server):
            self.stdout.write(f"Paynet simulator on http://{host}:{server.server_address[1]}")
            self.stdout.flush()

        if exit_with_parent:
            end_with_parent()
        try:
            serve(host, port, secret_key=key, test_controls=test_controls, ready=ready)
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc}") from exc
