"""factory-boy factories of the catalog and inventory models.

Categories are made through ``category_create`` (the service numbers their tree paths), products
carry the ``search_document`` that search reads, and images are rows pointing at file names
(nothing is written to storage).
"""

from __future__ import annotations

import factory
from django.utils.text import slugify

from apps.catalog.models import AttributeDefinition, Brand, Category, Product, ProductImage
from apps.catalog.search import build_search_document
from apps.catalog.services.categories import category_create
from apps.inventory.models import StockLevel, Warehouse


class CategoryFactory(factory.django.DjangoModelFactory):
    """``CategoryFactory(name=..., parent=..., sort_order=..., is_active=...)``."""

    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    parent = None
    sort_order = 0
    is_active = True

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise NotImplementedError("categories get their tree path from category_create")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return category_create(**kwargs)


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    is_active = True


class AttributeDefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AttributeDefinition

    category = factory.SubFactory(CategoryFactory)
    code = factory.Sequence(lambda n: f"attr_{n}")
    name = factory.LazyAttribute(lambda o: o.code.replace("_", " ").title())
    type = AttributeDefinition.Type.TEXT
    is_filterable = False


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:06d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    brand = factory.SubFactory(BrandFactory)
    category = factory.SubFactory(CategoryFactory)
    vat_rate = 20
    barcodes = factory.LazyFunction(list)
    attributes = factory.LazyFunction(dict)
    is_active = True
    search_document = factory.LazyAttribute(
        lambda o: build_search_document(
            sku=o.sku,
            name=o.name,
            brand_name=o.brand.name if o.brand else None,
            barcodes=o.barcodes,
            attributes=o.attributes,
        )
    )


class ProductImageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductImage

    product = factory.SubFactory(ProductFactory)
    image = factory.Sequence(lambda n: f"products/demo/image-{n}.jpg")
    alt_text = factory.LazyAttribute(lambda o: o.product.name)
    is_primary = False


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"WH{n:02d}")
    name = factory.LazyAttribute(lambda o: f"Warehouse {o.code}")
    is_active = True


class StockLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StockLevel

    product = factory.SubFactory(ProductFactory)
    warehouse = factory.SubFactory(WarehouseFactory)
    on_hand = 50
    reserved = 0
