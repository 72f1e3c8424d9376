"""Time as the product needs it: stored in UTC, reasoned about in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


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
