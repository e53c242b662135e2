"""Demo quotes and requisition lists, made through their services: for the first demo dealer
a quote waiting for sales, one answered with prices (to accept in the portal) and one
accepted into an order; and two requisition lists (one shared with the company). ``--reset``
removes them."""

from __future__ import annotations

import datetime
from decimal import Decimal

from apps.accounts.models import Customer, CustomerStatus, DealerRole, User
from apps.catalog.models import Product
from apps.core.clock import business_today
from apps.demo.accounts import DEMO_SALES_MANAGER_EMAIL, admin_logged, demo_staff
from apps.demo.catalog import SKU_PREFIX
from apps.inventory.models import StockMovement
from apps.inventory.selectors import available_subquery
from apps.inventory.services import stock_release
from apps.orders.models import RequisitionList
from apps.orders.services.lists import list_create
from apps.pricing.lines import lines_price
from apps.quotes.models import Quote
from apps.quotes.services import quote_accept, quote_answer, quote_request

DEMO_CODE_RE = r"^DEMO[0-9]{3}$"


def _dealer() -> tuple[Customer | None, User | None, User | None]:
    customer = (
        Customer.objects.filter(code__regex=DEMO_CODE_RE, status=CustomerStatus.ACTIVE)
        .order_by("code")
        .first()
    )
    if customer is None:
        return None, None, None
    users = {u.role: u for u in User.objects.filter(customer=customer, is_active=True)}
    return customer, users.get(DealerRole.OWNER), users.get(DealerRole.PURCHASING)


def _answer(quote: Quote, discount: Decimal, days: int) -> Quote:
    """Sales' answer: the dealer's price today less ``discount`` (a share), per line."""
    lines = list(quote.lines.select_related("product", "product__category"))
    priced = lines_price(customer=quote.customer, pairs=[(x.product, x.quantity) for x in lines])
    prices = {
        line.pk: (p.price.unit_net * (1 - discount)).quantize(Decimal("0.01"))
        if p.sellable
        else Decimal("10.00")
        for line, p in zip(lines, priced, strict=True)
    }
    sales = demo_staff(DEMO_SALES_MANAGER_EMAIL)
    answered = quote_answer(
        quote=quote,
        by=sales,
        prices=prices,
        valid_until=business_today() + datetime.timedelta(days=days),
        note="İstenen miktarlar için proje fiyatı; teslimat İstanbul deposundan.",
    )
    admin_logged(sales, answered, "status")
    return answered


def _target(priced) -> str | None:
    if not priced.sellable:
        return None
    return str(round(priced.price.unit_net * Decimal("0.85"), 2))


def seed_quotes(options) -> list[str]:
    customer, owner, buyer = _dealer()
    if customer is None or owner is None or Quote.objects.filter(customer=customer).exists():
        return []
    skus = list(  # products with stock for what the accepted quote orders
        Product.objects.visible()
        .filter(sku__startswith=SKU_PREFIX)
        .annotate(available=available_subquery())
        .filter(available__gte=200)
        .order_by("sku")
        .values_list("sku", "min_order_quantity", "order_multiple", "available")[10:16]
    )
    if len(skus) < 6:
        return []

    def quantity(minimum, multiple, available, times) -> int:
        """``times`` the product's smallest order, fewer when the stock would not cover it: an
        answered quote the dealer cannot accept for want of stock shows nothing."""
        unit = max(minimum, max(multiple, 1))
        return unit * max(1, min(times, available // unit))

    asker = buyer or owner
    waiting = quote_request(
        user=asker,
        lines=[{"sku": s, "quantity": quantity(m, k, a, 10)} for s, m, k, a in skus[:2]],
        note="Antalya'daki otel projesi: teslimat şubatta.",
        valid_until_wanted=business_today() + datetime.timedelta(days=30),
    )
    wanted = [(sku, quantity(m, k, a, 5)) for sku, m, k, a in skus[2:4]]
    products = {p.sku: p for p in Product.objects.filter(sku__in=[sku for sku, _q in wanted])}
    today = lines_price(customer=customer, pairs=[(products[sku], q) for sku, q in wanted])
    sent = quote_request(
        user=asker,
        lines=[  # the dealer aims 15 % under their price today
            {"sku": sku, "quantity": q, "target_price": _target(p)}
            for (sku, q), p in zip(wanted, today, strict=True)
        ],
        note="İstanbul mağazamızın yıllık ihtiyacı.",
    )
    _answer(sent, Decimal("0.08"), days=21)
    accepted = quote_request(
        user=owner,
        lines=[{"sku": s, "quantity": quantity(m, k, a, 2)} for s, m, k, a in skus[4:6]],
    )
    accepted = _answer(accepted, Decimal("0.05"), days=14)
    order = quote_accept(quote=accepted, user=owner, payment_method="on_account")
    made = [waiting.number, sent.number, f"{accepted.number} -> {order.number}"]

    lists = 0
    if not RequisitionList.objects.filter(customer=customer).exists():
        everyday = Product.objects.visible().filter(sku__startswith=SKU_PREFIX).order_by("sku")[:8]
        list_create(
            user=owner,
            name="Aylık mağaza ihtiyaçları",
            shared=True,
            items=[{"sku": p.sku, "quantity": max(p.min_order_quantity, 1)} for p in everyday[:5]],
        )
        list_create(
            user=asker,
            name="Şantiye seti",
            items=[{"sku": p.sku, "quantity": max(p.min_order_quantity, 1)} for p in everyday[5:]],
        )
        lists = 2
    return [
        f"quotes: {len(made)} for {customer.code} (waiting, answered, accepted): "
        f"{', '.join(made)}; {lists} requisition lists"
    ]


def reset_quotes(options) -> None:
    RequisitionList.objects.filter(customer__code__regex=DEMO_CODE_RE).delete()
    quotes = Quote.objects.filter(customer__code__regex=DEMO_CODE_RE)
    orders = [number for number in quotes.values_list("order__number", flat=True) if number]
    quotes.delete()  # their orders go with the orders step's reset, after this one
    references = [f"order:{number}" for number in orders]
    for reference in references:
        stock_release(reference=reference)
    # the movements of demo products go (with them); a real product's ledger keeps what the
    # demo's orders did to its stock, so it still adds up to what is on hand
    StockMovement.objects.filter(
        reference__in=references, product__sku__startswith=SKU_PREFIX
    ).delete()


STEPS = [("quotes", seed_quotes, reset_quotes)]
