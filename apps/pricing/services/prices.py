"""Writes of list prices and dealer special prices.

Every write keeps the history: a ``PriceChange`` row (product, list or dealer, quantity break,
old and new amount, who, from where) whenever a row is created, changed or deleted. Saving what
is already stored writes nothing. A row is one quantity break, keyed by (price list, product,
min_quantity) or (customer, product, min_quantity).

One writer does both: ``price_break_upsert``, ``price_break_update`` and ``price_break_delete``
take the ``target`` (``LIST_PRICES`` or ``SPECIAL_PRICES``: the model and the owner of its
rows, a price list or a dealer). ``price_set``, ``special_price_set`` and the others name the
target and the owner for the callers that know which one they write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import Customer
from apps.catalog.models import Product
from apps.core.clock import planned_moment_problem
from apps.core.exceptions import ValidationError
from apps.core.money import FOUR_PLACES, to_decimal
from apps.core.text import plain_int
from apps.pricing.events import price_changed_emit
from apps.pricing.models import Price, PriceChange, PriceList, SpecialPrice

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
MAX_AMOUNT = Decimal("9999999999.9999")  # max_digits=14, decimal_places=4
MAX_QUANTITY = 2_147_483_647
Source = PriceChange.Source


# --- validation -------------------------------------------------------------------------------


def price_break_validate(
    *, min_quantity: Any, amount: Any, valid_from: datetime | None, valid_to: datetime | None
) -> tuple[int, Decimal, datetime | None, datetime | None]:
    """The cleaned values of one quantity break, or ``ValidationError`` naming each field:
    amount >= 0 with at most 4 decimals, min_quantity >= 1, valid_to after valid_from."""
    errors: dict[str, list[str]] = {}
    quantity = None
    if isinstance(min_quantity, bool):
        min_quantity = None
    try:
        quantity = int(str(min_quantity).strip())
    except (TypeError, ValueError):
        errors["min_quantity"] = [_("Enter a whole number of at least 1.")]
    else:
        if not 1 <= quantity <= MAX_QUANTITY:
            errors["min_quantity"] = [_("Enter a whole number of at least 1.")]
    value = None
    try:
        value = to_decimal(amount.strip() if isinstance(amount, str) else amount)
    except (TypeError, ValueError):
        errors["amount"] = [_("Enter the unit price as a number, e.g. 12.5000.")]
    else:
        if value < 0:
            errors["amount"] = [_("A price cannot be negative.")]
        elif value > MAX_AMOUNT:  # first: quantizing 1e25 to 4 places raises
            errors["amount"] = [_("The price is too large.")]
        elif value != value.quantize(FOUR_PLACES):
            errors["amount"] = [_("A unit price has at most 4 decimal places.")]
        else:
            value = abs(value.quantize(FOUR_PLACES))  # -0 is 0
    valid_from, valid_to = (_aware(valid_from), _aware(valid_to))
    for name, moment in (("valid_from", valid_from), ("valid_to", valid_to)):
        problem = moment and planned_moment_problem(moment)
        if problem:
            errors[name] = [problem]
    if "valid_from" in errors or "valid_to" in errors:
        raise ValidationError(errors)
    if valid_from and valid_to and valid_to <= valid_from:
        errors["valid_to"] = [_("The end of validity must be after its start.")]
    if errors:
        raise ValidationError(errors)
    return quantity, value, valid_from, valid_to


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def _check_source(source: str) -> None:
    if source not in Source.values:
        raise ValidationError({"source": [_("Unknown source of a price change.")]})


# --- the writer -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceTarget:
    """What a price row is: its model and the field naming its owner."""

    model: type[Price] | type[SpecialPrice]
    owner_field: str  # "price_list" | "customer"

    def owner_id(self, row) -> int:
        return getattr(row, f"{self.owner_field}_id")


LIST_PRICES = PriceTarget(Price, "price_list")
SPECIAL_PRICES = PriceTarget(SpecialPrice, "customer")


def _history(target: PriceTarget, row, *, old, new, by, source: str, reference: str) -> None:
    special = target is SPECIAL_PRICES
    PriceChange.objects.create(
        product_id=row.product_id,
        price_list_id=None if special else row.price_list_id,
        customer_id=row.customer_id if special else None,
        min_quantity=row.min_quantity,
        old_amount=old,
        new_amount=new,
        source=source,
        reference=(reference or "")[:100],
        changed_by=by if getattr(by, "pk", None) else None,
    )
    # ``price.changed`` in the writer's transaction (coalesced: one event per transaction)
    item = {
        "sku": row.product.sku,
        "min_quantity": row.min_quantity,
        "amount": new,
        "valid_from": row.valid_from,
        "valid_to": row.valid_to,
        "deleted": new is None,
    }
    if special:
        item["customer_code"] = row.customer.code
        price_changed_emit(special_prices=[item], source=source, reference=reference)
    else:
        item["price_list"] = row.price_list.code
        price_changed_emit(prices=[item], source=source, reference=reference)


def price_break_upsert(
    *,
    target: PriceTarget,
    owner: PriceList | Customer,
    product: Product,
    min_quantity,
    amount,
    valid_from=None,
    valid_to=None,
    by=None,
    source: str = Source.ADMIN,
    reference: str = "",
):
    """Set the quantity break of ``product`` from ``min_quantity`` units for ``owner`` (upsert
    by that key): ``(row, "created" | "updated" | "unchanged")``; a history row is written
    when the amount or the validity changed."""
    _check_source(source)
    min_quantity, amount, valid_from, valid_to = price_break_validate(
        min_quantity=min_quantity, amount=amount, valid_from=valid_from, valid_to=valid_to
    )
    model = target.model
    key = {target.owner_field: owner, "product": product, "min_quantity": min_quantity}
    values = {"amount": amount, "valid_from": valid_from, "valid_to": valid_to}
    log = {"by": by, "source": source, "reference": reference}
    with transaction.atomic():
        row = model.objects.select_for_update().filter(**key).first()
        if row is None:
            try:
                with transaction.atomic():
                    row = model.objects.create(**key, **values)
            except IntegrityError:  # created by someone else a moment ago
                row = model.objects.select_for_update().get(**key)
            else:
                _history(target, row, old=None, new=amount, **log)
                return row, CREATED
        if all(getattr(row, name) == value for name, value in values.items()):
            return row, UNCHANGED
        old = row.amount
        for name, value in values.items():
            setattr(row, name, value)
        row.save(update_fields=[*values, "updated_at"])
        _history(target, row, old=old, new=amount, **log)
        return row, UPDATED


def price_break_delete(
    *, target: PriceTarget, row, by=None, source: str = Source.ADMIN, reference: str = ""
) -> None:
    """Delete a quantity break; the history keeps its last amount (new amount empty)."""
    _check_source(source)
    with transaction.atomic():
        stored = target.model.objects.select_for_update().filter(pk=row.pk).first()
        if stored is None:  # already gone: nothing to record
            return
        stored.delete()
        _history(
            target, stored, old=stored.amount, new=None, by=by, source=source, reference=reference
        )


def price_break_update(
    *,
    target: PriceTarget,
    row,
    owner: PriceList | Customer | None = None,
    product: Product,
    min_quantity,
    amount,
    valid_from=None,
    valid_to=None,
    by=None,
    source: str = Source.ADMIN,
    reference: str = "",
):
    """Change the stored row ``row.pk``, as a back-office form does; a new owner, product or
    break moves it (the old break is deleted, the new one set; both are in the history)."""
    owner = owner or getattr(row, target.owner_field)
    with transaction.atomic():
        stored = target.model.objects.select_for_update().filter(pk=row.pk).first()
        moved = stored is not None and (
            target.owner_id(stored) != owner.pk
            or stored.product_id != product.pk
            or stored.min_quantity != int_or_none(min_quantity)
        )
        if moved:
            price_break_validate(  # refuse before deleting anything
                min_quantity=min_quantity, amount=amount, valid_from=valid_from, valid_to=valid_to
            )
            price_break_delete(target=target, row=stored, by=by, source=source, reference=reference)
        return price_break_upsert(
            target=target,
            owner=owner,
            product=product,
            min_quantity=min_quantity,
            amount=amount,
            valid_from=valid_from,
            valid_to=valid_to,
            by=by,
            source=source,
            reference=reference,
        )[0]


def int_or_none(value) -> int | None:
    return plain_int(value)


# --- by target ----------------------------------------------------------------------------------


def price_upsert(*, price_list: PriceList, **kwargs) -> tuple[Price, str]:
    """``price_break_upsert`` of a list price: ``(price, outcome)`` (for batch answers)."""
    return price_break_upsert(target=LIST_PRICES, owner=price_list, **kwargs)


def price_set(*, price_list: PriceList, **kwargs) -> Price:
    """Set the price of a product from a quantity in ``price_list`` (``price_break_upsert``)."""
    return price_upsert(price_list=price_list, **kwargs)[0]


def price_update(*, price: Price, price_list: PriceList | None = None, **kwargs) -> Price:
    """Edit the stored row ``price`` (by id); see ``price_break_update``."""
    return price_break_update(target=LIST_PRICES, row=price, owner=price_list, **kwargs)


def price_delete(*, price: Price, **kwargs) -> None:
    price_break_delete(target=LIST_PRICES, row=price, **kwargs)


def special_price_upsert(*, customer: Customer, **kwargs) -> tuple[SpecialPrice, str]:
    return price_break_upsert(target=SPECIAL_PRICES, owner=customer, **kwargs)


def special_price_set(*, customer: Customer, **kwargs) -> SpecialPrice:
    """The dealer's own price of a product from a quantity (``price_break_upsert``)."""
    return special_price_upsert(customer=customer, **kwargs)[0]


def special_price_update(
    *, special_price: SpecialPrice, customer: Customer | None = None, **kwargs
) -> SpecialPrice:
    return price_break_update(target=SPECIAL_PRICES, row=special_price, owner=customer, **kwargs)


def special_price_delete(*, special_price: SpecialPrice, **kwargs) -> None:
    price_break_delete(target=SPECIAL_PRICES, row=special_price, **kwargs)
