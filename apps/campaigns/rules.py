"""Campaign rules as the price engine uses them: every switched-on campaign as plain data
(``CampaignRule``), cached under a version that every campaign change bumps
(``campaigns_bump``; the signals in ``apps.campaigns.signals`` call ``campaigns_changed``).

The price engine (``apps.pricing.engine``) asks ``active_campaign_rules()`` and applies the
rules; this app knows nothing of prices. Windows and audiences are checked per call
(``CampaignRule.live_at``, the one window rule of ``apps.campaigns.windows``), so the cache does
not go stale as time passes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.cache import cache

from apps.campaigns.models import Campaign
from apps.campaigns.windows import is_live
from apps.core.cache import cache_version_bump
from apps.core.money import round4

CAMPAIGNS_VERSION_KEY = "campaigns:rules:version"
CAMPAIGNS_TTL = 300
HUNDRED = Decimal(100)
ZERO = Decimal("0.0000")


@dataclass(frozen=True)
class CampaignRule:
    """What the engine needs of a campaign (cached, so plain data)."""

    id: int
    name: str
    priority: int
    min_quantity: int
    discount_type: str  # "percentage" | "fixed"
    discount_value: Decimal
    applies_to_special_prices: bool
    starts_at: datetime | None
    ends_at: datetime | None
    audience: str  # "everyone" | "tiers" | "dealers"
    tiers: frozenset[str] = frozenset()
    customer_ids: frozenset[int] = frozenset()
    scope: str = "everything"  # "everything" | "categories" | "brands" | "products"
    category_paths: tuple[str, ...] = ()
    brand_ids: frozenset[int] = frozenset()
    product_ids: frozenset[int] = frozenset()

    def live_at(self, at: datetime) -> bool:
        # only switched-on campaigns become rules
        return is_live(is_active=True, starts_at=self.starts_at, ends_at=self.ends_at, at=at)

    def reaches(self, customer) -> bool:
        if self.audience == "everyone":
            return True
        if self.audience == "tiers":
            return customer.tier in self.tiers
        return customer.pk in self.customer_ids

    def covers(self, product, category_path: str) -> bool:
        if self.scope == "everything":
            return True
        if self.scope == "categories":
            return any(category_path.startswith(path) for path in self.category_paths)
        if self.scope == "brands":
            return product.brand_id in self.brand_ids
        return product.pk in self.product_ids

    def apply(self, base: Decimal) -> Decimal:
        if self.discount_type == "percentage":
            unit = round4(base * (HUNDRED - self.discount_value) / HUNDRED)
        else:
            unit = round4(base - self.discount_value)
        return max(unit, ZERO)


def campaigns_bump() -> None:
    """Invalidate the cached rules, now and again on commit (bulk SQL on campaigns calls it;
    signals do not fire)."""
    cache_version_bump(CAMPAIGNS_VERSION_KEY)


_listeners: list[Callable[[], object]] = []


def campaigns_changed_listen(listener: Callable[[], object]) -> None:
    """``listener()`` runs whenever a campaign, its audience or its scope changes through the
    ORM (what derives from the rules elsewhere: pricing's price index)."""
    if listener not in _listeners:
        _listeners.append(listener)


def campaigns_changed() -> None:
    """Drop the cache now and again on commit (a reader in between cannot keep the old rules),
    and tell the listeners."""
    campaigns_bump()
    for listener in _listeners:
        listener()


def _load_campaign_rules() -> list[CampaignRule]:
    queryset = Campaign.objects.filter(is_active=True).prefetch_related(
        "customers", "categories", "brands", "products"
    )
    return [
        CampaignRule(
            id=c.pk,
            name=c.name,
            priority=c.priority,
            min_quantity=c.min_quantity,
            discount_type=c.discount_type,
            discount_value=c.discount_value,
            applies_to_special_prices=c.applies_to_special_prices,
            starts_at=c.starts_at,
            ends_at=c.ends_at,
            audience=c.audience,
            tiers=frozenset(c.tiers or []),
            customer_ids=frozenset(x.pk for x in c.customers.all()),
            scope=c.scope,
            category_paths=tuple(x.path for x in c.categories.all()),
            brand_ids=frozenset(x.pk for x in c.brands.all()),
            product_ids=frozenset(x.pk for x in c.products.all()),
        )
        for c in queryset
    ]


def active_campaign_rules() -> list[CampaignRule]:
    """Every switched-on campaign as plain rules, from the cache when it is fresh."""
    version = cache.get(CAMPAIGNS_VERSION_KEY) or 1
    key = f"campaigns:rules:{version}"
    rules = cache.get(key)
    if rules is None:
        rules = _load_campaign_rules()
        cache.set(key, rules, timeout=CAMPAIGNS_TTL)
    return rules
