"""A company's billing and shipping addresses; one default per type."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.accounts.models import Address, Customer, User
from apps.core.exceptions import NotFound

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


def _has_default(customer_id: int, type: str) -> bool:
    return Address.objects.filter(customer_id=customer_id, type=type, is_default=True).exists()


def _pass_default_on(customer_id: int, type: str, *, leaving: int) -> None:
    """A type keeps a default while it has addresses: when the default (``leaving``) leaves
    it, the oldest other address of the type takes over."""
    if _has_default(customer_id, type):
        return
    successor = (
        Address.objects.filter(customer_id=customer_id, type=type)
        .exclude(pk=leaving)
        .order_by("id")
        .first()
    )
    if successor is not None:
        successor.is_default = True
        successor.save(update_fields=["is_default", "updated_at"])


def address_defaults_ensure(customer_id: int) -> bool:
    """Every type with addresses has a default (the oldest, when none is): for writers that
    set addresses wholesale, such as the ERP's customer feed. True when one was set."""
    types_with_default = set(
        Address.objects.filter(customer_id=customer_id, is_default=True).values_list(
            "type", flat=True
        )
    )
    set_one = False
    for type in Address.objects.filter(customer_id=customer_id).values_list("type", flat=True):
        if type not in types_with_default:
            _pass_default_on(customer_id, type, leaving=0)
            types_with_default.add(type)
            set_one = True
    return set_one


def _lock_company(customer_id: int) -> None:
    # one writer of a company's addresses at a time keeps "one default per type" race-free
    Customer.all_objects.select_for_update().filter(pk=customer_id).values_list("pk").first()


def _locked(address: Address) -> Address:
    """``address`` read again once its company is locked: a change works on what the writer
    before it left (a rename raced with a delete brought the address back, and a default
    read before the lock left a type without one); deleted meanwhile: 404."""
    _lock_company(address.customer_id)
    fresh = Address.objects.filter(pk=address.pk).first()
    if fresh is None:
        raise NotFound()
    return fresh


@transaction.atomic
def address_create(*, customer: Customer, data: dict[str, Any], by: User | None) -> Address:
    _lock_company(customer.pk)
    address = Address(customer=customer, created_by=by, updated_by=by)
    for name in ADDRESS_FIELDS:
        if name in data:
            setattr(address, name, data[name])
    if not _has_default(customer.pk, address.type):
        address.is_default = True  # the first address of a type is its default
    if address.is_default:
        _clear_other_defaults(address)
    address.full_clean(exclude=["customer", "created_by", "updated_by"])
    address.save()
    return address


@transaction.atomic
def address_update(*, address: Address, data: dict[str, Any], by: User | None) -> Address:
    """Change an address. Moved to the other type, it is that type's default only when the
    type has none (or ``is_default`` says so); the default it was passes on to the oldest
    other address of its old type. The only address of a type stays its default."""
    address = _locked(address)
    old_type, was_default = address.type, address.is_default
    for name in ADDRESS_FIELDS:
        if name in data:
            setattr(address, name, data[name])
    address.updated_by = by
    moved = address.type != old_type
    if moved and "is_default" not in data:
        address.is_default = not _has_default(address.customer_id, address.type)
    if not moved and was_default and not address.is_default:
        others = Address.objects.filter(customer_id=address.customer_id, type=old_type)
        address.is_default = not others.exclude(pk=address.pk).exists()
    if address.is_default:
        _clear_other_defaults(address)
    # the fields this change sends: a phone or postal code stored before today's rules does
    # not stop a change of the title
    unsent = [name for name in ("phone", "postal_code") if name not in data]
    address.full_clean(exclude=["customer", "created_by", "updated_by", *unsent])
    address.save()
    if was_default and (moved or not address.is_default):
        _pass_default_on(address.customer_id, old_type, leaving=address.pk)
    return address


@transaction.atomic
def address_delete(*, address: Address, by: User | None) -> None:
    """Soft delete: orders that used the address still show it."""
    address = _locked(address)
    was_default = address.is_default
    address.is_default = False
    address.save(update_fields=["is_default", "updated_at"])
    address.soft_delete(by=by)
    if was_default:
        _pass_default_on(address.customer_id, address.type, leaving=address.pk)
