"""Fixtures of the webhook tests: fast retry settings, real loopback receivers, and a sweeper
loop standing in for celery beat when tasks run in-process."""

from __future__ import annotations

import time

import pytest

from tests.integrations.receiver import Receiver

SCALE = 0.1  # the 1, 2, 4, 8, 16 s schedule becomes 0.1 ... 1.6 s
TIMEOUT = 0.5


@pytest.fixture
def fast_webhooks(settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    settings.WEBHOOK_REQUIRE_HTTPS = False
    settings.WEBHOOK_RETRY_TIME_SCALE = SCALE
    settings.WEBHOOK_TIMEOUT_SECONDS = TIMEOUT
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 0
    settings.WEBHOOK_LEASE_SECONDS = 5
    return settings


@pytest.fixture
def receiver():
    """``receiver(script=[...], default=200, port=0, start=True, keep_alive=False)`` -> a
    started Receiver."""
    made: list[Receiver] = []

    def make(script=(), default=200, port=0, start=True, keep_alive=False) -> Receiver:
        server = Receiver(script=list(script), default=default, port=port, keep_alive=keep_alive)
        made.append(server)
        return server.start() if start else server

    yield make
    for server in made:
        server.stop()


def sweep_until(predicate, timeout: float = 15.0, interval: float = 0.01):
    """Run the sweeper (what celery beat runs) until ``predicate()`` is true."""
    from apps.integrations.tasks import webhooks_sweep

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        webhooks_sweep()
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"not reached within {timeout} s")


@pytest.fixture
def make_endpoint(db, fast_webhooks):
    """``make_endpoint(url, event_types=("*",), api_key=None)`` -> (endpoint, secret)."""
    from apps.integrations.services.endpoints import webhook_endpoint_create

    def make(url, event_types=("*",), api_key=None, **kwargs):
        return webhook_endpoint_create(
            url=url, event_types=list(event_types), api_key=api_key, **kwargs
        )

    return make
