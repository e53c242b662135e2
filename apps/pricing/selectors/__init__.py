"""Reads of the pricing domain used by other apps."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import (
    Case,
    DecimalField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least, Round
from django.db.models.lookups import LessThan
from django.utils import timezone

from apps.pricing.engine import LIST_CODE, CampaignRule, active_campaign_rules
from apps.pricing.models import Price, SpecialPrice
from apps.pricing.selectors.explain import price_explain

__all__ = ["PRICE_SORT_FIELD", "annotate_base_price", "price_explain"]

PRICE_SORT_FIELD = "dealer_price"
MONEY = DecimalField(max_digits=14, decimal_places=4)
HUNDRED = Decimal(100)


def annotate_base_price(queryset: QuerySet, *, customer, at=None) -> QuerySet:
    """Annotate products with the dealer's own unit price at quantity 1, as the engine computes
    it, in SQL, so that a list of 100,000 products can be filtered and ordered by price in the
    database: step 1 (special, else tier, else LIST: the break of quantity 1 valid now) and
    step 2 (the best of the campaigns live now for this dealer with ``min_quantity <= 1``:
    each one a ``CASE`` on its scope, never below zero, ``LEAST`` of them and the base).

    The campaigns come from the engine's cache, so the expression has one term per live
    campaign of this dealer (a handful), and no query is spent on them."""
    if PRICE_SORT_FIELD in queryset.query.annotations:
        return queryset
    at = at or timezone.now()

    def first_break(qs):
        return Subquery(
            qs.valid_at(at).filter(product_id=OuterRef("pk"), min_quantity=1).values("amount")[:1],
            output_field=MONEY,
        )

    special = first_break(SpecialPrice.objects.filter(customer_id=customer.pk))
    tier = first_break(
        Price.objects.filter(price_list__code=customer.tier, price_list__is_active=True)
    )
    listing = first_break(
        Price.objects.filter(price_list__code=LIST_CODE, price_list__is_active=True)
    )
    base = Coalesce(special, tier, listing, output_field=MONEY)
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
                When(_applies(rule, customer=customer, at=at), then=_discounted(rule, base)),
                default=None,
                output_field=MONEY,
            ),
            base,
            output_field=MONEY,
        )
        for rule in campaigns
    ]
    return queryset.annotate(**{PRICE_SORT_FIELD: Least(base, *terms, output_field=MONEY)})


def _applies(rule: CampaignRule, *, customer, at) -> Q:
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
        special = SpecialPrice.objects.valid_at(at).filter(
            customer_id=customer.pk, product_id=OuterRef("pk"), min_quantity=1
        )
        condition &= Q(~Exists(special))
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
