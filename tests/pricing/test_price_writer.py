"""One price writer for list prices and dealer special prices: the same rules for both targets."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.catalog.models import Product
from apps.catalog.services.categories import category_create
from apps.pricing.models import PriceChange, PriceList
from apps.pricing.services import (
    CREATED,
    LIST_PRICES,
    SPECIAL_PRICES,
    UNCHANGED,
    UPDATED,
    price_break_delete,
    price_break_update,
    price_break_upsert,
)
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db]


@pytest.fixture(params=["list", "special"])
def target_and_owners(request):
    if request.param == "list":
        lists = {p.code: p for p in PriceList.objects.all()}
        return LIST_PRICES, lists["LIST"], lists["A"]
    return SPECIAL_PRICES, CustomerFactory(), CustomerFactory()


@pytest.fixture
def product():
    return Product.objects.create(sku="CAB-1", name="Cable", category=category_create(name="C"))


def _history(target, owner):
    field = "price_list" if target is LIST_PRICES else "customer"
    return list(
        PriceChange.objects.filter(**{field: owner})
        .order_by("id")
        .values_list("min_quantity", "old_amount", "new_amount")
    )


def test_either_target_is_created_updated_unchanged_moved_and_deleted_with_history(
    target_and_owners, product
):
    target, owner, other = target_and_owners
    write = {"target": target, "owner": owner, "product": product, "min_quantity": 1}

    row, outcome = price_break_upsert(**write, amount="10")
    assert outcome == CREATED and row.amount == Decimal("10.0000")
    assert price_break_upsert(**write, amount="10.0000")[1] == UNCHANGED
    assert price_break_upsert(**write, amount="9.5")[1] == UPDATED

    moved = price_break_update(
        target=target, row=row, owner=other, product=product, min_quantity=5, amount="9"
    )
    assert target.owner_id(moved) == other.pk and moved.min_quantity == 5
    assert not target.model.objects.filter(pk=row.pk).exists()

    price_break_delete(target=target, row=moved)
    assert not target.model.objects.exists()
    assert _history(target, owner) == [
        (1, None, Decimal("10.0000")),
        (1, Decimal("10.0000"), Decimal("9.5000")),
        (1, Decimal("9.5000"), None),
    ]
    assert _history(target, other) == [(5, None, Decimal("9.0000")), (5, Decimal("9.0000"), None)]


def test_the_history_follows_what_it_points_to_through_the_orm(product):
    """``PriceChange`` carries no database constraints (a history written by the thousand):
    deleting its product or owner still removes its rows, deleting its author keeps them
    without the author, through the ORM; and the table really has no foreign key."""
    from django.db import connection

    from tests.factories import StaffUserFactory

    staff = StaffUserFactory()
    customer = CustomerFactory()
    price_list = PriceList.objects.create(code="PROMO", name="Promo")
    price_break_upsert(
        target=LIST_PRICES,
        owner=price_list,
        product=product,
        min_quantity=1,
        amount=Decimal("5"),
        by=staff,
    )
    price_break_upsert(
        target=SPECIAL_PRICES, owner=customer, product=product, min_quantity=1, amount=Decimal("4")
    )
    assert PriceChange.objects.filter(product=product).count() == 2

    staff.delete()
    assert PriceChange.objects.get(price_list=price_list).changed_by is None

    customer_id = customer.pk
    type(customer).all_objects.filter(pk=customer_id).delete()  # for good, not soft
    assert not PriceChange.objects.filter(customer_id=customer_id).exists()
    Product.all_objects.filter(pk=product.pk).delete()
    assert not PriceChange.objects.filter(product_id=product.pk).exists()

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, PriceChange._meta.db_table)
    assert not [name for name, c in constraints.items() if c["foreign_key"]]
