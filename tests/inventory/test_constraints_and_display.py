"""What the database itself refuses, and what dealers are shown of stock."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from apps.catalog.models import Product
from apps.inventory.models import StockLevel
from apps.inventory.selectors import available_subquery, stock_display
from tests.inventory.factories import ProductFactory, StockLevelFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("changes", "constraint"),
    [
        ({"on_hand": -1, "reserved": 0}, "inventory_on_hand_gte_0"),
        ({"reserved": -1}, "inventory_reserved_gte_0"),
        ({"reserved": 11}, "inventory_reserved_lte_on_hand"),
        ({"on_hand": 2, "reserved": 3}, "inventory_reserved_lte_on_hand"),
    ],
)
def test_the_database_refuses_negative_or_oversold_stock(changes, constraint):
    stock = StockLevelFactory(on_hand=10, reserved=0)

    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        StockLevel.objects.filter(pk=stock.pk).update(**changes)

    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved) == (10, 0)


def test_the_database_refuses_a_second_level_for_the_same_product_and_warehouse():
    stock = StockLevelFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.create(product=stock.product, warehouse=stock.warehouse)


@pytest.mark.parametrize(
    ("available", "shown", "status"),
    [
        (-3, 0, "out_of_stock"),
        (0, 0, "out_of_stock"),
        (1, 1, "low_stock"),
        (9, 9, "low_stock"),  # just below the threshold
        (10, 10, "in_stock"),  # at the threshold
        (100, 100, "in_stock"),  # at the cap: exact
        (101, 100, "in_stock"),  # above the cap: the cap is shown
        (5000, 100, "in_stock"),
    ],
)
def test_stock_display_at_the_threshold_and_the_cap(settings, available, shown, status):
    settings.LOW_STOCK_THRESHOLD = 10
    settings.STOCK_DISPLAY_CAP = 100
    assert stock_display(available) == {"available": shown, "status": status}


def test_stock_display_without_a_cap_shows_the_exact_number(settings):
    settings.LOW_STOCK_THRESHOLD = 3
    settings.STOCK_DISPLAY_CAP = 0
    assert stock_display(5000) == {"available": 5000, "status": "in_stock"}
    assert stock_display(2) == {"available": 2, "status": "low_stock"}


def test_available_sums_active_warehouses_in_one_query(django_assert_num_queries):
    product = ProductFactory()
    StockLevelFactory(product=product, on_hand=10, reserved=4)
    StockLevelFactory(product=product, on_hand=5, reserved=0)
    StockLevelFactory(
        product=product, warehouse=WarehouseFactory(is_active=False), on_hand=99, reserved=0
    )
    bare = ProductFactory()

    with django_assert_num_queries(1):
        rows = dict(
            Product.objects.filter(pk__in=[product.pk, bare.pk])
            .annotate(available=available_subquery())
            .values_list("pk", "available")
        )

    assert rows == {product.pk: 11, bare.pk: 0}
