"""Time as the product needs it: stored in UTC, reasoned about in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

# The days a person can mean when typing a date into a filter or a form. Outside them
# the arithmetic breaks as well: midnight of 0001-01-01 in Shanghai has no UTC instant,
# and 9999-12-31 has no next day.
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)


def plausible_day(day: dt.date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def day_range_message() -> str:
    """What a refused implausible day is told, in the request's language."""
    return _("日期应在 %(first)s 至 %(last)s 之间。") % {"first": FIRST_DAY, "last": LAST_DAY}


def now() -> dt.datetime:
    """The current instant, aware, in UTC. Tests patch this single function."""
    return timezone.now()


def local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(LOCAL_TZ)


def local_today() -> dt.date:
    return local(now()).date()


def month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """The first instant of the month and of the next, in local time, as aware datetimes."""
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1..12, not {month}")
    start = dt.datetime(year, month, 1, tzinfo=LOCAL_TZ)
    end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=LOCAL_TZ)
    return start, end
