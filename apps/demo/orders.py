"""Demo orders for ``seed_demo``: the first active demo dealers get orders in every status
(placed through the real services, so stock is reserved, sold and released as in production;
their ledgers come with ``apps.demo.finance``). Idempotent: a dealer that already has orders is
left alone; ``--reset`` removes the demo dealers' orders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from auditlog.models import LogEntry as AuditEntry
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import F
from django.utils import timezone

from apps.accounts.models import Customer, CustomerStatus, DealerRole, User
from apps.catalog.models import Product
from apps.demo.accounts import DEMO_CUSTOMER_SERVICE_EMAIL, admin_logged, demo_staff
from apps.demo.catalog import SKU_PREFIX
from apps.inventory.models import StockMovement
from apps.inventory.selectors import available_subquery
from apps.inventory.services import stock_release
from apps.orders.models import CartItem, Order, OrderStatusChange
from apps.orders.services import (
    cart_add,
    order_approve,
    order_cancel,
    order_place,
    order_reject,
    order_set_status,
)
from apps.pricing.lines import lines_price, products_by_sku

DEMO_CODE_RE = r"^DEMO[0-9]{3}$"
DEALERS_WITH_ORDERS = 3
STOCK_NEEDED = 100  # units of a product the demo orders may take, with room to spare


def _user(customer: Customer, role: str) -> User | None:
    return User.objects.filter(customer=customer, role=role, is_active=True).first()


def _orders(customer: Customer, skus: list[str]) -> int:
    owner = _user(customer, DealerRole.OWNER)
    buyer = _user(customer, DealerRole.PURCHASING)
    if owner is None or buyer is None or Order.objects.filter(customer=customer).exists():
        return 0

    rules = {
        p.sku: (p.min_order_quantity, p.order_multiple)
        for p in Product.objects.filter(sku__in=skus)
    }

    def fit(sku: str, quantity: int) -> int:  # the product's minimum and multiple
        minimum, multiple = rules[sku]
        quantity = max(quantity, minimum)
        return quantity + (-quantity) % multiple

    def place(user, lines, method="on_account", **kwargs):
        items = [{"sku": sku, "quantity": fit(sku, quantity)} for sku, quantity in lines]
        return order_place(user=user, payment_method=method, items=items, **kwargs)

    delivered = place(owner, [(skus[0], 2), (skus[1], 1)], po_number="PO-1001")
    for status in ("processing", "shipped", "delivered"):
        order_set_status(order=delivered, status=status, actor="erp", **_parcel(delivered))
    _backdate(delivered, 6.2, step=1.3)
    shipped = place(owner, [(skus[2], 3)], po_number="PO-1002")
    service = demo_staff(DEMO_CUSTOMER_SERVICE_EMAIL)
    for status in ("processing", "shipped"):
        order_set_status(
            order=shipped, status=status, actor="staff", by=service, **_parcel(shipped)
        )
        admin_logged(service, shipped, "status")
    _backdate(shipped, 4.1, step=0.9)
    processing = place(owner, [(skus[3], 1)])
    order_set_status(order=processing, status="processing", actor="erp")
    _backdate(processing, 3.3, step=0.6)
    _backdate(place(owner, [(skus[4], 2)], note="Onaylandı, depodan çıkış bekleniyor"), 2.4)
    cancelled = place(owner, [(skus[0], 1)])
    order_cancel(order=cancelled, by=owner, reason="Yanlışlıkla iki kez sipariş verildi")
    _backdate(cancelled, 9.5)
    _backdate(place(owner, [(skus[1], 1)], "card"), 1.2)  # awaiting_payment
    _backdate(place(owner, [(skus[2], 1)], "bank_transfer"), 1.6)  # confirmed

    def place_over(user, limit, sku, method="on_account"):
        quantity = _quantity_over(limit, sku, customer)  # priced now, stock as it is now
        return place(user, [(sku, quantity)], method) if quantity else None

    _backdate(place_over(buyer, buyer.order_limit, skus[2]), 0.8)  # awaiting_approval
    rejected = place_over(buyer, buyer.order_limit, skus[3])
    if rejected is not None:
        order_reject(order=rejected, by=owner, reason="Bu ay bütçe yok")
    _backdate(rejected, 5.3)
    approved = place_over(buyer, buyer.order_limit, skus[4])
    if approved is not None:
        order_approve(order=approved, by=owner)
    _backdate(approved, 3.7)
    # above the credit limit: waits in the finance queue
    place_over(owner, customer.credit_limit, skus[1])
    # carts being filled: the cart and checkout pages show something to order
    for user, picks in ((owner, [(skus[0], 4), (skus[3], 2)]), (buyer, [(skus[4], 3)])):
        for sku, quantity in picks:
            cart_add(user=user, sku=sku, quantity=fit(sku, quantity))
    return Order.objects.filter(customer=customer).count()


ORDER_TIMES = (
    "created_at",
    "updated_at",
    "approved_at",
    "confirmed_at",
    "shipped_at",
    "delivered_at",
    "cancelled_at",
)


def _parcel(order: Order) -> dict[str, str]:
    """A shipment's carrier and tracking number, as a carrier's system would give them."""
    return {"carrier": "Yurtiçi Kargo", "tracking_number": f"YK{order.pk:04d}{order.pk * 7919:07d}"}


def _backdate(order: Order | None, days: float, *, step: float = 0.0) -> None:
    """Move an order, its status history and its stock movements ``days`` into the past
    (placed "last week", not all this minute); with ``step``, each status change after the
    placement comes ``step`` days after the one before (processed, shipped, delivered on
    different days). Delivered orders stay within the return window."""
    if order is None or days <= 0:
        return
    delta = timedelta(days=days)
    Order.objects.filter(pk=order.pk).update(**{f: F(f) - delta for f in ORDER_TIMES})
    changes = list(OrderStatusChange.objects.filter(order=order).order_by("created_at", "id"))
    originally = [change.created_at for change in changes]
    when: dict[str, object] = {}
    for position, change in enumerate(changes):
        change.created_at += timedelta(days=position * step) - delta
        when.setdefault(change.to_status, change.created_at)
    OrderStatusChange.objects.bulk_update(changes, ["created_at"])
    if step and changes:
        Order.objects.filter(pk=order.pk).update(
            updated_at=changes[-1].created_at,
            **{f"{s}_at": when[s] for s in ("confirmed", "shipped", "delivered") if s in when},
        )
    # the back office's record of staff's steps (``admin_logged``) at the steps' times
    logged = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Order), object_id=str(order.pk)
    ).order_by("id")
    by_staff = [change for change in changes if change.changed_by_id and change.actor == "staff"]
    for entry, change in zip(logged, by_staff, strict=False):
        LogEntry.objects.filter(pk=entry.pk).update(action_time=change.created_at)
    moves = list(zip(originally, [change.created_at for change in changes], strict=True))
    _audit_backdate(order, moves or [(timezone.now(), timezone.now() - delta)])
    placed = changes[0].created_at if changes else timezone.now() - delta
    movements = StockMovement.objects.filter(reference=f"order:{order.number}")
    movements.exclude(kind=StockMovement.Kind.SALE).update(created_at=placed)
    movements.filter(kind=StockMovement.Kind.SALE).update(created_at=when.get("shipped", placed))


def _audit_backdate(order: Order, moves: list[tuple[datetime, datetime]]) -> None:
    """The order's audit entries (django-auditlog) moved with the steps they recorded: each
    entry, and each time it quotes (``delivered_at``: None -> ...), by the move of the first
    status change at or after it (a step saves the order, then writes its status change), so
    the audit log tells the order page's story, not "everything today"."""

    def shift(moment: datetime) -> timedelta:
        original, new = next((move for move in moves if move[0] >= moment), moves[-1])
        return new - original

    entries = list(
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Order), object_pk=str(order.pk)
        )
    )
    for entry in entries:
        # its creation is the placement, whose status change may carry an earlier time
        if entry.action == AuditEntry.Action.CREATE:
            delta = moves[0][1] - moves[0][0]
        else:
            delta = shift(entry.timestamp)
        entry.timestamp += delta
        for field, values in (entry.changes or {}).items():
            if field in ORDER_TIMES and isinstance(values, list):
                entry.changes[field] = [_audit_time_moved(value, delta) for value in values]
    AuditEntry.objects.bulk_update(entries, ["timestamp", "changes"])


def _audit_time_moved(value, delta: timedelta) -> object:
    """A time as django-auditlog writes it (naive UTC text), moved; anything else as it is."""
    if not isinstance(value, str) or value == "None":
        return value
    try:
        moment = datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        return value
    return str((moment + delta).replace(tzinfo=None))


def _quantity_over(limit, sku: str, customer: Customer) -> int:
    """A quantity of ``sku`` (a valid one: minimum, multiple) whose gross total is above
    ``limit`` (0 when none fits in stock), so the demo can show the approval queues. Quantity
    breaks make larger quantities cheaper per unit, so it is priced until it is over."""
    product = products_by_sku([sku]).get(sku)
    if product is None or limit is None:
        return 0
    quantity = max(product.min_order_quantity, 1)
    for _attempt in range(40):
        quantity += (-quantity) % product.order_multiple
        line = lines_price(customer=customer, pairs=[(product, quantity)])[0]
        if not line.price.sellable or line.line_gross <= 0 or quantity > line.available:
            return 0
        if line.line_gross > limit:
            return quantity
        quantity = max(quantity + 1, int(quantity * limit / line.line_gross) + 1)
    return 0


def seed_orders(options) -> list[str]:
    customers = list(
        Customer.objects.filter(code__regex=DEMO_CODE_RE, status=CustomerStatus.ACTIVE).order_by(
            "code"
        )[:DEALERS_WITH_ORDERS]
    )
    skus = list(
        Product.objects.visible()
        .filter(sku__startswith="DEMO-", serial_tracked=False)
        .annotate(available=available_subquery())
        .filter(available__gte=STOCK_NEEDED)
        .order_by("sku")
        .values_list("sku", flat=True)[: 5 * len(customers)]
    )
    if len(skus) < 5 * len(customers):
        return []
    # each dealer orders its own five products, so one dealer's orders cannot use up the
    # stock another one's need
    placed = sum(_orders(customer, skus[5 * i : 5 * i + 5]) for i, customer in enumerate(customers))
    if not placed:
        return []
    return [f"orders: {placed} demo orders in every status for {len(customers)} dealers"]


def reset_orders(options) -> None:
    customers = Customer.all_objects.filter(code__regex=DEMO_CODE_RE)
    orders = Order.objects.filter(customer__in=customers)
    references = [f"order:{n}" for n in orders.values_list("number", flat=True)]
    for reference in references:  # give reserved stock back before the orders go
        stock_release(reference=reference)
    # the movements of demo products go (with them); a real product's ledger keeps what the
    # demo's orders did to its stock, so it still adds up to what is on hand
    StockMovement.objects.filter(
        reference__in=references, product__sku__startswith=SKU_PREFIX
    ).delete()
    orders.delete()
    CartItem.objects.filter(cart__customer__in=customers).delete()


STEPS = [("orders", seed_orders, reset_orders)]
