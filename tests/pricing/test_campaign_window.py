"""One rule says whether a campaign is live (apps.campaigns.windows): the queryset
(``Campaign.objects.live()``), a row (``campaign.is_live()``), the price engine's cached rule
(``CampaignRule.live_at``) and the admin's "live now" column give the same answer at every
moment, the end being exclusive."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.utils import timezone

from apps.campaigns.models import Campaign
from apps.campaigns.rules import active_campaign_rules, campaigns_bump

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
HOUR = timedelta(hours=1)
WINDOWS = {
    "always": (True, None, None),
    "switched off": (False, None, None),
    "started": (True, NOW - HOUR, None),
    "starts later": (True, NOW + HOUR, None),
    "ends later": (True, None, NOW + HOUR),
    "ended": (True, None, NOW - HOUR),
    "ends exactly now": (True, NOW - HOUR, NOW),
    "starts exactly now": (True, NOW, NOW + HOUR),
}


@pytest.mark.parametrize("name", WINDOWS)
def test_every_place_agrees_whether_a_campaign_is_live(name):
    # given
    is_active, starts_at, ends_at = WINDOWS[name]
    campaign = Campaign.objects.create(
        name=name,
        discount_type="percentage",
        discount_value=Decimal("5"),
        is_active=is_active,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    campaigns_bump()
    expected = name in {"always", "started", "ends later", "starts exactly now"}
    # when
    in_query = Campaign.objects.live(NOW).filter(pk=campaign.pk).exists()
    on_row = campaign.is_live(NOW)
    rules = [rule for rule in active_campaign_rules() if rule.id == campaign.pk]
    in_engine = bool(rules) and rules[0].live_at(NOW)
    # then
    assert in_query is on_row is in_engine is expected
    admin_column = admin.site._registry[Campaign].live_now(campaign)
    assert admin_column is campaign.is_live()
