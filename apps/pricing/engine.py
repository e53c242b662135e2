"""The price engine: the only place a price is computed (catalog, cart, quote, orders).

The rule (DESIGN.md, "Price of product P for dealer D at quantity q, now"):

1. Base price, the first that exists, each time the break with the largest
   ``min_quantity <= q`` among the rows valid now:
   a. D's special price for P  -> source ``special``
   b. the price in D's tier list (A, B or C)  -> source ``tier:<tier>``
   c. the LIST price  -> source ``list``
   None of them: P is not sellable to D.
2. Of the campaigns live now whose audience includes D, whose scope includes P and whose
   ``min_quantity <= q``, the one giving the lowest unit price (ties: higher priority, then the
   older campaign) is applied: a percentage or a fixed amount per unit, never below zero, no
   stacking. A special price takes a campaign only if the campaign applies to special prices.
3. The answer says where the price came from (source, campaign).

``price_resolve_many`` prices any number of (product, quantity) items for one dealer with a
constant number of queries: prices (1), special prices (1), category paths (0-1), and the live
campaigns, which the campaigns app keeps cached (``apps.campaigns.rules``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext

from apps.campaigns.rules import CampaignRule, active_campaign_rules
from apps.catalog.models import Category
from apps.core.cache import cache_version_bump
from apps.core.money import round4
from apps.pricing.models import Price, SpecialPrice

SOURCE_SPECIAL = "special"
SOURCE_LIST = "list"
LIST_CODE = "LIST"
PRICES_VERSION_KEY = "pricing:prices:version"
PRICES_TTL = 3600  # a safety net: every change bumps the version anyway
HUNDRED = Decimal(100)
ZERO = Decimal("0.0000")
QUOTE_SOURCE = "quote"  # an order line priced by an accepted quote, not by this engine


def source_label(source: str | None, *, to_dealer: bool = False) -> str:
    """A price's ``source`` (``special``, ``tier:B``, ``list``; an order line's ``quote``) in
    the reader's words: the dealer's (the portal) or staff's (the back office). An unknown
    code is shown as it is."""
    if not source:
        return ""
    if source == SOURCE_SPECIAL:
        if to_dealer:
            return gettext("your special price")
        return gettext("Special price of the dealer")
    if source.startswith("tier:"):
        tier = source.split(":", 1)[1]
        if to_dealer:
            return gettext("tier %(tier)s price list") % {"tier": tier}
        return gettext("Tier %(tier)s price list") % {"tier": tier}
    if source == SOURCE_LIST:
        return gettext("list price") if to_dealer else gettext("List price")
    if source == QUOTE_SOURCE:
        return gettext("accepted quote") if to_dealer else gettext("Accepted quote")
    return source


@dataclass(frozen=True)
class ResolvedPrice:
    product_id: int
    quantity: int
    vat_rate: int
    sellable: bool
    source: str | None = None
    base: Decimal | None = None  # the base price of step 1
    list_price: Decimal | None = None  # the LIST price at this quantity, for reference
    unit_net: Decimal | None = None
    discount: Decimal | None = None  # per unit, by the campaign (base - unit_net)
    unit_gross: Decimal | None = None
    campaign: CampaignRule | None = None
    break_quantities: tuple[int, ...] = field(default=())


def pick_break(rows: Sequence[tuple[int, Decimal]], quantity: int) -> Decimal | None:
    """The amount of the break with the largest min_quantity <= quantity."""
    best: tuple[int, Decimal] | None = None
    for min_quantity, amount in rows:
        if min_quantity <= quantity and (best is None or min_quantity > best[0]):
            best = (min_quantity, amount)
    return None if best is None else best[1]


def choose_campaign(
    campaigns: Iterable[CampaignRule], base: Decimal
) -> tuple[CampaignRule | None, Decimal]:
    """The campaign giving the lowest unit price (ties: higher priority, then lower id)."""
    best: CampaignRule | None = None
    best_unit = base
    for campaign in campaigns:
        unit = campaign.apply(base)
        if best is None:
            if unit < base:
                best, best_unit = campaign, unit
            continue
        key = (unit, -campaign.priority, campaign.id)
        if key < (best_unit, -best.priority, best.id):
            best, best_unit = campaign, unit
    return best, best_unit


def resolve_one(
    *,
    product,
    quantity: int,
    customer,
    at: datetime,
    special_rows: Sequence[tuple[int, Decimal]],
    tier_rows: Sequence[tuple[int, Decimal]],
    list_rows: Sequence[tuple[int, Decimal]],
    campaigns: Sequence[CampaignRule],
    category_path: str,
) -> ResolvedPrice:
    """The rule for one item, on data already loaded (pure: no queries)."""
    list_price = pick_break(list_rows, quantity)
    source, base = None, None
    special = pick_break(special_rows, quantity)
    if special is not None:
        source, base = SOURCE_SPECIAL, special
    else:
        tier = pick_break(tier_rows, quantity)
        if tier is not None:
            source, base = f"tier:{customer.tier}", tier
        elif list_price is not None:
            source, base = SOURCE_LIST, list_price
    # the campaigns for this dealer and product now, at any quantity: their thresholds are
    # quantity breaks too (a price that drops from 20 units, however the base is set)
    reaching = [
        c
        for c in campaigns
        if c.live_at(at) and c.reaches(customer) and c.covers(product, category_path)
    ]
    breaks = tuple(
        sorted(
            {q for q, _ in (*special_rows, *tier_rows, *list_rows)}
            | {c.min_quantity for c in reaching}
        )
    )
    if base is None:
        return ResolvedPrice(
            product_id=product.pk,
            quantity=quantity,
            vat_rate=product.vat_rate,
            sellable=False,
            break_quantities=breaks,
        )
    eligible = [
        c
        for c in reaching
        if c.min_quantity <= quantity and (source != SOURCE_SPECIAL or c.applies_to_special_prices)
    ]
    campaign, unit_net = choose_campaign(eligible, base)
    base = round4(base)
    unit_net = round4(unit_net)
    return ResolvedPrice(
        product_id=product.pk,
        quantity=quantity,
        vat_rate=product.vat_rate,
        sellable=True,
        source=source,
        base=base,
        list_price=None if list_price is None else round4(list_price),
        unit_net=unit_net,
        discount=base - unit_net,
        unit_gross=round4(unit_net * (HUNDRED + product.vat_rate) / HUNDRED),
        campaign=campaign,
        break_quantities=breaks,
    )


# --- loading ----------------------------------------------------------------------------------


def prices_bump() -> None:
    """Invalidate the cached price-list rows, now and again on commit (call after any change
    of a list price, a price list, or a batch of them from the ERP). Special prices are not
    cached."""
    cache_version_bump(PRICES_VERSION_KEY)


def _valid(start: datetime | None, end: datetime | None, at: datetime) -> bool:
    return (start is None or start <= at) and (end is None or end > at)


def price_list_rows(product_ids: Iterable[int], codes: Sequence[str]) -> dict[tuple, tuple]:
    """``{(list code, product id): ((min_quantity, amount, valid_from, valid_to), ...)}`` for
    the active lists ``codes``, every row whatever its window (the caller checks it at its own
    time, so a cached entry does not go stale as time passes).

    Served from the cache (one entry per list and product, under a version that every change of
    a price or a price list bumps, see ``prices_bump``); what is missing is read in one query
    and cached. A whole page of products therefore costs one cache round trip and at most one
    query."""
    version = cache.get(PRICES_VERSION_KEY) or 1
    wanted = {
        f"pricing:rows:{version}:{code}:{pid}": (code, pid) for code in codes for pid in product_ids
    }
    found = cache.get_many(list(wanted))
    result = {wanted[key]: rows for key, rows in found.items()}
    missing = [pair for key, pair in wanted.items() if key not in found]
    if missing:
        loaded: dict[tuple, list] = {pair: [] for pair in missing}
        queryset = Price.objects.filter(
            product_id__in={pid for _code, pid in missing},
            price_list__code__in={code for code, _pid in missing},
            price_list__is_active=True,
        ).values_list(
            "price_list__code", "product_id", "min_quantity", "amount", "valid_from", "valid_to"
        )
        # each list's breaks of a product in quantity order; not the model's ordering, which
        # joins the products for their names (a plan over the whole catalog without statistics)
        queryset = queryset.order_by("product_id", "price_list_id", "min_quantity")
        for code, pid, min_quantity, amount, start, end in queryset:
            if (code, pid) in loaded:
                loaded[(code, pid)].append((min_quantity, amount, start, end))
        fresh = {pair: tuple(rows) for pair, rows in loaded.items()}
        cache.set_many(
            {f"pricing:rows:{version}:{c}:{p}": rows for (c, p), rows in fresh.items()},
            timeout=PRICES_TTL,
        )
        result.update(fresh)
    return result


def price_resolve_many(*, customer, items: Sequence[tuple], at: datetime | None = None):
    """Price ``items`` ``[(product, quantity), ...]`` for ``customer`` at ``at`` (now).

    Returns one ``ResolvedPrice`` per item, in order. Products need ``pk``, ``vat_rate``,
    ``brand_id`` and ``category_id``.
    """
    at = at or timezone.now()
    if not items:
        return []
    product_ids = {product.pk for product, _ in items}
    tier_code = customer.tier

    list_rows: dict[int, list] = defaultdict(list)
    tier_rows: dict[int, list] = defaultdict(list)
    for (code, product_id), rows in price_list_rows(product_ids, [LIST_CODE, tier_code]).items():
        valid = [(q, amount) for q, amount, start, end in rows if _valid(start, end, at)]
        (list_rows if code == LIST_CODE else tier_rows)[product_id].extend(valid)

    special_rows: dict[int, list] = defaultdict(list)
    specials = (
        SpecialPrice.objects.valid_at(at)
        .filter(customer_id=customer.pk, product_id__in=product_ids)
        .order_by("product_id", "min_quantity")
        .values_list("product_id", "min_quantity", "amount")
    )
    for product_id, min_quantity, amount in specials:
        special_rows[product_id].append((min_quantity, amount))

    campaigns = [c for c in active_campaign_rules() if c.live_at(at) and c.reaches(customer)]
    paths: dict[int, str] = {}
    if any(c.scope == "categories" for c in campaigns):
        category_ids = {product.category_id for product, _ in items}
        paths = dict(Category.objects.filter(pk__in=category_ids).values_list("pk", "path"))

    return [
        resolve_one(
            product=product,
            quantity=int(quantity),
            customer=customer,
            at=at,
            special_rows=special_rows.get(product.pk, ()),
            tier_rows=tier_rows.get(product.pk, ()),
            list_rows=list_rows.get(product.pk, ()),
            campaigns=campaigns,
            category_path=paths.get(product.category_id, ""),
        )
        for product, quantity in items
    ]
