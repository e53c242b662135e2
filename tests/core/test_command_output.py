"""A management command's stdout holds what it prints, and nothing of the log (API.md: the
count on the first line of ``retry_webhooks``, the key on the last of ``create_api_key``).
The log's JSON lines go to stdout for the web and the workers (LOGGING), and to stderr while a
command runs: with tasks run in the process, a task's log line came before the count."""

from __future__ import annotations

import logging
import sys

from apps.core.commands import OneLineErrorsCommand


class Talkative(OneLineErrorsCommand):
    def handle(self, *args, **options):
        logging.getLogger("apps.somewhere").warning("a task ran")
        self.stdout.write("3 dead deliveries sent again.")


class Server(Talkative):
    log_to_stdout = True


def _run(command_class, capsys) -> tuple[str, str]:
    handler = logging.StreamHandler(sys.stdout)  # as LOGGING's console handler
    logging.getLogger().addHandler(handler)
    try:
        command_class().run_from_argv(["manage.py", "talkative"])
    finally:
        logging.getLogger().removeHandler(handler)
    assert handler.stream is sys.stdout  # given back after the command
    return capsys.readouterr()


def test_a_commands_stdout_holds_only_what_it_prints(capsys):
    out, err = _run(Talkative, capsys)
    assert out.splitlines() == ["3 dead deliveries sent again."]
    assert "a task ran" in err


def test_a_server_command_keeps_its_log_on_stdout(capsys):
    out, _err = _run(Server, capsys)
    assert "a task ran" in out.splitlines()[0]
