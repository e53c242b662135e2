"""Reads of the pricing domain used by other apps."""

from __future__ import annotations

from decimal import Decimal

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
from apps.catalog.hooks import PRICE_SORT_FIELD
from apps.pricing.engine import LIST_CODE
from apps.pricing.models import PriceList
from apps.pricing.selectors.explain import price_explain

__all__ = ["PRICE_SORT_FIELD", "annotate_base_price", "price_explain"]

MONEY = DecimalField(max_digits=14, decimal_places=4)
HUNDRED = Decimal(100)


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
    it, in SQL, so that a list of 100,000 products can be filtered and ordered by price in the
    database: step 1 (special, else tier, else LIST: the break of quantity 1 valid now) and
    step 2 (the best of the campaigns live now for this dealer with ``min_quantity <= 1``:
    each one a ``CASE`` on its scope, never below zero, ``LEAST`` of them and the base).

    The three candidate rows are LEFT JOINs (at most one row each: the unique keys are
    (list, product, min_quantity) and (customer, product, min_quantity)), so the base price is
    a ``COALESCE`` of three columns that every campaign term can repeat for free; correlated
    subqueries here cost seconds at 100,000 products. The campaigns come from the engine's
    cache: one term per live campaign of this dealer (a handful), no query spent on them."""
    if PRICE_SORT_FIELD in queryset.query.annotations:
        return queryset
    at = at or timezone.now()
    lists = dict(
        PriceList.objects.filter(code__in=[LIST_CODE, customer.tier], is_active=True).values_list(
            "code", "pk"
        )
    )
    joins = {
        "dealer_special": FilteredRelation(
            "specialprice_rows",
            condition=Q(specialprice_rows__customer_id=customer.pk)
            & _valid_break("specialprice_rows", at),
        ),
        "dealer_tier": FilteredRelation(
            "price_rows",
            condition=Q(price_rows__price_list_id=lists.get(customer.tier, 0))
            & _valid_break("price_rows", at),
        ),
        "dealer_list": FilteredRelation(
            "price_rows",
            condition=Q(price_rows__price_list_id=lists.get(LIST_CODE, 0))
            & _valid_break("price_rows", at),
        ),
    }
    queryset = queryset.annotate(**joins)
    base = Coalesce(
        F("dealer_special__amount"),
        F("dealer_tier__amount"),
        F("dealer_list__amount"),
        output_field=MONEY,
    )
    campaigns = [
        rule
        for rule in active_campaign_rules()
        if rule.min_quantity <= 1 and rule.live_at(at) and rule.reaches(customer)
    ]
    if not campaigns:
        return queryset.annotate(**{PRICE_SORT_FIELD: base})
    # each campaign: its price where it applies, else the base (so LEAST never sees a NULL,
    # which SQLite would propagate)
    terms = [
        Coalesce(
            Case(
                When(_applies(rule), then=_discounted(rule, base)),
                default=None,
                output_field=MONEY,
            ),
            base,
            output_field=MONEY,
        )
        for rule in campaigns
    ]
    return queryset.annotate(**{PRICE_SORT_FIELD: Least(base, *terms, output_field=MONEY)})


def _applies(rule: CampaignRule) -> Q:
    """The SQL condition of ``rule.covers`` (and of its special-price flag) on a product."""
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
    if not rule.applies_to_special_prices:  # not when the base is the dealer's special price
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
