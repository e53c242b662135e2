"""Write use cases of the inventory domain. Every one owns its transaction and takes row locks
in one global order (see ``common``), so concurrent callers never deadlock and stock is never
negative or oversold (the database checks that too)."""

from apps.inventory.services.adjustments import stock_adjust, stock_receive, stock_return
from apps.inventory.services.common import Allocation
from apps.inventory.services.reservations import (
    serials_for_sale,
    stock_commit_sale,
    stock_release,
    stock_reserve,
)

__all__ = [
    "Allocation",
    "serials_for_sale",
    "stock_adjust",
    "stock_commit_sale",
    "stock_receive",
    "stock_release",
    "stock_reserve",
    "stock_return",
]
