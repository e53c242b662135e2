"""A circuit breaker for the cache's Redis, under every client that uses it (the cache, the
counters of rate limits and lockout, the single-flight locks).

The cache swallows Redis errors (``IGNORE_EXCEPTIONS``): a refused connection costs nothing,
but a Redis that accepts connections and never answers (hung, overloaded, a half-open network
path) costs the socket timeout on every cache call, and a catalog page makes a dozen: tens of
seconds a request. ``BreakerConnection`` (the connection class of the cache's pool, set in
``config/settings.py``) notes a server that failed to answer, and for ``BREAK_SECONDS`` after
that every command to it fails at once, as if refused (a cache miss, or the counters' own
fallback), instead of waiting. The first command after the pause tries the server again. One
warning is logged when the breaker opens, not a traceback per ignored call.
"""

from __future__ import annotations

import logging
import time

from redis.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("apps.redis")

BREAK_SECONDS = 5.0
_open_until: dict[tuple, float] = {}  # (host, port) -> time.monotonic() it may be tried again
FAILURES = (RedisConnectionError, RedisTimeoutError, OSError)


def _server(connection) -> tuple:
    return (getattr(connection, "host", None), getattr(connection, "port", None))


def breaker_is_open(server: tuple) -> bool:
    return time.monotonic() < _open_until.get(server, 0.0)


def breaker_trip(server: tuple, exc: BaseException) -> None:
    was_open = breaker_is_open(server)
    _open_until[server] = time.monotonic() + BREAK_SECONDS
    if not was_open:
        logger.warning(
            "redis %s:%s did not answer (%s: %s): not tried again for %.0f s",
            server[0],
            server[1],
            type(exc).__name__,
            exc,
            BREAK_SECONDS,
        )


def breaker_reset() -> None:
    """Forget every failure (tests)."""
    _open_until.clear()


class BreakerConnection(Connection):
    """A Redis connection that fails at once while its server's breaker is open."""

    def _refuse_while_open(self) -> None:
        if breaker_is_open(_server(self)):
            raise RedisConnectionError("redis did not answer a moment ago: not tried now")

    def connect(self):
        self._refuse_while_open()
        try:
            return super().connect()
        except FAILURES as exc:
            breaker_trip(_server(self), exc)
            raise

    def send_packed_command(self, command, check_health=True):
        self._refuse_while_open()
        try:
            return super().send_packed_command(command, check_health)
        except FAILURES as exc:
            breaker_trip(_server(self), exc)
            raise

    def read_response(self, *args, **kwargs):
        try:
            return super().read_response(*args, **kwargs)
        except FAILURES as exc:
            breaker_trip(_server(self), exc)
            raise
