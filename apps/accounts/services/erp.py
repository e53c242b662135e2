"""Customers pushed by the ERP (upsert by ``code``). Unchanged records write nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from apps.accounts.events import customer_updated_emit
from apps.accounts.models import (
    NOT_APPROVED,
    Address,
    CreditLimitChange,
    Customer,
    CustomerStatus,
)
from apps.accounts.services import addresses as address_services
from apps.accounts.services.customers import customer_set_credit_limit
from apps.core.exceptions import ValidationError

CUSTOMER_FIELDS = (
    "name",
    "tax_number",
    "tax_office",
    "tier",
    "status",
    "phone",
    "email",
    "payment_terms_days",
)
ADDRESS_FIELDS = tuple(f for f in address_services.ADDRESS_FIELDS if f not in ("type", "title"))


def _sync_addresses(customer: Customer, addresses: list[dict[str, Any]]) -> bool:
    """Upsert the ERP's addresses by (type, title). Addresses the dealer made stay. An
    address with ``is_default: true`` becomes its type's default; a type left without one
    gets its oldest address as the default, as in the dealer API."""
    changed = False
    stored = list(Address.objects.filter(customer=customer))
    existing = {(a.type, a.title): a for a in stored}
    for data in addresses:
        key = (data["type"], data["title"])
        address = existing.get(key)
        # the type's other defaults step down (asked only when the stored rows show one)
        if data.get("is_default") and any(
            a.type == data["type"] and a.is_default and a is not address for a in stored
        ):
            others = Address.objects.filter(customer=customer, type=data["type"], is_default=True)
            if address is not None:
                others = others.exclude(pk=address.pk)
            if others.update(is_default=False):
                for other in stored:
                    if other.type == data["type"] and other is not address:
                        other.is_default = False
                changed = True
        if address is None:
            Address.objects.create(customer=customer, **{k: data[k] for k in data})
            changed = True
            continue
        # ``is_default: false`` asks for nothing: the ERP moves a default by naming the new
        # one (a type with addresses keeps one, so a batch sent again changes nothing)
        diff = {
            k: data[k]
            for k in ADDRESS_FIELDS
            if k in data and getattr(address, k) != data[k] and (k != "is_default" or data[k])
        }
        if diff:
            for name, value in diff.items():
                setattr(address, name, value)
            address.save()
            changed = True
    # as in the dealer API: a type with addresses always has a default (asked of the database
    # only when something changed or the stored rows lack one)
    if changed or {a.type for a in stored} - {a.type for a in stored if a.is_default}:
        return address_services.address_defaults_ensure(customer.pk) or changed
    return changed


@transaction.atomic
def customer_upsert_from_erp(*, record: dict[str, Any]) -> str:
    """Create or update one customer; returns ``created``, ``updated`` or ``unchanged``.

    A customer that arrives from the ERP is already vetted: it needs no approval.
    """
    addresses = record.get("addresses")
    credit_limit: Decimal | None = record.get("credit_limit")
    customer = Customer.all_objects.select_for_update().filter(code=record["code"]).first()
    if customer is None:
        customer = Customer(code=record["code"], status=CustomerStatus.ACTIVE)
        for name in CUSTOMER_FIELDS:
            if name in record:
                setattr(customer, name, record[name])
        customer.credit_limit = credit_limit or Decimal("0.00")
        customer.approved_at = customer.created_at
        customer.save()
        if credit_limit:
            CreditLimitChange.objects.create(
                customer=customer,
                old_limit=Decimal("0.00"),
                new_limit=credit_limit,
                source=CreditLimitChange.Source.ERP,
                reason="ERP: new customer",
            )
        if addresses:
            _sync_addresses(customer, addresses)
        customer_updated_emit(customer=customer, source="erp")
        return "created"

    changed = False
    diff = {
        k: record[k] for k in CUSTOMER_FIELDS if k in record and getattr(customer, k) != record[k]
    }
    if "status" in diff and customer.status in NOT_APPROVED:
        # a self-registration: its owner verifies the e-mail, then staff approve it (that is
        # when customer.registered goes out); the ERP cannot skip either step
        raise ValidationError(
            {
                "status": [
                    _(
                        "This company registered itself and is %(status)s: staff approve it in "
                        "the back office first."
                    )
                    % {"status": customer.get_status_display()}
                ]
            }
        )
    if customer.is_deleted:
        diff["is_deleted"] = False
        diff["deleted_at"] = None
    if diff:
        for name, value in diff.items():
            setattr(customer, name, value)
        if customer.status == CustomerStatus.ACTIVE and customer.approved_at is None:
            from django.utils import timezone

            customer.approved_at = timezone.now()
        customer.save()
        changed = True
    if credit_limit is not None and credit_limit != customer.credit_limit:
        customer_set_credit_limit(
            customer=customer,
            new_limit=credit_limit,
            by=None,
            reason="ERP sync",
            source=CreditLimitChange.Source.ERP,
        )
        customer.credit_limit = credit_limit
        changed = True
    if addresses and _sync_addresses(customer, addresses):
        changed = True
    if changed:
        customer_updated_emit(customer=customer, source="erp")
    return "updated" if changed else "unchanged"
