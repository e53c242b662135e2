"""Dealer API: the marketing content live now for the caller's company."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics

from apps.accounts.authentication import DealerJWTAuthentication
from apps.accounts.permissions import IsDealerUser
from apps.campaigns import selectors
from apps.campaigns.api import serializers as s


class _AudienceListView(generics.ListAPIView):
    """Rows are chosen by the audience of the caller's company (not owned by a company)."""

    authentication_classes = [DealerJWTAuthentication]
    permission_classes = [IsDealerUser]
    company_scoped = True  # filtered by request.user.customer's audience
    filter_backends: list = []


@extend_schema(
    tags=["marketing"],
    summary="Campaigns for your company",
    description="Discount campaigns live now whose audience includes your company.",
)
class CampaignListView(_AudienceListView):
    serializer_class = s.CampaignSerializer

    def get_queryset(self):
        return selectors.campaign_list_for_customer(customer=self.request.user.customer)


@extend_schema(
    tags=["marketing"],
    summary="Banners for your company",
    description="Banners live now whose audience includes your company; `placement` picks "
    "one place of the portal.",
    parameters=[OpenApiParameter("placement", str, required=False)],
)
class BannerListView(_AudienceListView):
    serializer_class = s.BannerSerializer

    def get_queryset(self):
        return selectors.banner_list_for_customer(
            customer=self.request.user.customer,
            placement=self.request.query_params.get("placement") or None,
        )


@extend_schema(
    tags=["marketing"],
    summary="Product collections for your company",
    description="Curated product collections shown to your company now.",
)
class CollectionListView(_AudienceListView):
    serializer_class = s.CollectionSerializer

    def get_queryset(self):
        return selectors.collection_list_for_customer(customer=self.request.user.customer)
