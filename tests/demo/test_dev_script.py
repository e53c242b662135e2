"""``./dev``: installs into .venv only when pyproject.toml (or the interpreter) changed, a dev
install serves the demo, and ``./dev demo`` checks its port before it does anything."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FAKE_PYTHON = """#!/bin/sh
echo "$@" >> "$(dirname "$0")/../calls.log"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of ``dev`` beside a pyproject.toml, with a fake .venv whose python logs calls."""
    shutil.copy(ROOT / "dev", tmp_path / "dev")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (tmp_path / ".venv" / "pyvenv.cfg").write_text("version = 3.11.7\n")
    python = bin_dir / "python"
    python.write_text(FAKE_PYTHON)
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    return tmp_path


def run(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"VENV", "PORT"}}
    return subprocess.run(
        ["bash", str(project / "dev"), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def installs(project: Path) -> int:
    log = project / ".venv" / "calls.log"
    calls = log.read_text().splitlines() if log.exists() else []
    return sum(1 for call in calls if call.startswith("-m pip install --quiet -e"))


def test_setup_installs_once_and_not_again_when_nothing_changed(project):
    assert run(project, "setup").returncode == 0
    assert installs(project) == 1
    assert run(project, "setup").returncode == 0
    # touched but not changed (a checkout, an editor): still nothing to install
    os.utime(project / "pyproject.toml")
    assert run(project, "setup").returncode == 0
    assert installs(project) == 1


def test_a_changed_pyproject_installs_again(project):
    run(project, "setup")
    (project / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "2"\n')
    run(project, "setup")
    assert installs(project) == 2


def test_the_demo_does_not_reinstall_what_the_tests_installed(project):
    """The demo's install check passes on a dev install: it stops at the busy port (before
    migrating), and has installed nothing."""
    run(project, "setup")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run(project, "demo", "--port", str(port))
    assert installs(project) == 1
    assert result.returncode == 1


def test_demo_refuses_a_port_that_is_not_a_number(project):
    result = run(project, "demo", "--port", "http")
    assert result.returncode == 2
    assert "--port" in result.stderr
    assert installs(project) == 0


def test_demo_stops_at_once_on_a_taken_port_before_any_install(project):
    """The port was checked after the venv install and the system packages (minutes on a
    fresh clone, for an answer it could give at once)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(project, "demo", "--port", str(port))
    assert result.returncode == 1
    assert f"Port {port} is taken" in result.stderr
    assert installs(project) == 0
