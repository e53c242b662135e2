"""The base of our management commands: bad arguments are answered on one line.

API.md: "Each exits non-zero with a one-line reason on bad arguments". Django's parser leaves a
missing or malformed option to argparse, which prints its whole usage block before the
reason; scripts log the first line. Here the reason alone goes to stderr (exit status 2, as
argparse's); ``--help`` still shows the usage."""

from __future__ import annotations

import os
import threading
import time

from django.core.management.base import BaseCommand


class OneLineErrorsCommand(BaseCommand):
    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        django_error = parser.error

        def error(message):
            if parser.called_from_command_line:
                parser.exit(2, f"{parser.prog}: error: {message}\n")
            django_error(message)  # called from code: CommandError, as Django raises

        parser.error = error
        return parser


def end_with_parent() -> None:
    """End this process when the one that started it ends (``--exit-with-parent``: the
    simulators ``./dev demo`` runs beside its web server): a daemon thread watches the parent."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()
