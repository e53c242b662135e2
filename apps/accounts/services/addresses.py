"""A company's billing and shipping addresses; one default per type."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.accounts.models import Address, Customer, User

ADDRESS_FIELDS = (
    "type",
    "title",
    "line1",
    "line2",
    "district",
    "city",
    "postal_code",
    "country",
    "phone",
    "is_default",
)


def _clear_other_defaults(address: Address) -> None:
    Address.objects.filter(
        customer_id=address.customer_id, type=address.type, is_default=True
    ).exclude(pk=address.pk).update(is_default=False)


def _lock_company(customer_id: int) -> None:
    # one writer of a company's addresses at a time keeps "one default per type" race-free
    Customer.all_objects.select_for_update().filter(pk=customer_id).values_list("pk").first()


@transaction.atomic
def address_create(*, customer: Customer, data: dict[str, Any], by: User | None) -> Address:
    _lock_company(customer.pk)
    address = Address(customer=customer, created_by=by, updated_by=by)
    for name in ADDRESS_FIELDS:
        if name in data:
            setattr(address, name, data[name])
    has_default = Address.objects.filter(
        customer=customer, type=address.type, is_default=True
    ).exists()
    if not has_default:
        address.is_default = True  # the first address of a type is its default
    if address.is_default:
        _clear_other_defaults(address)
    address.full_clean(exclude=["customer", "created_by", "updated_by"])
    address.save()
    return address


@transaction.atomic
def address_update(*, address: Address, data: dict[str, Any], by: User | None) -> Address:
    _lock_company(address.customer_id)
    for name in ADDRESS_FIELDS:
        if name in data:
            setattr(address, name, data[name])
    address.updated_by = by
    if address.is_default:
        _clear_other_defaults(address)
    address.full_clean(exclude=["customer", "created_by", "updated_by"])
    address.save()
    return address


@transaction.atomic
def address_delete(*, address: Address, by: User | None) -> None:
    """Soft delete: orders that used the address still show it."""
    _lock_company(address.customer_id)
    was_default = address.is_default
    address.is_default = False
    address.save(update_fields=["is_default", "updated_at"])
    address.soft_delete(by=by)
    if was_default:
        successor = (
            Address.objects.filter(customer_id=address.customer_id, type=address.type)
            .order_by("id")
            .first()
        )
        if successor is not None:
            successor.is_default = True
            successor.save(update_fields=["is_default", "updated_at"])
