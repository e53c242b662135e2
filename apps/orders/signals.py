"""What the orders app tells the apps above it (they connect in their ``ready()``; orders never
imports them).

- ``order_cancelled(sender=Order, order=..., actor=...)``: an order was cancelled, inside the
  cancelling transaction (finance flags a card payment that had paid it).
"""

from __future__ import annotations

from django.dispatch import Signal

order_cancelled = Signal()
