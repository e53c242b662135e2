"""The base of our management commands: bad arguments are answered on one line.

API.md: "Each exits non-zero with a one-line reason on bad arguments". Django's parser leaves a
missing or malformed option to argparse, which prints its whole usage block before the
reason; scripts log the first line. Here the reason alone goes to stderr (exit status 2, as
argparse's); ``--help`` still shows the usage."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

from django.core.management.base import BaseCommand


class OneLineErrorsCommand(BaseCommand):
    """Also: while the command runs, the log's lines that go to stdout (``LOGGING``: JSON lines
    on stdout, the platform's log) go to stderr, so stdout holds only what the command prints
    (a count on its first line, a key on its last: what API.md promises a script). With tasks
    run in the process (no broker), a task's log line came before ``retry_webhooks``' count.
    A long-running command (a simulator) keeps its log on stdout: ``log_to_stdout``."""

    log_to_stdout = False

    def execute(self, *args, **options):
        if self.log_to_stdout:
            return super().execute(*args, **options)
        moved = [
            (handler, handler.stream)
            for handler in _stream_handlers()
            if handler.stream in (sys.stdout, sys.__stdout__)
        ]
        for handler, _stdout in moved:
            handler.setStream(sys.stderr)
        try:
            return super().execute(*args, **options)
        finally:
            for handler, stdout in moved:
                handler.setStream(stdout)

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        django_error = parser.error

        def error(message):
            if parser.called_from_command_line:
                parser.exit(2, f"{parser.prog}: error: {message}\n")
            django_error(message)  # called from code: CommandError, as Django raises

        parser.error = error
        return parser


def _stream_handlers() -> list[logging.StreamHandler]:
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    found: list[logging.StreamHandler] = []
    for logger in loggers:
        for handler in getattr(logger, "handlers", ()):  # a PlaceHolder has none
            if type(handler) is logging.StreamHandler and handler not in found:
                found.append(handler)
    return found


def end_with_parent() -> None:
    """End this process when the one that started it ends (``--exit-with-parent``: the
    simulators ``./dev demo`` runs beside its web server): a daemon thread watches the parent."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()
