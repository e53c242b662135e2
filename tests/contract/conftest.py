"""The contract tests: a real web server (gunicorn) on the test database with the rate limits
off, a shop to buy from, and the OpenAPI schema the server itself serves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from decimal import Decimal

import pytest

from apps.accounts.models import Address
from apps.pricing.models import Price, PriceList
from tests.conftest import ROOT, free_port, subprocess_database_url, wait_for_port
from tests.factories import AddressFactory, CustomerFactory, DealerUserFactory
from tests.inventory.factories import ProductFactory, StockLevelFactory, WarehouseFactory

PASSWORD = "Dealer-pass-2026!"
RATE_LIMITS_OFF = {
    "RATE_LIMIT_USER": "off",
    "RATE_LIMIT_IP": "off",
    "RATE_LIMIT_API_KEY": "off",
    "RATE_LIMIT_AUTH_IP": "off",
}


@dataclass
class Server:
    base_url: str
    proc: subprocess.Popen

    def schema(self) -> dict:
        url = f"{self.base_url}/api/schema/"
        headers = {"Accept": "application/vnd.oai.openapi+json"}
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 (loopback http)
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return json.loads(response.read())


@pytest.fixture
def live_server_proc(transactional_db, tmp_path, paynet_simulator):
    """A gunicorn process serving the project on the test database, rate limits off, card
    payments through the Paynet simulator."""
    port = free_port()
    env = {
        **os.environ,
        "PAYNET_BASE_URL": paynet_simulator.url,
        "PAYNET_SECRET_KEY": paynet_simulator.secret_key,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": subprocess_database_url(),
        "DB_CONN_MAX_AGE": "0",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "WEBHOOK_ALLOW_LOOPBACK": "1",
        "API_DOCS_PUBLIC": "1",
        "LOG_LEVEL": "ERROR",
        **RATE_LIMITS_OFF,
    }
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                f"--bind=127.0.0.1:{port}",
                "--workers=2",
                "--timeout=60",
                # a request line of any length reaches Django: a 414 for a long URI is the
                # front web server's answer, not the API's (the fuzzer sends long ones)
                "--limit-request-line=0",
                "config.wsgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, timeout=30)
        yield Server(base_url=f"http://127.0.0.1:{port}", proc=proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@dataclass
class Shop:
    owner_email: str
    in_stock: str  # 50 units
    scarce: str  # 1 unit


@pytest.fixture
def shop(settings) -> Shop:
    """A dealer owner who can log in (Argon2, as the server hashes), two priced products in
    stock (one of them scarce) and the company's default addresses."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    customer = CustomerFactory(tier="B", credit_limit=Decimal("1000000.00"))
    AddressFactory(customer=customer, type=Address.Type.SHIPPING, is_default=True)
    AddressFactory(customer=customer, type=Address.Type.BILLING, is_default=True)
    owner = DealerUserFactory(role="owner", customer=customer, password=PASSWORD)
    warehouse = WarehouseFactory(code="IST")
    list_prices = PriceList.objects.get(code="LIST")
    for sku, on_hand in (("CONTRACT-1", 50), ("CONTRACT-2", 1)):
        product = ProductFactory(sku=sku, vat_rate=20)
        Price.objects.create(price_list=list_prices, product=product, amount=Decimal("149.9950"))
        StockLevelFactory(product=product, warehouse=warehouse, on_hand=on_hand)
    return Shop(owner_email=owner.email, in_stock="CONTRACT-1", scarce="CONTRACT-2")
