"""The one rule of "is this live": a campaign, a banner or a collection is live at a moment when
it is switched on, has started (or has no start) and has not ended (or has no end); the end is
exclusive. ``is_live`` answers it for values in memory (a model row, a cached campaign rule),
``live_q`` is the same rule as a query filter (``Campaign.objects.live()``)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q


def is_live(*, is_active: bool, starts_at: datetime | None, ends_at: datetime | None, at) -> bool:
    return (
        is_active and (starts_at is None or starts_at <= at) and (ends_at is None or ends_at > at)
    )


def live_q(at: datetime) -> Q:
    return (
        Q(is_active=True)
        & (Q(starts_at__isnull=True) | Q(starts_at__lte=at))
        & (Q(ends_at__isnull=True) | Q(ends_at__gt=at))
    )
