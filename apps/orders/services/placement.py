"""Placing an order (DESIGN.md "Orders", "Placement"), in one transaction:

1. the lines (from ``items`` or the user's cart) are checked and priced by the engine now:
   unknown SKUs, quantities under the minimum or off the multiple, unsellable products -> 400
   with per-line errors; nothing the client says about prices is used;
2. the dealer's row is locked (so two placements of one dealer are judged one after the other
   against the credit limit), then stock is reserved for every line, all or nothing
   (``stock_reserve``: any short line -> 409 with ``{sku, requested, available}`` per line,
   and nothing changes);
3. the approval chain gives the first status: a purchasing user's ``order_limit`` below the
   gross total -> ``awaiting_approval``; else ``on_account`` with exposure (ledger balance +
   open orders + this order) above the credit limit -> ``awaiting_credit_approval``; ``card``
   -> ``awaiting_payment``; otherwise ``confirmed``;
4. ``order.created`` is written to the outbox in the same transaction; the dealer's e-mail
   goes after the commit.

Locks are always taken in the order dealer -> stock levels (by product, warehouse), the
order every other writer follows, so placements cannot deadlock each other.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import Address, Customer, CustomerStatus, DealerRole
from apps.accounts.selectors import customer_credit_exposure
from apps.core.exceptions import Conflict, NotAllowed, ValidationError
from apps.core.idempotency import idempotency_claim
from apps.core.money import line_amounts, round4, to_decimal
from apps.core.text import choices_text, text_value
from apps.inventory.services import stock_reserve
from apps.orders.events import order_created_emit
from apps.orders.models import Cart, CartItem, Order, OrderLine, OrderStatusChange, PaymentMethod
from apps.orders.models import OrderStatus as S
from apps.orders.notes import placed_note
from apps.orders.notifications import order_placed_notify
from apps.orders.services.cart import cart_lock
from apps.orders.services.numbers import order_number_next
from apps.orders.states import DEALER
from apps.pricing.engine import QUOTE_SOURCE
from apps.pricing.lines import (
    PricedLine,
    amount_problems,
    lines_price,
    products_by_sku,
    total_problems,
    totals,
)

MAX_LINES = 500
NOTE_MAX_LENGTH = 2000  # an order's note, as the API takes it


def order_reference(number: str) -> str:
    """The stock reservation reference of an order."""
    return f"order:{number}"


def _addresses(customer, shipping_id, billing_id) -> tuple[Address, Address]:
    """The shipping and billing addresses of the order (the company's defaults where no id is
    given), read in one query; a missing one -> 400 on its field (shipping first)."""
    wanted = Q()
    for kind, address_id in (
        (Address.Type.SHIPPING, shipping_id),
        (Address.Type.BILLING, billing_id),
    ):
        wanted |= (
            Q(type=kind, is_default=True) if address_id is None else Q(type=kind, pk=address_id)
        )
    found: dict[str, Address] = {}
    for address in Address.objects.filter(wanted, customer=customer):  # in the model's order
        found.setdefault(address.type, address)
    for kind, address_id, field in (
        (Address.Type.SHIPPING, shipping_id, "shipping_address_id"),
        (Address.Type.BILLING, billing_id, "billing_address_id"),
    ):
        if kind in found:
            continue
        if address_id is None:
            raise ValidationError({field: [_("Choose an address; the company has no default.")]})
        raise ValidationError(
            {
                field: [
                    _("No %(kind)s address of your company has this id.")
                    % {"kind": Address.Type(kind).label}
                ]
            }
        )
    return found[Address.Type.SHIPPING], found[Address.Type.BILLING]


def address_snapshot(address: Address) -> dict:
    return {
        "id": address.pk,
        "title": address.title,
        "line1": address.line1,
        "line2": address.line2,
        "district": address.district,
        "city": address.city,
        "postal_code": address.postal_code,
        "country": str(address.country),
        "phone": address.phone,
    }


def _quoted(lines: list[PricedLine], quoted: Mapping[str, Decimal]) -> None:
    """Put the quote's unit prices on ``lines`` (the one case where a price does not come
    from the engine: ``source`` ``quote``), with their line amounts; the engine's list price
    stays for reference, and a product the dealer has no price for is sellable at the quote."""
    for line in lines:
        unit = to_decimal(quoted[line.product.sku])
        line.price = dataclasses.replace(
            line.price,
            sellable=True,
            source=QUOTE_SOURCE,
            base=unit,
            unit_net=unit,
            discount=Decimal("0.0000"),
            unit_gross=round4(unit * (100 + line.product.vat_rate) / 100),
            campaign=None,
        )
        line.line_net, line.line_vat, line.line_gross = line_amounts(
            unit, line.quantity, line.product.vat_rate
        )
        line.problems = [
            p for p in line.problems if p["code"] not in ("not_sellable", "too_large")
        ] + amount_problems(line)


def _lines_from_items(
    customer, items: list[dict], quoted: Mapping[str, Decimal] | None = None
) -> list[PricedLine]:
    """``[{sku, quantity}]``: each SKU once, every line orderable, else 400 per line."""
    errors: dict[str, list[str]] = {}
    if not items:
        raise ValidationError({"items": [_("Add at least one line.")]}, code="empty_order")
    if len(items) > MAX_LINES:
        raise ValidationError({"items": [_("At most %(n)d lines.") % {"n": MAX_LINES}]})
    products = products_by_sku(item["sku"] for item in items)
    seen: dict[int, int] = {}  # by product: a SKU typed in two cases is one product
    pairs, indexes = [], []
    for index, item in enumerate(items):
        product = products.get(item["sku"])
        if product is None:
            errors[f"items.{index}.sku"] = [_("Unknown product.")]
        elif product.pk in seen:
            errors[f"items.{index}.sku"] = [
                _("Repeats line %(n)d; give each product once.") % {"n": seen[product.pk]}
            ]
        else:
            seen[product.pk] = index
            pairs.append((product, item["quantity"]))
            indexes.append(index)
    lines = lines_price(customer=customer, pairs=pairs)
    if quoted is not None:
        _quoted(lines, quoted)
    for index, line in zip(indexes, lines, strict=True):
        for problem in line.problems:
            if problem["code"] == "out_of_stock":
                continue  # judged under the lock by the reservation (409)
            field = "sku" if problem["code"] == "not_sellable" else "quantity"
            errors.setdefault(f"items.{index}.{field}", []).append(problem["message"])
    if not errors:
        too_large = total_problems(totals(lines)["grand_total"])
        if too_large:
            errors["items"] = [problem["message"] for problem in too_large]
    if errors:
        raise ValidationError(errors)
    return lines


def continue_chain(*, customer: Customer, grand_total: Decimal, payment_method: str) -> str:
    """Steps 2 and 3 of the chain: the status after the order-limit step, for an order that
    is not counted among the open orders yet. ``customer`` is locked by the caller."""
    if payment_method == PaymentMethod.ON_ACCOUNT:
        if customer_credit_exposure(customer=customer, extra=grand_total) > customer.credit_limit:
            return S.AWAITING_CREDIT_APPROVAL
        return S.CONFIRMED
    if payment_method == PaymentMethod.CARD and grand_total > 0:
        return S.AWAITING_PAYMENT
    return S.CONFIRMED  # a card order of 0.00 (a free quote, a 100 % campaign): nothing to pay


def first_status(*, user, customer: Customer, grand_total: Decimal, payment_method: str) -> str:
    limit = getattr(user, "order_limit", None)
    if (
        getattr(user, "role", "") == DealerRole.PURCHASING
        and limit is not None
        and grand_total > limit
    ):
        return S.AWAITING_APPROVAL
    return continue_chain(customer=customer, grand_total=grand_total, payment_method=payment_method)


def _cart_unchanged(user, read: list[CartItem]) -> None:
    """The cart as it was priced, under the company's lock: a second submit of the same
    cart (a double click, two tabs) finds it emptied by the first order and places nothing;
    a cart changed meanwhile is priced again by the next try rather than ordered as read.
    The cart's row first, then its lines, as every cart writer takes them (``cart_lock``):
    the lines first deadlocked with an edit or an emptying of the same cart (a 503)."""
    cart_id = Cart.objects.filter(user=user).values_list("pk", flat=True).first()
    if cart_id is not None:
        cart_lock(cart_id)
    current = list(
        CartItem.objects.select_for_update(of=("self",))
        .filter(cart_id=cart_id)
        .order_by("id")
        .values_list("id", "product_id", "quantity")
    )
    if not current:
        raise ValidationError({"items": [_("Your cart is empty.")]}, code="empty_cart")
    if current != [(item.pk, item.product_id, item.quantity) for item in read]:
        raise Conflict(
            _("Your cart changed while the order was being placed: check it and order again."),
            code="cart_changed",
        )


def order_place(
    *,
    user,
    payment_method: str,
    items: list[dict] | None = None,
    shipping_address_id: int | None = None,
    billing_address_id: int | None = None,
    note: str = "",
    po_number: str = "",
    quoted: Mapping[str, Decimal] | None = None,
    quote_number: str = "",
) -> Order:
    """Place an order for ``user``'s company from ``items`` (``[{sku, quantity}]``) or, when
    ``items`` is None, from the user's cart (emptied on success). ``quoted`` (an accepted
    quote's unit prices by SKU, ``apps.quotes``) replaces the engine's prices of the lines;
    every other rule (stock, approval, credit) applies as for any order."""
    if not user.has_perm("orders.place_order"):
        raise NotAllowed(_("Your role cannot place orders."))
    customer = user.customer
    if payment_method not in PaymentMethod.values:
        raise ValidationError(
            {
                "payment_method": [
                    _("Choose one of: %(choices)s.") % {"choices": choices_text(PaymentMethod)}
                ]
            }
        )
    # as the API's serializer checks them: the portal and quotes call this directly
    note = text_value(note, "note", max_length=NOTE_MAX_LENGTH)
    po_number = text_value(
        po_number, "po_number", max_length=Order._meta.get_field("po_number").max_length
    )
    shipping, billing = _addresses(customer, shipping_address_id, billing_address_id)
    from_cart = items is None
    if from_cart:
        cart_items = list(
            CartItem.objects.filter(cart__user=user).select_related("product").order_by("id")
        )
        if not cart_items:
            raise ValidationError({"items": [_("Your cart is empty.")]}, code="empty_cart")
        items = [{"sku": i.product.sku, "quantity": i.quantity} for i in cart_items]
    lines = _lines_from_items(customer, items, quoted)
    amounts = totals(lines)

    number = order_number_next()
    now = timezone.now()
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if customer.status != CustomerStatus.ACTIVE or customer.is_deleted:
            # read under the lock: suspended (by staff or the ERP) while this request ran
            raise NotAllowed(
                _("This company is not active: it cannot order now."), code="customer_inactive"
            )
        if from_cart:  # placements of the company wait for each other from here
            _cart_unchanged(user, cart_items)
        status = first_status(
            user=user,
            customer=customer,
            grand_total=amounts["grand_total"],
            payment_method=payment_method,
        )
        order = Order(
            number=number,
            customer=customer,
            placed_by=user,
            status=status,
            confirmed_at=now if status == S.CONFIRMED else None,
            payment_method=payment_method,
            currency=settings.CURRENCY,
            shipping_address_id=shipping.pk,
            billing_address_id=billing.pk,
            shipping_address=address_snapshot(shipping),
            billing_address=address_snapshot(billing),
            po_number=po_number,
            note=note,
            created_at=now,
            **amounts,
        )
        _nothing_points_at_it_yet(order)
        order.save(force_insert=True)
        idempotency_claim(order.number)  # the request's key commits with the order
        order_lines = OrderLine.objects.bulk_create(
            [
                OrderLine(
                    order=order,
                    product=line.product,
                    sku=line.product.sku,
                    name=line.product.name,
                    quantity=line.quantity,
                    list_price=line.price.list_price,
                    unit_net=line.price.unit_net,
                    discount=line.price.discount,
                    price_source=line.price.source,
                    campaign_id=line.price.campaign.id if line.price.campaign else None,
                    campaign_name=line.price.campaign.name if line.price.campaign else "",
                    quote_number=quote_number if quoted is not None else "",
                    vat_rate=line.product.vat_rate,
                    line_net=line.line_net,
                    line_vat=line.line_vat,
                    line_gross=line.line_gross,
                )
                for line in lines
            ]
        )
        history = OrderStatusChange.objects.create(
            order=order,
            from_status="",
            to_status=status,
            changed_by=user,
            actor=DEALER,  # placed by a dealer user, whatever status the rules chose
            note=placed_note(status),
            created_at=now,
        )
        if from_cart:  # the lines ordered; a line added meanwhile stays in the cart
            CartItem.objects.filter(pk__in=[item.pk for item in cart_items]).delete()
            Cart.objects.filter(user=user).update(updated_at=now)
        # the lines and the history as written, for the event, the e-mail and the answer:
        # nothing is read back
        _prefetched(order, lines=order_lines, status_history=[history])
        # the outbox row and the e-mail's row commit with the order; the outbox dispatch and
        # the e-mail itself run after the commit (``after_commit`` in their services)
        order_created_emit(order)
        order_placed_notify(order)
        # last: the stock rows are the hottest locks of all, held from here to the commit
        # (one locking statement for all the lines, in the global key order); a short line
        # raises 409 and rolls everything above back, so no savepoint of its own is needed
        stock_reserve(
            lines=[(line.product.pk, line.quantity) for line in lines],
            reference=order_reference(number),
            actor=user,
            skus={line.product.pk: line.product.sku for line in lines},
            savepoint=False,
        )
    return order


def _nothing_points_at_it_yet(order: Order) -> None:
    """A row about to be inserted has no row of another table pointing at it: say so for its
    reverse one-to-one relations (the quote an order was placed from is linked after the
    order exists), so that django-auditlog, which reads every relation of the created order
    for its entry, asks no query for them. The entry is the same: a missing relation."""
    for relation in Order._meta.related_objects:
        if relation.one_to_one:
            relation.set_cached_value(order, None)


def _prefetched(order: Order, **related: list) -> None:
    """Fill ``order``'s prefetch cache of these reverse relations with the rows just
    written, as ``prefetch_related`` would have (so ``order.lines.all()`` reads nothing)."""
    cache = getattr(order, "_prefetched_objects_cache", None)
    if cache is None:
        cache = order._prefetched_objects_cache = {}
    for name, rows in related.items():
        queryset = getattr(order, name).all()
        queryset._result_cache = list(rows)
        queryset._prefetch_done = True
        cache[name] = queryset
