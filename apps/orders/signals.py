"""What the orders app tells the apps above it (they connect in their ``ready()``; orders never
imports them).

- ``order_cancelled(sender=Order, order=..., actor=..., by=...)``: an order was cancelled (``by``
  the user, or None for the ERP or the system), inside the cancelling transaction (finance
  credits the invoices of an invoiced order and flags a card payment that had paid it).
- ``order_delivered(sender=Order, order=...)``: an order was delivered, inside that transaction
  (finance frees what a card payment holds beyond the order's invoices).
"""

from __future__ import annotations

from django.dispatch import Signal

order_cancelled = Signal()
order_delivered = Signal()
