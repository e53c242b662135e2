"""Reads of the pricing domain used by other apps."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from django.core.cache import cache
from django.db.models import (
    Case,
    DecimalField,
    F,
    FilteredRelation,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least, Round
from django.db.models.lookups import LessThan
from django.utils import timezone

from apps.campaigns.rules import CampaignRule, active_campaign_rules
from apps.pricing.engine import LIST_CODE, PRICES_TTL, PRICES_VERSION_KEY
from apps.pricing.models import PriceList
from apps.pricing.selectors.explain import price_explain, price_explain_for_dealer

__all__ = [
    "PRICE_SORT_FIELD",
    "annotate_base_price",
    "annotate_context_price",
    "price_explain",
    "price_explain_for_dealer",
]

# the annotation a dealer's unit price at quantity 1 is computed into, in SQL
PRICE_SORT_FIELD = "dealer_price"
MONEY = DecimalField(max_digits=14, decimal_places=4)
HUNDRED = Decimal(100)


def active_price_lists() -> dict[str, int]:
    """``{code: id}`` of the active price lists, cached under the engine's price version (every
    change of a price list bumps it)."""
    key = f"pricing:lists:{cache.get(PRICES_VERSION_KEY) or 1}"
    lists = cache.get(key)
    if lists is None:
        lists = dict(PriceList.objects.filter(is_active=True).values_list("code", "pk"))
        cache.set(key, lists, timeout=PRICES_TTL)
    return lists


def _valid_break(relation: str, at) -> Q:
    """The break of quantity 1 valid at ``at``, on a joined price relation."""
    return (
        Q(**{f"{relation}__min_quantity": 1})
        & (
            Q(**{f"{relation}__valid_from__isnull": True})
            | Q(**{f"{relation}__valid_from__lte": at})
        )
        & (Q(**{f"{relation}__valid_to__isnull": True}) | Q(**{f"{relation}__valid_to__gt": at}))
    )


def annotate_base_price(queryset: QuerySet, *, customer, at=None) -> QuerySet:
    """Annotate products with the dealer's own unit price at quantity 1, as the engine computes
    it, in SQL (``PRICE_SORT_FIELD``): step 1 (special, else tier, else LIST: the break of
    quantity 1 valid now) and step 2 (the best of the campaigns live now for this dealer with
    ``min_quantity <= 1``: each one a ``CASE`` on its scope, never below zero, ``LEAST`` of them
    and the base).

    The catalog sorts and filters by price through the price index (``apps.pricing.index``);
    this expression is what fills the index, and prices exactly the few products whose price
    for one dealer differs from its tier's (its special prices, campaigns aimed at it)."""
    if PRICE_SORT_FIELD in queryset.query.annotations:
        return queryset
    at = at or timezone.now()
    campaigns = [
        rule
        for rule in active_campaign_rules()
        if rule.min_quantity <= 1 and rule.live_at(at) and rule.reaches(customer)
    ]
    return _annotate_price(
        queryset, tier=customer.tier, customer_id=customer.pk, campaigns=campaigns, at=at
    )


def annotate_context_price(queryset: QuerySet, *, tier: str, at) -> QuerySet:
    """``annotate_base_price`` for a dealer of ``tier`` with no special price and no campaign
    aimed at chosen dealers: what the price index holds for that tier."""
    anyone_of_tier = SimpleNamespace(pk=None, tier=tier)  # reached by no "chosen dealers" rule
    campaigns = [
        rule
        for rule in active_campaign_rules()
        if rule.min_quantity <= 1 and rule.live_at(at) and rule.reaches(anyone_of_tier)
    ]
    return _annotate_price(queryset, tier=tier, customer_id=None, campaigns=campaigns, at=at)


def _annotate_price(
    queryset: QuerySet, *, tier: str, customer_id: int | None, campaigns: list[CampaignRule], at
) -> QuerySet:
    """The three candidate rows are LEFT JOINs (at most one row each: the unique keys are
    (list, product, min_quantity) and (customer, product, min_quantity)), so the base price is
    a ``COALESCE`` of three columns that every campaign term can repeat for free; correlated
    subqueries here cost seconds at 100,000 products. The campaigns come from the engine's
    cache: one term per live campaign (a handful), no query spent on them. Without a
    ``customer_id`` there is no special price (the join is left out)."""
    lists = active_price_lists()
    joins = {
        "dealer_tier": FilteredRelation(
            "price_rows",
            condition=Q(price_rows__price_list_id=lists.get(tier, 0))
            & _valid_break("price_rows", at),
        ),
        "dealer_list": FilteredRelation(
            "price_rows",
            condition=Q(price_rows__price_list_id=lists.get(LIST_CODE, 0))
            & _valid_break("price_rows", at),
        ),
    }
    candidates = [F("dealer_tier__amount"), F("dealer_list__amount")]
    if customer_id is not None:
        joins["dealer_special"] = FilteredRelation(
            "specialprice_rows",
            condition=Q(specialprice_rows__customer_id=customer_id)
            & _valid_break("specialprice_rows", at),
        )
        candidates.insert(0, F("dealer_special__amount"))
    queryset = queryset.annotate(**joins)
    base = Coalesce(*candidates, output_field=MONEY)
    if not campaigns:
        return queryset.annotate(**{PRICE_SORT_FIELD: base})
    special = customer_id is not None
    # each campaign: its price where it applies, else the base (so LEAST never sees a NULL,
    # which SQLite would propagate)
    terms = [
        Coalesce(
            Case(
                When(_applies(rule, special=special), then=_discounted(rule, base)),
                default=None,
                output_field=MONEY,
            ),
            base,
            output_field=MONEY,
        )
        for rule in campaigns
    ]
    return queryset.annotate(**{PRICE_SORT_FIELD: Least(base, *terms, output_field=MONEY)})


def _applies(rule: CampaignRule, *, special: bool = True) -> Q:
    """The SQL condition of ``rule.covers`` on a product (and, when a special price may be the
    base, of the rule's special-price flag)."""
    if rule.scope == "everything":
        condition = Q(pk__isnull=False)
    elif rule.scope == "categories":
        condition = Q(pk__in=[])
        for path in rule.category_paths:
            condition |= Q(category__path__startswith=path)
    elif rule.scope == "brands":
        condition = Q(brand_id__in=sorted(rule.brand_ids))
    else:
        condition = Q(pk__in=sorted(rule.product_ids))
    if special and not rule.applies_to_special_prices:  # not on the dealer's special price
        condition &= Q(dealer_special__amount__isnull=True)
    return condition


def _discounted(rule: CampaignRule, base):
    """``rule.apply(base)`` in SQL: round4 of the percentage, or minus the fixed amount; >= 0."""
    value = Value(rule.discount_value, output_field=MONEY)
    if rule.discount_type == "percentage":
        unit = Round(base * (Value(HUNDRED) - value) / Value(HUNDRED), precision=4)
    else:
        unit = base - value
    # not GREATEST(unit, 0): PostgreSQL's ignores NULL, and a product without a base price
    # must stay NULL (unsellable), not become free
    zero = Value(Decimal("0.0000"), output_field=MONEY)
    return Case(When(LessThan(unit, zero), then=zero), default=unit, output_field=MONEY)
