"""Writes of list prices and dealer special prices.

Every write keeps the history: a ``PriceChange`` row (product, list or dealer, quantity break,
old and new amount, who, from where) whenever a row is created, changed or deleted. Saving what
is already stored writes nothing. A row is one quantity break, keyed by (price list, product,
min_quantity) or (customer, product, min_quantity). The list-price and special-price functions
are thin, explicit twins over the shared ``_break_*`` helpers.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import Customer
from apps.catalog.models import Product
from apps.core.exceptions import ValidationError
from apps.core.money import FOUR_PLACES, to_decimal
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
        elif value != value.quantize(FOUR_PLACES):
            errors["amount"] = [_("A unit price has at most 4 decimal places.")]
        elif value > MAX_AMOUNT:
            errors["amount"] = [_("The price is too large.")]
        else:
            value = value.quantize(FOUR_PLACES)
    valid_from, valid_to = (_aware(valid_from), _aware(valid_to))
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


# --- writes -----------------------------------------------------------------------------------


def _history(row, *, owner_field: str, old, new, by, source: str, reference: str) -> None:
    PriceChange.objects.create(
        product_id=row.product_id,
        price_list_id=row.price_list_id if owner_field == "price_list" else None,
        customer_id=row.customer_id if owner_field == "customer" else None,
        min_quantity=row.min_quantity,
        old_amount=old,
        new_amount=new,
        source=source,
        reference=(reference or "")[:100],
        changed_by=by if getattr(by, "pk", None) else None,
    )
    _emit(row, owner_field=owner_field, new=new, source=source, reference=reference)


def _emit(row, *, owner_field: str, new, source: str, reference: str) -> None:
    """``price.changed`` in the writer's transaction (coalesced: one event per transaction)."""
    from apps.integrations.events import price_changed_emit

    item = {
        "sku": row.product.sku,
        "min_quantity": row.min_quantity,
        "amount": new,
        "valid_from": row.valid_from,
        "valid_to": row.valid_to,
        "deleted": new is None,
    }
    if owner_field == "price_list":
        item["price_list"] = row.price_list.code
        price_changed_emit(prices=[item], source=source, reference=reference)
    else:
        item["customer_code"] = row.customer.code
        price_changed_emit(special_prices=[item], source=source, reference=reference)


def _break_upsert(
    model: type[Model],
    owner_field: str,
    owner,
    *,
    product,
    min_quantity,
    amount,
    valid_from,
    valid_to,
    by,
    source,
    reference,
):
    _check_source(source)
    min_quantity, amount, valid_from, valid_to = price_break_validate(
        min_quantity=min_quantity, amount=amount, valid_from=valid_from, valid_to=valid_to
    )
    key = {owner_field: owner, "product": product, "min_quantity": min_quantity}
    values = {"amount": amount, "valid_from": valid_from, "valid_to": valid_to}
    log = {"owner_field": owner_field, "by": by, "source": source, "reference": reference}
    with transaction.atomic():
        row = model.objects.select_for_update().filter(**key).first()
        if row is None:
            try:
                with transaction.atomic():
                    row = model.objects.create(**key, **values)
            except IntegrityError:  # created by someone else a moment ago
                row = model.objects.select_for_update().get(**key)
            else:
                _history(row, old=None, new=amount, **log)
                return row, CREATED
        if all(getattr(row, name) == value for name, value in values.items()):
            return row, UNCHANGED
        old = row.amount
        for name, value in values.items():
            setattr(row, name, value)
        row.save(update_fields=[*values, "updated_at"])
        _history(row, old=old, new=amount, **log)
        return row, UPDATED


def _break_delete(model, owner_field: str, row, *, by, source: str, reference: str) -> None:
    _check_source(source)
    with transaction.atomic():
        stored = model.objects.select_for_update().filter(pk=row.pk).first()
        if stored is None:  # already gone: nothing to record
            return
        stored.delete()
        log = {"owner_field": owner_field, "by": by, "source": source, "reference": reference}
        _history(stored, old=stored.amount, new=None, **log)


def _break_update(model, owner_field: str, row, owner, **kwargs):
    """Change the stored row ``row.pk``; a new owner, product or break moves it (the old break
    is deleted, the new one set; both are in the history)."""
    with transaction.atomic():
        stored = model.objects.select_for_update().filter(pk=row.pk).first()
        moved = stored is not None and (
            getattr(stored, f"{owner_field}_id") != owner.pk
            or stored.product_id != kwargs["product"].pk
            or stored.min_quantity != int_or_none(kwargs["min_quantity"])
        )
        if moved:
            price_break_validate(  # refuse before deleting anything
                min_quantity=kwargs["min_quantity"],
                amount=kwargs["amount"],
                valid_from=kwargs["valid_from"],
                valid_to=kwargs["valid_to"],
            )
            _break_delete(
                model,
                owner_field,
                stored,
                by=kwargs["by"],
                source=kwargs["source"],
                reference=kwargs["reference"],
            )
        return _break_upsert(model, owner_field, owner, **kwargs)[0]


def int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def price_upsert(
    *,
    price_list: PriceList,
    product: Product,
    min_quantity: int,
    amount,
    valid_from=None,
    valid_to=None,
    by=None,
    source: str = Source.ADMIN,
    reference: str = "",
) -> tuple[Price, str]:
    """``price_set`` that also says what happened: ``created``, ``updated`` or ``unchanged``
    (for batch answers)."""
    return _break_upsert(
        Price,
        "price_list",
        price_list,
        product=product,
        min_quantity=min_quantity,
        amount=amount,
        valid_from=valid_from,
        valid_to=valid_to,
        by=by,
        source=source,
        reference=reference,
    )


def price_set(
    *,
    price_list: PriceList,
    product: Product,
    min_quantity: int,
    amount,
    valid_from=None,
    valid_to=None,
    by=None,
    source: str = Source.ADMIN,
    reference: str = "",
) -> Price:
    """Set the price of ``product`` from ``min_quantity`` units in ``price_list`` (upsert by
    that key); a history row is written when the amount or the validity changed."""
    return price_upsert(
        price_list=price_list,
        product=product,
        min_quantity=min_quantity,
        amount=amount,
        valid_from=valid_from,
        valid_to=valid_to,
        by=by,
        source=source,
        reference=reference,
    )[0]


def price_update(
    *,
    price: Price,
    product: Product,
    min_quantity: int,
    amount,
    valid_from=None,
    valid_to=None,
    by=None,
    source: str = Source.ADMIN,
    reference: str = "",
    price_list: PriceList | None = None,
) -> Price:
    """Edit the stored row ``price`` (by id), as a back-office form does; see ``_break_update``."""
    return _break_update(
        Price,
        "price_list",
        price,
        price_list or price.price_list,
        product=product,
        min_quantity=min_quantity,
        amount=amount,
        valid_from=valid_from,
        valid_to=valid_to,
        by=by,
        source=source,
        reference=reference,
    )


def price_delete(*, price: Price, by=None, source: str = Source.ADMIN, reference: str = "") -> None:
    """Delete a quantity break; the history keeps its last amount (new amount empty)."""
    _break_delete(Price, "price_list", price, by=by, source=source, reference=reference)


def special_price_upsert(
    *,
    customer: Customer,
    product: Product,
    min_quantity: int,
    amount,
    valid_from=None,
    valid_to=None,
    by=None,
    source: str = Source.ADMIN,
    reference: str = "",
) -> tuple[SpecialPrice, str]:
    return _break_upsert(
        SpecialPrice,
        "customer",
        customer,
        product=product,
        min_quantity=min_quantity,
        amount=amount,
        valid_from=valid_from,
        valid_to=valid_to,
        by=by,
        source=source,
        reference=reference,
    )


def special_price_set(
    *,
    customer: Customer,
    product: Product,
    min_quantity: int,
    amount,
    valid_from=None,
    valid_to=None,
    by=None,
    source: str = Source.ADMIN,
    reference: str = "",
) -> SpecialPrice:
    """The dealer's own price of ``product`` from ``min_quantity`` units (upsert)."""
    return special_price_upsert(
        customer=customer,
        product=product,
        min_quantity=min_quantity,
        amount=amount,
        valid_from=valid_from,
        valid_to=valid_to,
        by=by,
        source=source,
        reference=reference,
    )[0]


def special_price_update(
    *,
    special_price: SpecialPrice,
    product: Product,
    min_quantity: int,
    amount,
    valid_from=None,
    valid_to=None,
    by=None,
    source: str = Source.ADMIN,
    reference: str = "",
    customer: Customer | None = None,
) -> SpecialPrice:
    return _break_update(
        SpecialPrice,
        "customer",
        special_price,
        customer or special_price.customer,
        product=product,
        min_quantity=min_quantity,
        amount=amount,
        valid_from=valid_from,
        valid_to=valid_to,
        by=by,
        source=source,
        reference=reference,
    )


def special_price_delete(
    *, special_price: SpecialPrice, by=None, source: str = Source.ADMIN, reference: str = ""
) -> None:
    _break_delete(
        SpecialPrice, "customer", special_price, by=by, source=source, reference=reference
    )
