"""Reads of the returns domain used by other apps."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.orders.models import OrderLine, OrderStatus
from apps.returns.models import ReturnLine, ReturnStatus


def serial_tracking_held_by_returns(product_ids: list[int]) -> dict[int, str]:
    """The products of which units shipped can still come back: on an order shipped and not
    delivered, delivered within ``RETURN_WINDOW_DAYS`` (a day more, whatever the time zone),
    or on a return not received yet. A return is judged by serial numbers when the product is
    serial-tracked, so tracking must not change under it. The catalog asks this through
    ``serial_tracking_guard_register``."""
    since = timezone.now() - timedelta(days=settings.RETURN_WINDOW_DAYS + 1)
    returnable = OrderLine.objects.filter(product_id__in=product_ids).filter(
        Q(order__status=OrderStatus.SHIPPED)
        | Q(order__status=OrderStatus.DELIVERED, order__delivered_at__gte=since)
    )
    coming_back = ReturnLine.objects.filter(
        order_line__product_id__in=product_ids,
        request__status__in=(ReturnStatus.REQUESTED, ReturnStatus.APPROVED),
    )
    held = set(returnable.values_list("product_id", flat=True).distinct())
    held |= set(coming_back.values_list("order_line__product_id", flat=True).distinct())
    why = _(
        "Units of it that shipped can still be returned: change it once their return window "
        "has passed (%(days)d days after delivery)."
    ) % {"days": settings.RETURN_WINDOW_DAYS}
    return dict.fromkeys(held, why)
