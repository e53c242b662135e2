"""Demo data of the integration API: an API key for the ERP connector (a fixed, printed demo
key, so the integration API can be tried at once) and what the ERP sent with it, through the
real endpoints: the active dealers again (a nightly sync), and on PostgreSQL a batch of
list-price changes (their history, audit entries and the batch log) and a batch of stock
levels (their movements); the zero-setup demo's SQLite cannot take those feeds (501). DEMO
ONLY: anyone who reads this file knows the key. Idempotent: the same batches again change
nothing.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.test import Client

from apps.accounts.authentication import API_KEY_PREFIX, hash_api_key
from apps.accounts.models import ApiKey, Customer, CustomerStatus
from apps.accounts.services.api_keys import parse_scopes
from apps.catalog.models import Product
from apps.demo.catalog import SKU_PREFIX
from apps.demo.pricing import demo_list_prices
from apps.inventory.models import StockLevel

DEMO_KEY_PREFIX = "demo0001"
DEMO_KEY_NAME = "ERP connector (demo)"
ERP_PRICED = 12  # the last products of the catalog get the ERP's new list prices
ERP_STOCKED = 8  # and new stock levels
ERP_RAISE = Decimal("1.03")


def demo_api_key() -> str:
    secret = hashlib.sha256(b"b2b-demo-api-key").hexdigest()[:43]
    return f"{API_KEY_PREFIX}{DEMO_KEY_PREFIX}.{secret}"


def login_line() -> str:
    return (
        "ERP connector (integration API /api/integration/v1/, every scope; DEMO ONLY): "
        f"X-API-Key / {demo_api_key()}"
    )


def demo_key_ensure() -> ApiKey:
    """The ERP connector's demo key, as printed: every scope, no expiry, any address."""
    key, _created = ApiKey.objects.get_or_create(
        prefix=DEMO_KEY_PREFIX, defaults={"name": DEMO_KEY_NAME, "hashed_key": ""}
    )
    key.name, key.hashed_key, key.scopes = DEMO_KEY_NAME, hash_api_key(demo_api_key()), []
    key.scopes = parse_scopes(None)
    key.revoked_at = key.expires_at = None
    key.allowed_ips = []
    key.save()
    return key


def seed_integration(options) -> list[str]:
    demo_key_ensure()
    client = demo_client()
    # the ERP sends its active dealers again, as a nightly sync would (nothing changes)
    dealers = [
        {
            "code": customer.code,
            "name": customer.name,
            "tax_number": customer.tax_number,
            "tax_office": customer.tax_office,
            "tier": customer.tier,
            "credit_limit": str(customer.credit_limit),
            "status": "active",
        }
        for customer in Customer.objects.filter(
            code__startswith="DEMO", status=CustomerStatus.ACTIVE
        ).order_by("code")
    ]
    if dealers:
        _post(client, "customers", dealers)
    if connection.vendor != "postgresql":  # the set-based feeds need it (501 on SQLite)
        return [login_line()]
    products = list(
        Product.objects.filter(sku__startswith=SKU_PREFIX).order_by("-sku")[: max(ERP_PRICED, 0)]
    )
    if not products:
        return [login_line()]
    bases = demo_list_prices(product.pk for product in products)  # one query
    prices = [
        {
            "sku": product.sku,
            "price_list": "LIST",
            "min_quantity": 1,
            "amount": str((bases[product.pk] * Decimal("1.03")).quantize(Decimal("0.01"))),
        }
        for product in products
    ]
    _post(client, "prices", prices)
    stocked = StockLevel.objects.filter(
        product__in=products[:ERP_STOCKED], product__serial_tracked=False, reserved=0
    ).select_related("product", "warehouse")
    stock = [
        {"sku": level.product.sku, "warehouse": level.warehouse.code, "on_hand": 40 + n * 5}
        for n, level in enumerate(stocked.order_by("product__sku", "warehouse__code"))
    ]
    if stock:
        _post(client, "stock", stock)
    return [login_line()]


def demo_client() -> Client:
    """A client of this process's own endpoints, on a host the settings allow."""
    hosts = [h for h in settings.ALLOWED_HOSTS if h and h != "*"]
    host = (
        "testserver" if "testserver" in hosts else (hosts[0].lstrip(".") if hosts else "localhost")
    )
    return Client(HTTP_HOST=host, HTTP_X_API_KEY=demo_api_key(), REMOTE_ADDR="127.0.0.1")


def _post(client: Client, resource: str, records: list[dict]) -> None:
    response = client.post(
        f"/api/integration/v1/{resource}",
        data=json.dumps(records),
        content_type="application/json",
        secure=True,  # no redirect to https where the settings ask for one
    )
    if response.status_code != 200 or response.json()["failed"]:
        raise RuntimeError(f"the demo's ERP batch of {resource} failed: {response.content[:500]}")


def reset_integration(options) -> None:
    # the key's webhook endpoints (apps.demo.webhooks) go first, through the API (a soft
    # delete: their deliveries stay on record, as any endpoint's); the batches' log stays, as
    # audit entries do (it no longer names a key)
    if ApiKey.objects.filter(prefix=DEMO_KEY_PREFIX).exists():
        demo_key_ensure()
        client = demo_client()
        listed = client.get(
            "/api/integration/v1/webhook-endpoints", {"page_size": 100}, secure=True
        )
        for item in listed.json().get("results", []) if listed.status_code == 200 else []:
            client.delete(f"/api/integration/v1/webhook-endpoints/{item['id']}", secure=True)
    ApiKey.objects.filter(prefix=DEMO_KEY_PREFIX).delete()


STEPS = [("integration", seed_integration, reset_integration)]
