"""Factories of the inventory tests (products, warehouses, stock levels)."""

from __future__ import annotations

import factory

from apps.catalog.models import Category, Product
from apps.catalog.services.categories import category_create
from apps.inventory.models import SerialNumber, StockLevel, Warehouse


class CategoryFactory(factory.django.DjangoModelFactory):
    """Made through the service, which numbers the tree path."""

    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Inventory category {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return category_create(**kwargs)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"INV-{n:05d}")
    name = factory.Sequence(lambda n: f"Stocked product {n}")
    category = factory.SubFactory(CategoryFactory)


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"WH{n:03d}")
    name = factory.LazyAttribute(lambda o: f"Warehouse {o.code}")
    sort_order = 0


class StockLevelFactory(factory.django.DjangoModelFactory):
    """A stock level with numbers set directly (no ledger rows): for display and admin tests.
    Tests of the ledger put stock in with ``stock_receive``."""

    class Meta:
        model = StockLevel

    product = factory.SubFactory(ProductFactory)
    warehouse = factory.SubFactory(WarehouseFactory)
    on_hand = 10
    reserved = 0


class SerialNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SerialNumber

    product = factory.SubFactory(ProductFactory, serial_tracked=True)
    warehouse = factory.SubFactory(WarehouseFactory)
    serial = factory.Sequence(lambda n: f"SN{n:08d}")
