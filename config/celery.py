"""The Celery application. Settings come from Django settings under the ``CELERY_`` prefix."""

import logging
import logging.config
import os
import time

from celery import Celery
from celery.signals import setup_logging
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger("apps.broker")

# what a broker that is down or does not answer raises from a publish
BROKER_FAILURES = (OperationalError, RedisError, OSError)


class BrokerBreakerCelery(Celery):
    """Celery with a circuit breaker on publishing (every ``delay``/``apply_async`` ends in
    ``send_task``). A hung broker costs a publish the socket timeout twice (the retry
    policy); a request that publishes after its commit (an event's fan-out, an e-mail) paid
    that for each publish, and each request again. After a publish failed, this process
    refuses publishes at once for ``CELERY_BROKER_BREAK_SECONDS``, as the broker being down
    would: each caller keeps the work in the database (the outbox, the notifications,
    ``QueuedTask``) and beat's sweeps send it once the broker answers."""

    _closed_until = 0.0  # time.monotonic() after which a publish is tried again

    def send_task(self, *args, **kwargs):
        if time.monotonic() < self._closed_until:
            raise OperationalError("the broker did not answer a moment ago: not tried now")
        try:
            return super().send_task(*args, **kwargs)
        except BROKER_FAILURES as exc:
            from django.conf import settings  # here: Django's settings are loaded by now

            pause = settings.CELERY_BROKER_BREAK_SECONDS
            self._closed_until = time.monotonic() + pause
            logger.warning(
                "the broker did not take a task (%s: %s): publishes refused for %.0f s",
                type(exc).__name__,
                exc,
                pause,
            )
            raise


@setup_logging.connect
def _log_as_the_web_does(loglevel=None, **kwargs) -> None:
    """Workers and beat log through ``settings.LOGGING`` (JSON lines on stdout, UTC times,
    as gunicorn's and the web's), not in Celery's own text format and local time; ``--loglevel``
    sets the level, else ``LOG_LEVEL``."""
    from django.conf import settings  # here: Django's settings are loaded by now

    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)


app = BrokerBreakerCelery("b2b")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

if not app.conf.broker_url and app.conf.task_always_eager:
    # no broker: tasks run in-process, and the producer celery still opens around an eager
    # call gets an in-memory transport instead of kombu's "no hostname" warning
    app.conf.broker_url = "memory://localhost//"
