"""A small shop for the order tests: a dealer with default addresses, priced products with
stock in one warehouse, and helpers to place orders over HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.accounts.models import Address
from apps.pricing.models import Price, PriceList
from tests.catalog.factories import ProductFactory, StockLevelFactory, WarehouseFactory
from tests.factories import AddressFactory, CustomerFactory

D = Decimal


class Shop:
    def __init__(self, dealer_client):
        self.dealer_client = dealer_client
        self.customer = CustomerFactory(tier="B", credit_limit=D("10000.00"))
        self.shipping = AddressFactory(
            customer=self.customer, type=Address.Type.SHIPPING, is_default=True
        )
        self.billing = AddressFactory(
            customer=self.customer, type=Address.Type.BILLING, is_default=True
        )
        self.warehouse = WarehouseFactory(code="IST")
        self.lists = {p.code: p for p in PriceList.objects.all()}
        self.products = {}
        self.owner = dealer_client("owner", customer=self.customer)

    def product(self, sku, *, price="100", stock=50, vat_rate=20, **kwargs):
        product = ProductFactory(sku=sku, vat_rate=vat_rate, **kwargs)
        if price is not None:
            Price.objects.create(price_list=self.lists["LIST"], product=product, amount=D(price))
        if stock is not None:
            StockLevelFactory(product=product, warehouse=self.warehouse, on_hand=stock)
        self.products[sku] = product
        return product

    def client(self, role="owner", **kwargs):
        return self.dealer_client(role, customer=self.customer, **kwargs)


@pytest.fixture
def shop(dealer_client):
    return Shop(dealer_client)


def place(client, items=None, payment_method="on_account", **extra):
    body = {"payment_method": payment_method, **extra}
    if items is not None:
        body["items"] = [{"sku": sku, "quantity": q} for sku, q in items]
    return client.post("/api/v1/orders", body, format="json")
