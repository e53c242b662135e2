"""What marketing content a dealer sees: live now and aimed at them (audience)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from apps.campaigns.models import Banner, Campaign, Collection, CollectionItem


def campaign_list_for_customer(*, customer) -> QuerySet[Campaign]:
    return Campaign.objects.live().for_customer(customer).order_by("-priority", "name")


def banner_list_for_customer(*, customer, placement: str | None = None) -> QuerySet[Banner]:
    qs = Banner.objects.live().for_customer(customer).order_by("placement", "sort_order", "id")
    return qs.filter(placement=placement) if placement else qs


def collection_list_for_customer(*, customer) -> QuerySet[Collection]:
    items = CollectionItem.objects.filter(
        product__is_active=True, product__is_deleted=False
    ).select_related("product")
    return (
        Collection.objects.live()
        .for_customer(customer)
        .prefetch_related(Prefetch("items", queryset=items))
        .order_by("sort_order", "name")
    )
