"""Product writes of the back office (admin forms, bulk actions, CSV/Excel import).

Every save goes through ``product_save``: attributes are checked against the attribute
definitions of the product's category (and its ancestors), barcodes are normalised, and
``search_document`` is rebuilt, so what search sees always matches what was saved.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from apps.catalog.attributes import definitions_for, validate_attributes
from apps.catalog.events import product_updated_emit
from apps.catalog.hooks import serial_tracking_refusals
from apps.catalog.models import Category, Product
from apps.catalog.search import build_search_document
from apps.core.exceptions import ValidationError
from apps.core.text import key_problem

MAX_BARCODE_LENGTH = 64


def product_attributes_clean(*, category: Category, attributes: Any) -> dict[str, Any]:
    """The stored form of ``attributes`` for a product of ``category``; ``ValidationError``
    with one entry per bad attribute (``attributes.<code>``) otherwise."""
    cleaned, errors = validate_attributes(definitions_for(category), attributes)
    if errors:
        raise ValidationError(errors)
    return cleaned


def barcodes_clean(barcodes: Any) -> list[str]:
    """A list of distinct, non-empty barcodes (order kept); ``ValidationError`` otherwise."""
    if barcodes in (None, ""):
        return []
    if isinstance(barcodes, str):
        barcodes = [barcodes]
    if not isinstance(barcodes, list | tuple):
        raise ValidationError({"barcodes": [_("Must be a list of barcodes.")]})
    out: list[str] = []
    for raw in barcodes:
        if isinstance(raw, bool) or not isinstance(raw, str | int):
            raise ValidationError({"barcodes": [_("A barcode is a text of digits or letters.")]})
        code = str(raw).strip()
        if not code:
            continue
        if len(code) > MAX_BARCODE_LENGTH or any(ch.isspace() for ch in code):
            raise ValidationError(
                {"barcodes": [_("%(code)s is not a valid barcode.") % {"code": code[:80]}]}
            )
        problem = key_problem(code)  # a barcode that looks like another (zero-width, ١)
        if problem:
            raise ValidationError({"barcodes": [problem]})
        if code not in out:
            out.append(code)
    return out


def product_search_document(product: Product) -> str:
    return build_search_document(
        sku=product.sku,
        name=product.name,
        brand_name=product.brand.name if product.brand_id else None,
        barcodes=product.barcodes,
        attributes=product.attributes,
    )


def serial_tracking_change_check(product: Product) -> None:
    """``ValidationError`` on ``serial_tracked`` when a saved product's serial tracking is to
    change while something hangs on it (stock, returnable sales: ``serial_tracking_refusals``)."""
    if product.pk is None:
        return
    refusal = serial_tracking_refusals({product.pk: product.serial_tracked}).get(product.pk)
    if refusal:
        raise ValidationError({"serial_tracked": [refusal]})


def product_prepare(*, product: Product) -> Product:
    """Check and normalise a product in memory (serial tracking, attributes, barcodes, search
    document)."""
    serial_tracking_change_check(product)
    product.attributes = product_attributes_clean(
        category=product.category, attributes=product.attributes
    )
    product.barcodes = barcodes_clean(product.barcodes)
    product.search_document = product_search_document(product)
    return product


@transaction.atomic
def product_save(*, product: Product, by=None) -> Product:
    """Create or update a product from the back office."""
    product_prepare(product=product)
    created = product._state.adding
    if created and product.created_by_id is None:
        product.created_by = by
    product.updated_by = by
    product.save()
    product_updated_emit(
        products=[_event_item(product, "created" if created else "updated")], source="admin"
    )
    return product


def _event_item(product: Product, change: str) -> dict[str, Any]:
    return {
        "sku": product.sku,
        "name": product.name,
        "is_active": product.is_active,
        "change": change,
    }


def _each(products: QuerySet[Product] | Iterable[Product]):
    return products.iterator(chunk_size=500) if isinstance(products, QuerySet) else products


@transaction.atomic
def product_set_active(
    *, products: QuerySet[Product] | Iterable[Product], is_active: bool, by=None
) -> int:
    """Activate or deactivate products; returns how many changed. Row by row, so each change
    is in the audit log."""
    changed = []
    for product in _each(products):
        if product.is_active == is_active or product.is_deleted:
            continue
        product.is_active = is_active
        product.updated_by = by
        product.save(update_fields=["is_active", "updated_by", "updated_at"])
        changed.append(_event_item(product, "updated"))
    product_updated_emit(products=changed, source="admin")
    return len(changed)


@transaction.atomic
def product_soft_delete(*, products: QuerySet[Product] | Iterable[Product], by=None) -> int:
    """Mark products deleted (hidden everywhere, kept for orders and history); returns how
    many changed."""
    changed = []
    for product in _each(products):
        if product.is_deleted:
            continue
        product.soft_delete(by=by)
        changed.append(_event_item(product, "deleted"))
    product_updated_emit(products=changed, source="admin")
    return len(changed)


@transaction.atomic
def product_restore(*, products: QuerySet[Product] | Iterable[Product], by=None) -> int:
    """Bring soft-deleted products back as they were (active or not); returns how many
    changed. Receivers hear of them as ``updated``, as of a product the ERP sends again."""
    changed = []
    for product in _each(products):
        if not product.is_deleted:
            continue
        product.restore(by=by)
        changed.append(_event_item(product, "updated"))
    product_updated_emit(products=changed, source="admin")
    return len(changed)
