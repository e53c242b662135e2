"""Reads of the pricing domain used by other apps."""

from __future__ import annotations

from django.db.models import DecimalField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.pricing.engine import LIST_CODE
from apps.pricing.models import Price, SpecialPrice

PRICE_SORT_FIELD = "dealer_base_price"


def annotate_base_price(queryset: QuerySet, *, customer, at=None) -> QuerySet:
    """Annotate products with the dealer's base price at quantity 1 (step 1 of the rule:
    special, else tier, else LIST; the break of quantity 1 valid now), in SQL, so that a list of
    100,000 products can be filtered and ordered by price in the database.

    Campaign discounts (step 2) are not in this sort key: the listed ``price`` is the engine's,
    campaign included."""
    if PRICE_SORT_FIELD in queryset.query.annotations:
        return queryset
    at = at or timezone.now()
    money = DecimalField(max_digits=14, decimal_places=4)

    def first_break(qs):
        return Subquery(
            qs.valid_at(at).filter(product_id=OuterRef("pk"), min_quantity=1).values("amount")[:1],
            output_field=money,
        )

    special = first_break(SpecialPrice.objects.filter(customer_id=customer.pk))
    tier = first_break(
        Price.objects.filter(price_list__code=customer.tier, price_list__is_active=True)
    )
    listing = first_break(
        Price.objects.filter(price_list__code=LIST_CODE, price_list__is_active=True)
    )
    return queryset.annotate(**{PRICE_SORT_FIELD: Coalesce(special, tier, listing)})
