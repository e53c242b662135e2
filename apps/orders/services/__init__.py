"""Order use cases: placement, the status machine's transitions, the cart and quick order."""

from apps.orders.services.cart import (
    cart_add,
    cart_clear,
    cart_for,
    cart_import,
    cart_item_delete,
    cart_item_update,
    cart_rows_add,
    order_reorder,
    quick_order_preview,
    quick_order_rows,
)
from apps.orders.services.placement import order_place, order_reference
from apps.orders.services.transitions import (
    order_approve,
    order_cancel,
    order_credit_approve,
    order_credit_reject,
    order_payment_confirmed,
    order_reject,
    order_set_status,
)

__all__ = [
    "cart_add",
    "cart_clear",
    "cart_for",
    "cart_import",
    "cart_item_delete",
    "cart_item_update",
    "cart_rows_add",
    "order_approve",
    "order_cancel",
    "order_credit_approve",
    "order_credit_reject",
    "order_payment_confirmed",
    "order_place",
    "order_reference",
    "order_reject",
    "order_reorder",
    "order_set_status",
    "quick_order_preview",
    "quick_order_rows",
]
