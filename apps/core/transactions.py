"""Steps that run after a transaction commits, and can never undo or fail it.

Every side effect that leaves the process after a write (queueing a Celery task, sending an
e-mail, bumping a cache version, deleting replaced files) is registered with
``after_commit``. Once the database has committed, the write stands: a broker, a mail server
or Redis being down must not turn that committed write into an error answer (the client would
retry and, without an idempotency key, write twice). So a failing step is logged, with the
request id of the request that committed, and swallowed; what it would have done is done later
by whatever owns that concern (the outbox sweeper re-sends events, cache entries expire,
e-mails are logged with their status and can be re-sent).

Django's own ``on_commit(..., robust=True)`` is not used: it needs the callable to have a
``__qualname__`` to log a failure, and a callable object without one turned a failed broker
call into a 500 after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction
from kombu.exceptions import OperationalError as BrokerUnavailable
from redis.exceptions import ConnectionError as RedisUnavailable
from redis.exceptions import TimeoutError as RedisTimeout

from apps.core.logging import get_request_id

logger = logging.getLogger("apps.after_commit")

# a service that is down or not answering (the broker, Redis): expected in an outage, told in
# one line each (the outage itself is logged where it was noticed), not with a traceback
SERVICE_DOWN = (BrokerUnavailable, RedisUnavailable, RedisTimeout)


def _name_of(func: Callable[[], object]) -> str:
    name = getattr(func, "__qualname__", None) or type(func).__qualname__
    module = getattr(func, "__module__", None) or type(func).__module__
    return f"{module}.{name}"


class AfterCommit:
    """The registered step: runs ``func`` and logs (never raises) what it raises."""

    __slots__ = ("func", "name", "ran")

    def __init__(self, func: Callable[[], object], name: str | None = None) -> None:
        self.func = func
        self.name = name or _name_of(func)
        self.ran = False

    def __call__(self) -> None:
        self.ran = True
        try:
            self.func()
        except SERVICE_DOWN as exc:
            logger.warning(
                "after-commit step %s not done (request %s): %s: %s; the committed change "
                "stands, the step is retried by its owner later",
                self.name,
                get_request_id(),
                type(exc).__name__,
                exc,
                extra={"after_commit_step": self.name},
            )
        except Exception as exc:
            logger.error(
                "after-commit step %s failed (request %s): %s: %s; the committed change "
                "stands, the step is retried by its owner later",
                self.name,
                get_request_id(),
                type(exc).__name__,
                exc,
                exc_info=True,
                extra={"after_commit_step": self.name},
            )


def after_commit(
    func: Callable[[], object], *, name: str | None = None, using: str | None = None
) -> AfterCommit:
    """Run ``func`` once the current transaction commits (at once when none is open); a
    failure is logged, never raised. Returns the registered step."""
    step = AfterCommit(func, name)
    transaction.on_commit(step, using=using)
    return step


def pending_after_commit(kind: type, *, using: str | None = None):
    """The callable of type ``kind`` registered on the open transaction and not run yet, or
    None: lets a module register one step per transaction and add to it. (A step that ran
    while its transaction is still open, as ``captureOnCommitCallbacks(execute=True)`` runs
    them in tests, takes nothing more.)"""
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        return None
    for _sids, func, _robust in reversed(connection.run_on_commit):
        if isinstance(func, AfterCommit) and func.ran:
            continue
        inner = func.func if isinstance(func, AfterCommit) else func
        if isinstance(inner, kind):
            return inner
    return None
