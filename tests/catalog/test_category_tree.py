"""The category tree as a materialized path; attribute values checked by type and range."""

import threading

import pytest
from django.db import connection

from apps.catalog.attributes import validate_attributes
from apps.catalog.models import AttributeDefinition, Category
from apps.catalog.services.categories import category_create, category_get_or_create_path


@pytest.mark.django_db
def test_paths_nest_and_descendants_are_one_prefix_query():
    leaf = category_get_or_create_path("Electrical > Cables > Power")
    root = Category.objects.get(name="Electrical")
    assert leaf.path.startswith(root.path) and leaf.depth == 3
    assert category_get_or_create_path("electrical > CABLES > Power") == leaf
    assert set(Category.objects.descendants_of(root).values_list("name", flat=True)) == {
        "Electrical",
        "Cables",
        "Power",
    }


@pytest.mark.django_db(transaction=True)
def test_parallel_new_roots_get_distinct_paths():
    errors, barrier = [], threading.Barrier(8)

    def make(n):
        try:
            barrier.wait()
            category_create(name=f"Root {n}")
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=make, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert Category.objects.filter(parent=None).values("path").distinct().count() == 8


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "ok"),
    [(12, True), ("12.5", True), ("1E+999999", False), (True, False), ("abc", False)],
)
def test_number_attributes_are_numbers_in_range(value, ok):
    category = category_create(name="Lamps")
    definition = AttributeDefinition.objects.create(
        category=category, code="power", name="Power", type="number"
    )
    _cleaned, errors = validate_attributes([definition], {"power": value})
    assert (errors == {}) is ok
