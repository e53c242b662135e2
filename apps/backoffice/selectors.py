"""What the back office's start page shows a staff member: the work waiting for them (queues
with counts, each linking to its filtered list) and the sales figures, both limited to the
dealers they see (a sales manager: those assigned to them) by the admin's one scoping rule
(``scope_to_dealers``). A constant number of queries, whatever the data; cached a minute per
staff member, since every admin page shows the queues."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Avg, Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.accounts.admin.scoping import (
    SUPER_ADMIN,
    WHOLE_BOOK,
    is_super_admin,
    scope_to_dealers,
    sees_every_dealer,
)
from apps.accounts.models import Customer, CustomerStatus
from apps.core.clock import business_today
from apps.core.work_queues import WorkQueue, register_work_queue, registered_work_queues
from apps.finance.models import CardPayment
from apps.finance.selectors import AGING_BUCKETS, aging_by_dealer
from apps.notifications.models import Notification
from apps.orders.models import Cart, Order, OrderLine, OrderStatus
from apps.quotes.models import Quote, QuoteStatus
from apps.returns.models import ReturnRequest, ReturnStatus

QUEUE_CACHE_SECONDS = 60
NOT_SALES = (OrderStatus.CANCELLED, OrderStatus.REJECTED)  # orders that sold nothing


def register() -> None:
    """The domain's queues; the integrations register theirs (dead webhook deliveries)."""
    for order, queue in enumerate(
        (
            (
                "dealers",
                _("Dealers awaiting approval"),
                "accounts.approve_customer",
                Customer,
                "pk",
                Q(status=CustomerStatus.PENDING),
                "admin:accounts_customer_changelist|status__exact=pending",
            ),
            (
                "credit",
                _("Orders awaiting credit approval"),
                "orders.approve_credit",
                Order,
                "customer",
                Q(status=OrderStatus.AWAITING_CREDIT_APPROVAL),
                "admin:orders_order_changelist|status__exact=awaiting_credit_approval",
            ),
            (
                "returns",
                _("Returns requested"),
                "returns.decide_returnrequest",
                ReturnRequest,
                "customer",
                Q(status=ReturnStatus.REQUESTED),
                "admin:returns_returnrequest_changelist|status__exact=requested",
            ),
            (
                "quotes",
                _("Quotes to answer"),
                "quotes.answer_quote",
                Quote,
                "customer",
                Q(status__in=[QuoteStatus.REQUESTED, QuoteStatus.DRAFT]),
                "admin:quotes_quote_changelist|status__in=requested,draft",
            ),
            (
                "notifications",
                _("Failed e-mails and SMS"),
                "notifications.view_notification",
                Notification,
                "customer",
                Q(status=Notification.Status.FAILED),
                "admin:notifications_notification_changelist|status__exact=failed",
            ),
        )
    ):
        key, label, permission, model, path, condition, url = queue
        register_work_queue(
            WorkQueue(key, label, permission, model, path, condition, url, order=order * 10)
        )


def _url(spec: str) -> str:
    name, _sep, query = spec.partition("|")
    return f"{reverse(name)}?{query}" if query else reverse(name)


def work_queues(*, user, use_cache: bool = True) -> list[dict]:
    """``[{key, label, count, url}]`` of the queues ``user`` works (holds the permission of),
    counted among the dealers they see; one query per queue. The counts are cached, the
    labels are not (they follow the page's language)."""
    key = f"backoffice:queues:{user.pk}"
    counts = cache.get(key) if use_cache else None
    if counts is None:
        counts = {}
        for queue in registered_work_queues():
            if not user.has_perm(queue.permission):
                continue
            rows = queue.model.objects.filter(queue.condition)
            if queue.dealer_path == SUPER_ADMIN:  # as the admin's dealer_scope declarations
                if not is_super_admin(user):
                    continue
            elif queue.dealer_path == WHOLE_BOOK:
                if not sees_every_dealer(user):
                    continue
            else:
                rows = scope_to_dealers(rows, user=user, path=queue.dealer_path)
            counts[queue.key] = rows.count()
        cache.set(key, counts, timeout=QUEUE_CACHE_SECONDS)
    return [
        {
            "key": queue.key,
            "label": str(queue.label),
            "count": counts[queue.key],
            "url": _url(queue.url),
        }
        for queue in registered_work_queues()
        if queue.key in counts
    ]


def sales_figures(*, user, today: datetime.date | None = None) -> dict:
    """Today's and this month's sales (gross, orders not cancelled or rejected), the month's
    order count and average order value, and the dealers who ordered in the last 90 days,
    among the dealers ``user`` sees: one query."""
    today = today or business_today()
    month_start = today.replace(day=1)
    since = today - datetime.timedelta(days=89)
    orders = scope_to_dealers(
        Order.objects.exclude(status__in=NOT_SALES).filter(created_at__date__gte=since),
        user=user,
        path="customer",
    )
    in_month = Q(created_at__date__gte=month_start)
    figures = orders.aggregate(
        today=Sum("grand_total", filter=Q(created_at__date=today), default=Decimal("0")),
        month=Sum("grand_total", filter=in_month, default=Decimal("0")),
        month_orders=Count("id", filter=in_month),
        month_average=Avg("grand_total", filter=in_month),
        active_dealers=Count("customer", distinct=True),
    )
    if figures["month_average"] is not None:
        figures["month_average"] = figures["month_average"].quantize(Decimal("0.01"))
    return figures


def dashboard_charts(*, user, today: datetime.date | None = None) -> dict:
    """The start page's charts and top lists, among the dealers ``user`` sees, for the last
    90 days: orders and gross sales per day, the top 10 dealers (gross) and products
    (units), the card payments' success rate, cart-to-order conversion, and what is overdue by
    aging bucket. Six queries, whatever the data."""
    today = today or business_today()
    since = today - datetime.timedelta(days=89)
    orders = scope_to_dealers(
        Order.objects.exclude(status__in=NOT_SALES).filter(created_at__date__gte=since),
        user=user,
        path="customer",
    )
    per_day = {
        row["day"]: row
        for row in orders.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(count=Count("id"), gross=Sum("grand_total"))
        .order_by("day")
    }
    days = [since + datetime.timedelta(days=n) for n in range(90)]
    top_dealers = list(
        orders.values("customer__code", "customer__name")
        .annotate(gross=Sum("grand_total"), count=Count("id"))
        .order_by("-gross", "customer__code")[:10]
    )
    top_products = list(
        OrderLine.objects.filter(order__in=orders.values("pk"))
        .values("sku", "name")
        .annotate(units=Sum("quantity"), gross=Sum("line_gross"))
        .order_by("-units", "sku")[:10]
    )
    payments = scope_to_dealers(
        CardPayment.objects.filter(created_at__date__gte=since), user=user, path="customer"
    ).aggregate(
        succeeded=Count(
            "id", filter=Q(status__in=[CardPayment.Status.SUCCEEDED, CardPayment.Status.REFUNDED])
        ),
        failed=Count("id", filter=Q(status=CardPayment.Status.FAILED)),
    )
    decided = payments["succeeded"] + payments["failed"]
    carts = scope_to_dealers(
        Cart.objects.filter(updated_at__date__gte=since), user=user, path="customer"
    ).aggregate(
        used=Count("id"),
        ordered=Count(
            "id",
            filter=Q(
                Exists(
                    Order.objects.filter(placed_by=OuterRef("user"), created_at__date__gte=since)
                )
            ),
        ),
    )
    dealers = scope_to_dealers(Customer.objects.all(), user=user, path="pk")
    names = [f"aging_{b.code}" for b in AGING_BUCKETS]
    aging = dict.fromkeys(names, Decimal("0"))
    # one row per dealer with its buckets (the aging report's query), added up here
    for row in aging_by_dealer(dealers, today=today).values_list(*names):
        for name, amount in zip(names, row, strict=True):
            aging[name] += amount or 0
    return {
        "days": [day.isoformat() for day in days],
        "orders_per_day": [per_day.get(day, {}).get("count", 0) for day in days],
        "gross_per_day": [str(per_day.get(day, {}).get("gross") or 0) for day in days],
        "top_dealers": top_dealers,
        "top_products": top_products,
        "payment_success": (round(100 * payments["succeeded"] / decided, 1) if decided else None),
        "payments": payments,
        "cart_conversion": (
            round(100 * carts["ordered"] / carts["used"], 1) if carts["used"] else None
        ),
        "carts": carts,
        "aging_labels": [str(b.label) for b in AGING_BUCKETS],
        "aging": [str(aging[f"aging_{b.code}"] or 0) for b in AGING_BUCKETS],
    }
