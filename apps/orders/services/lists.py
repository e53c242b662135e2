"""Requisition lists: named lists of products and quantities that a user keeps to order again.

A list belongs to a company and to the user who made it (its owner). Its owner sees it; when
``shared``, every user of the company who may order sees it and may put it in their cart.
Changing a list (rename, share, delete, its lines) is for its owner, and for a shared list
also for the company's owners (``RequisitionList.can_edit``); every service below checks it.
Like the cart, a list holds products and quantities only: prices are those of the moment its
lines go into the cart. Adding a product that is already in the list adds to its line.

Every write locks the list's row first, so the line limit and the one-line-per-product rule
hold under concurrent requests; creating a list takes a per-company advisory lock for the
list limit.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.catalog.models import Product
from apps.core.exceptions import NotAllowed, NotFound, ValidationError
from apps.core.exports import neutralize_cell, restore_cell
from apps.core.money import quantity_clean
from apps.core.text import control_problem
from apps.orders.models import Cart, CartItem, RequisitionList, RequisitionListItem
from apps.orders.services.cart import (
    MAX_QUANTITY,
    ImportResult,
    _add,
    _rows_checked,
    cart_for,
    cart_lock,
    quick_order_rows,
)
from apps.pricing.lines import lines_price, products_by_sku

MAX_LISTS_PER_COMPANY = 200
MAX_LIST_ITEMS = 500
MAX_NAME_LENGTH = 100
_LISTS_LOCK = 0x72716C73 << 32  # advisory lock key space ("rqls"); the low half: the dealer


# --- rules ----------------------------------------------------------------------------------------


def _check_can_edit(reqlist: RequisitionList, by) -> None:
    if not reqlist.can_edit(by=by):
        raise NotAllowed(
            _("Only the list's owner, or for a shared list an owner of the company, may change it.")
        )


def _name(value) -> str:
    """A list's name: one line of text (a control character or a line break is refused with
    its message, as in every other field, not dropped without a word)."""
    name = value.strip() if isinstance(value, str) else ""
    if not name:
        raise ValidationError({"name": [_("Enter a name.")]})
    problem = control_problem(name, single_line=True)
    if problem:
        raise ValidationError({"name": [problem]})
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError({"name": [_("At most %(n)d characters.") % {"n": MAX_NAME_LENGTH}]})
    return name


def _too_many_lines() -> str:
    return _("A list holds at most %(n)d lines.") % {"n": MAX_LIST_ITEMS}


def _line_too_big() -> str:
    return _("A line holds at most %(n)d units.") % {"n": MAX_QUANTITY}


def _locked(reqlist: RequisitionList) -> RequisitionList:
    """The list's row, locked until the transaction ends (every write to it and its lines
    takes it); deleted meanwhile (another tab, a colleague): 404."""
    locked = RequisitionList.objects.select_for_update().filter(pk=reqlist.pk).first()
    if locked is None:
        raise NotFound(_("This list no longer exists."))
    return locked


def _touch(reqlist: RequisitionList) -> None:
    RequisitionList.objects.filter(pk=reqlist.pk).update(updated_at=timezone.now())


@dataclass
class _Failure:
    key: object  # the caller's reference to the row: an index, a file line
    product: Product
    field: str  # "sku" or "quantity"
    message: str


def _lines_add(
    reqlist: RequisitionList, wanted: Sequence[tuple[object, Product, int]]
) -> list[_Failure]:
    """Add ``(key, product, quantity)`` rows to the (locked) list: to the product's line when
    there is one, else as a new line while the list has room. Returns the rows that failed."""
    lines = {line.product_id: line for line in RequisitionListItem.objects.filter(list=reqlist)}
    failures = []
    for key, product, quantity in wanted:
        line = lines.get(product.pk)
        if line is None:
            if len(lines) >= MAX_LIST_ITEMS:
                failures.append(_Failure(key, product, "sku", _too_many_lines()))
                continue
            lines[product.pk] = RequisitionListItem.objects.create(
                list=reqlist, product=product, quantity=quantity
            )
        elif line.quantity + quantity > MAX_QUANTITY:
            failures.append(_Failure(key, product, "quantity", _line_too_big()))
        else:
            line.quantity += quantity
            line.save(update_fields=["quantity"])
    return failures


# --- lists ----------------------------------------------------------------------------------------


def list_create(*, user, name, shared: bool = False, items: Iterable[dict] = ()) -> RequisitionList:
    """A new list of ``user``, with ``items`` (``[{sku, quantity}]``; a SKU given twice makes
    one line of both quantities). All or nothing: a bad item, or a company already holding
    MAX_LISTS_PER_COMPANY lists, is a 400 and nothing is created."""
    name = _name(name)
    items = list(items)
    if len({str(item.get("sku")) for item in items}) > MAX_LIST_ITEMS:
        raise ValidationError({"items": [_too_many_lines()]})
    errors: dict[str, list[str]] = {}
    quantities = {}
    for index, item in enumerate(items):
        try:
            quantities[index] = quantity_clean(item.get("quantity"), f"items.{index}.quantity")
        except ValidationError as exc:
            errors.update(exc.errors)
    products = products_by_sku(str(item.get("sku")) for item in items)
    for index, item in enumerate(items):
        if str(item.get("sku")) not in products:
            errors[f"items.{index}.sku"] = [_("Unknown product.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if connection.vendor == "postgresql":  # one creation at a time per dealer: the limit
            with connection.cursor() as cursor:  # holds (SQLite, the demo's, writes one at a time)
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LISTS_LOCK | user.customer_id])
        # a removed colleague's lists are nobody's to see now: they do not take the room
        live = RequisitionList.objects.filter(customer_id=user.customer_id, owner__is_deleted=False)
        if live.count() >= MAX_LISTS_PER_COMPANY:
            raise ValidationError(
                _("Your company has %(n)d lists, the most it may keep; delete one first.")
                % {"n": MAX_LISTS_PER_COMPANY}
            )
        reqlist = RequisitionList.objects.create(
            customer_id=user.customer_id, owner=user, name=name, shared=bool(shared)
        )
        wanted = [
            (index, products[str(item["sku"])], quantities[index])
            for index, item in enumerate(items)
        ]
        failures = _lines_add(reqlist, wanted)
        if failures:
            raise ValidationError({f"items.{f.key}.{f.field}": [f.message] for f in failures})
    return reqlist


@transaction.atomic
def list_update(
    *, by, reqlist: RequisitionList, name: str | None = None, shared: bool | None = None
) -> RequisitionList:
    """Rename and/or share (or stop sharing) the list; what is None stays as it is."""
    _check_can_edit(reqlist, by)
    _locked(reqlist)
    fields = []
    if name is not None:
        reqlist.name = _name(name)
        fields.append("name")
    if shared is not None:
        if not shared and reqlist.shared and reqlist.owner.is_deleted:
            # unshared, nobody could see it again (its owner was removed): a list no one
            # could delete
            raise ValidationError(
                {
                    "shared": [
                        _(
                            "The user who made this list was removed: it stays shared (delete "
                            "it if it is no longer needed)."
                        )
                    ]
                }
            )
        reqlist.shared = bool(shared)
        fields.append("shared")
    if fields:
        reqlist.save(update_fields=[*fields, "updated_at"])
    return reqlist


@transaction.atomic
def list_delete(*, by, reqlist: RequisitionList) -> None:
    """Delete the list with its lines (the products and the cart are untouched)."""
    _check_can_edit(reqlist, by)
    _locked(reqlist).delete()


# --- lines ----------------------------------------------------------------------------------------


def list_item_add(*, by, reqlist: RequisitionList, sku, quantity) -> None:
    """Add ``quantity`` of the product ``sku`` to its line (a new line when the product is
    not in the list yet). Only products the dealer may order now can be added."""
    _check_can_edit(reqlist, by)
    quantity = quantity_clean(quantity)
    product = products_by_sku([str(sku)]).get(str(sku))
    if product is None:
        raise ValidationError({"sku": [_("Unknown product.")]})
    with transaction.atomic():
        locked = _locked(reqlist)
        for failure in _lines_add(locked, [(0, product, quantity)]):
            raise ValidationError({failure.field: [failure.message]})
        _touch(locked)


@transaction.atomic
def list_item_update(*, by, item: RequisitionListItem, quantity) -> RequisitionListItem:
    """Set the line's quantity (1 to MAX_QUANTITY)."""
    _check_can_edit(item.list, by)
    quantity = quantity_clean(quantity)
    _locked(item.list)
    if not RequisitionListItem.objects.filter(pk=item.pk).update(quantity=quantity):
        raise NotFound(_("This line is no longer in the list."))
    item.quantity = quantity
    _touch(item.list)
    return item


@transaction.atomic
def list_item_delete(*, by, item: RequisitionListItem) -> None:
    _check_can_edit(item.list, by)
    _locked(item.list)
    item.delete()
    _touch(item.list)


# --- to the cart, import, export ------------------------------------------------------------------


@dataclass
class ToCartResult:
    added: list[dict] = field(default_factory=list)  # [{sku, quantity}]
    problems: list[dict] = field(default_factory=list)  # [{sku, code, message}]


def list_to_cart(*, user, reqlist: RequisitionList, item_ids=None) -> ToCartResult:
    """Put the list's lines (those of ``item_ids``, else all) into ``user``'s cart through
    the cart's own writer; the list does not change. Each line is priced for the dealer at the
    quantity its cart line will have: a product no longer sold (``not_available``) or without
    a price for the dealer (``not_sellable``) is not added; a line short of stock
    (``out_of_stock``), under the minimum (``below_minimum``) or off the multiple
    (``not_multiple``) is added and reported, as the cart reports it; a line the cart cannot
    take (``cart_limit``: the cart is full, or the line would pass MAX_QUANTITY) is not added.
    An id that is not a line of this list is a 400 and nothing is added."""
    if not reqlist.can_use(by=user):
        raise NotAllowed(_("This list is not yours to use."))
    items = list(
        RequisitionListItem.objects.filter(list=reqlist)
        .select_related("product")
        .order_by("added_at", "id")
    )
    if item_ids is not None:
        chosen = set(item_ids)
        unknown = sorted(chosen - {item.pk for item in items})
        if unknown:
            raise ValidationError(
                {
                    "item_ids": [
                        _("Not lines of this list: %(ids)s.")
                        % {"ids": ", ".join(str(pk) for pk in unknown[:20])}
                    ]
                }
            )
        items = [item for item in items if item.pk in chosen]
    result = ToCartResult()
    if not items:
        return result
    products = products_by_sku(item.product.sku for item in items)
    cart = cart_for(user)
    in_cart = dict(
        CartItem.objects.filter(
            cart=cart, product_id__in=[p.pk for p in products.values()]
        ).values_list("product_id", "quantity")
    )
    sellable_items = [item for item in items if item.product.sku in products]
    priced = lines_price(
        customer=user.customer,
        pairs=[
            (products[item.product.sku], in_cart.get(item.product_id, 0) + item.quantity)
            for item in sellable_items
        ],
    )
    priced_by_item = {item.pk: line for item, line in zip(sellable_items, priced, strict=True)}
    with transaction.atomic():
        cart_lock(cart.pk)
        for item in items:
            sku = item.product.sku
            line = priced_by_item.get(item.pk)
            if line is None:
                result.problems.append(
                    {
                        "sku": sku,
                        "code": "not_available",
                        "message": _("This product is no longer sold."),
                    }
                )
                continue
            if not line.sellable:
                result.problems += [
                    {"sku": sku, **p} for p in line.problems if p["code"] == "not_sellable"
                ]
                continue
            try:
                with transaction.atomic():
                    _add(cart, products[sku], item.quantity)
            except ValidationError as exc:
                message = next(iter(exc.errors.values()))[0]
                result.problems.append({"sku": sku, "code": "cart_limit", "message": message})
                continue
            result.added.append({"sku": sku, "quantity": item.quantity})
            result.problems += [{"sku": sku, **p} for p in line.problems]
        if result.added:
            Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now())
    return result


def list_import(*, by, reqlist: RequisitionList, upload) -> ImportResult:
    """Add the ``sku, quantity`` rows of a CSV or Excel file (the formats of the cart's quick
    order, ``quick_order_rows``; a file of ``list_csv`` reads back as it was written) to the
    list: valid rows are added, each bad row is reported with its line number and reason."""
    _check_can_edit(reqlist, by)
    rows = [
        (number, [restore_cell(cell) for cell in row])
        for number, row in quick_order_rows(upload=upload)
    ]
    result = ImportResult(rows=len(rows))
    checked = _rows_checked(rows, result)
    products = products_by_sku(sku for _line, sku, _q in checked)
    wanted = []
    for number, sku, quantity in checked:
        product = products.get(sku)
        if product is None:
            result.errors.append({"line": number, "sku": sku, "error": _("Unknown product.")})
            continue
        wanted.append((number, product, quantity))
    with transaction.atomic():
        locked = _locked(reqlist)
        failures = _lines_add(locked, wanted)
        if len(failures) < len(wanted):
            _touch(locked)
    result.errors += [{"line": f.key, "sku": f.product.sku, "error": f.message} for f in failures]
    result.added = len(wanted) - len(failures)
    result.errors.sort(key=lambda error: error["line"])
    return result


def list_csv(*, reqlist: RequisitionList) -> bytes:
    """The list's lines as ``sku;quantity`` CSV: UTF-8 with a byte order mark and ``;``, so
    Excel (in Turkish too) opens it in two columns; ``list_import`` and the cart's quick order
    read it back. A SKU that a spreadsheet would run as a formula is written as text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["sku", "quantity"])
    for sku, quantity in (
        RequisitionListItem.objects.filter(list=reqlist)
        .order_by("added_at", "id")
        .values_list("product__sku", "quantity")
    ):
        writer.writerow([neutralize_cell(sku), quantity])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
