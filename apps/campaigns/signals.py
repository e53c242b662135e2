"""Cache invalidation: the campaign rules the price engine asks for are cached
(``apps.campaigns.rules``); any change to a campaign or to its audience/scope sets drops that
cache (bulk SQL elsewhere calls campaigns_bump)."""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from apps.campaigns.models import Campaign
from apps.campaigns.rules import campaigns_changed


@receiver(post_save, sender=Campaign, dispatch_uid="campaigns-saved")
@receiver(post_delete, sender=Campaign, dispatch_uid="campaigns-deleted")
def _campaign_changed(sender, **kwargs):
    campaigns_changed()


for _through in (
    Campaign.customers.through,
    Campaign.categories.through,
    Campaign.brands.through,
    Campaign.products.through,
):
    m2m_changed.connect(
        lambda sender, action, **kwargs: (
            campaigns_changed() if action.startswith("post_") else None
        ),
        sender=_through,
        weak=False,
        dispatch_uid=f"campaigns-m2m-{_through.__name__}",
    )
