"""Shared fixtures. Tests run against real PostgreSQL and Redis (see ``./dev test``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config):
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine or not os.environ.get("REDIS_URL"):
        raise pytest.UsageError(
            "The test suite runs against PostgreSQL and Redis: use `./dev test`, or set "
            "DATABASE_URL=postgres://... and REDIS_URL=redis://... yourself."
        )


@pytest.fixture(autouse=True)
def _fast_and_clean(settings):
    # a fast hasher keeps the suite quick; the production hasher list is tested on its own
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def closed_port() -> int:
    """A loopback port nobody listens on (bound then released)."""
    return free_port()


@pytest.fixture(scope="session")
def s3_server():
    """A real S3-compatible server (moto) on a loopback port, for the whole session."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
