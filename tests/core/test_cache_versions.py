"""Cache versions (apps/core/cache.py) when Redis misses a bump: a change of prices, campaigns
or the catalog bumps its family's version in the cache, so every entry built before is out of
use. A Redis that does not answer for a moment (hung, restarting, a network blip) swallowed
that bump, and the old price was charged until its entry expired, an hour later. Now the bump
the cache did not take after the commit is queued durably and made by a worker once Redis
answers (the sweep of queued tasks).

Rule "A client never sends a price that we trust: order totals are always recomputed on the
server" (DESIGN.md): recomputed from the prices as they are, not as a missed bump left them.
A real redis-server of its own on loopback, paused with CLIENT PAUSE (as a hung server is)."""

from __future__ import annotations

import shutil
import subprocess
import time
from decimal import Decimal

import pytest
import redis
from django.conf import settings
from django.test import override_settings

from apps.core.models import QueuedTask
from apps.core.task_queue import queued_tasks_send
from apps.pricing.engine import price_resolve_many
from apps.pricing.models import Price, PriceList
from tests.conftest import free_port, wait_for_port
from tests.factories import CustomerFactory
from tests.inventory.factories import ProductFactory

REDIS_SERVER = shutil.which("redis-server")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db,
    pytest.mark.skipif(REDIS_SERVER is None, reason="needs redis-server"),
]


@pytest.fixture
def own_redis():
    """A redis-server of this test's own (pausing the shared one would stall other tests)."""
    port = free_port()
    process = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        caches = {"default": {**settings.CACHES["default"]}}
        caches["default"]["LOCATION"] = f"redis://127.0.0.1:{port}/0"
        with override_settings(CACHES=caches):
            yield redis.Redis(port=port)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_price_change_redis_missed_reaches_the_cache_once_it_answers(
    own_redis, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(tier="C")
    product = ProductFactory(sku="HUNG-1")
    price = Price.objects.create(
        price_list=PriceList.objects.get(code="LIST"), product=product, amount=Decimal("900")
    )

    def unit() -> Decimal:
        return price_resolve_many(customer=customer, items=[(product, 1)])[0].unit_net

    assert unit() == Decimal("900.0000")  # the list's rows are cached now
    own_redis.execute_command("CLIENT", "PAUSE", 2500, "ALL")  # Redis hangs for 2.5 s
    price.amount = Decimal("400")
    with django_capture_on_commit_callbacks(execute=True):
        price.save()  # both bumps (now and after the commit) go unanswered
    [queued] = QueuedTask.objects.filter(name="core.cache_version_bump")
    assert queued.args == ["pricing:prices:version"]

    time.sleep(6)  # Redis answers again, and the cache's breaker tries it again
    assert unit() == Decimal("900.0000")  # what a missed bump left: the old rows, cached

    assert queued_tasks_send() == 1  # beat's sweep: a worker makes the bump
    assert unit() == Decimal("400.0000")
    assert not QueuedTask.objects.exists()
