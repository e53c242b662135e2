"""The distributor's calendar.

Dates that mean a business day (due dates, quote validity, aging, reminders, the year of a
document number, the return window) follow the distributor's time zone (``TIME_ZONE``,
Europe/Istanbul), whatever time zone is active: the APIs answer in UTC (``ApiMiddleware``
activates it), and between 00:00 and 03:00 in Istanbul UTC is still on the day before.
"""

from __future__ import annotations

import contextlib
import datetime

from django.utils import timezone
from django.utils.translation import gettext as _


def business_today() -> datetime.date:
    """Today in the distributor's time zone."""
    return timezone.localdate(timezone=timezone.get_default_timezone())


def business_date(moment: datetime.datetime) -> datetime.date:
    """The distributor's calendar day of an aware ``moment``."""
    return timezone.localdate(moment, timezone=timezone.get_default_timezone())


def business_day_start(day: datetime.date) -> datetime.datetime:
    """The aware moment the distributor's calendar ``day`` begins (00:00 in its time zone): a
    filter "from day A to day B" is ``business_day_start(A) <= t < business_day_start(B + 1)``,
    whatever time zone is active."""
    return timezone.make_aware(
        datetime.datetime.combine(day, datetime.time.min), timezone.get_default_timezone()
    )


EARLIEST_RECORDED_DATE = datetime.date(2000, 1, 1)
LAST_PLANNED_YEAR = 2999  # a validity window or a campaign may be planned up to this year


def recorded_date_problem(value: datetime.date) -> str | None:
    """What is wrong with the date of a document or a receipt the ledger records (an invoice's
    issue date, a payment's date), or ``None``: from 2000 to tomorrow (a day of grace for a
    sender in another time zone). A date years away put the entry outside every statement
    while the balance counted it."""
    latest = business_today() + datetime.timedelta(days=1)
    if EARLIEST_RECORDED_DATE <= value <= latest:
        return None
    return _("Enter a date from %(first)s to %(last)s.") % {
        "first": EARLIEST_RECORDED_DATE.isoformat(),
        "last": latest.isoformat(),
    }


def planned_moment_problem(value: datetime.datetime) -> str | None:
    """What is wrong with the start or end of a window (a price's validity, a campaign, a
    banner), or ``None``: from 2000 to 2999 in the distributor's calendar, whatever offset
    the time came with (the ERP's UTC, the back office's Istanbul, a CSV's ``+03:00`` judge
    ``3000-01-01T00:00+03:00`` alike). Year 1 or 9999 cannot even be turned into UTC (the audit
    log's diff failed with a 500): a time the calendar cannot hold is judged by its own year,
    so the check itself never overflows."""
    year = value.year
    if timezone.is_aware(value):
        with contextlib.suppress(OverflowError, ValueError):
            year = timezone.localtime(value, timezone.get_default_timezone()).year
    if EARLIEST_RECORDED_DATE.year <= year <= LAST_PLANNED_YEAR:
        return None
    return _("Enter a time from %(first)d to %(last)d.") % {
        "first": EARLIEST_RECORDED_DATE.year,
        "last": LAST_PLANNED_YEAR,
    }
