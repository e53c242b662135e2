"""The distributor's calendar.

Dates that mean a business day (due dates, quote validity, aging, reminders, the year of a
document number, the return window) follow the distributor's time zone (``TIME_ZONE``,
Europe/Istanbul), whatever time zone is active: the APIs answer in UTC (``ApiMiddleware``
activates it), and between 00:00 and 03:00 in Istanbul UTC is still on the day before.
"""

from __future__ import annotations

import datetime

from django.utils import timezone


def business_today() -> datetime.date:
    """Today in the distributor's time zone."""
    return timezone.localdate(timezone=timezone.get_default_timezone())


def business_date(moment: datetime.datetime) -> datetime.date:
    """The distributor's calendar day of an aware ``moment``."""
    return timezone.localdate(moment, timezone=timezone.get_default_timezone())
