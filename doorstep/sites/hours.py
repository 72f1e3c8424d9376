"""Is a site open at a moment? Wall-clock hours in Asia/Shanghai, the national holiday
calendar with its adjusted working days (调休), and dated closures.

The rules, in order, for a local date:

1. a closure covering the date wins: closed all day, or open only at its hours;
2. a public holiday uses the site's holiday hours (day 7); none means closed;
3. an adjusted working day (a weekend day worked in exchange for a holiday) uses the
   Monday schedule, the schedule of an ordinary working day;
4. otherwise the weekday's schedule.

Functions here take rows already loaded (``site.hours.all()``, ``site.closures.all()``
prefetched) so that answering for many sites costs no query per site.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from doorstep.core.timeutils import LOCAL_TZ

from .choices import HOLIDAY_DAY, HolidayKind

Interval = tuple[dt.time, dt.time, bool]  # opens, closes, extended


def holidays_between(start: dt.date, end: dt.date) -> dict[dt.date, str]:
    """The calendar's special days in [start, end], date → kind."""
    from .models import HolidayDay

    return dict(
        HolidayDay.objects.filter(date__gte=start, date__lte=end).values_list("date", "kind")
    )


def schedule_day(date: dt.date, holidays: dict[dt.date, str]) -> int:
    kind = holidays.get(date)
    if kind == HolidayKind.HOLIDAY:
        return HOLIDAY_DAY
    if kind == HolidayKind.WORKDAY and date.weekday() >= 5:
        return 0
    return date.weekday()


def intervals_on(
    hours: Iterable[Any], closures: Iterable[Any], date: dt.date, holidays: dict[dt.date, str]
) -> list[Interval]:
    for closure in closures:
        if closure.starts_on <= date <= closure.ends_on:
            if closure.opens is None:
                return []
            return [(closure.opens, closure.closes, False)]
    day = schedule_day(date, holidays)
    return sorted((h.opens, h.closes, h.extended) for h in hours if h.day == day)


@dataclass(frozen=True)
class OpenState:
    is_open: bool
    closes_at: dt.time | None  # when open: the end of the current interval
    extended: bool  # when open: in extended hours
    today: list[Interval]


def state_at(
    hours: Iterable[Any],
    closures: Iterable[Any],
    moment: dt.datetime,
    holidays: dict[dt.date, str],
) -> OpenState:
    local = moment.astimezone(LOCAL_TZ)
    today = intervals_on(list(hours), list(closures), local.date(), holidays)
    now = local.time().replace(tzinfo=None)
    for opens, closes, extended in today:
        if opens <= now < closes:
            return OpenState(True, closes, extended, today)
    return OpenState(False, None, False, today)


def site_state(
    site: Any, moment: dt.datetime, holidays: dict[dt.date, str] | None = None
) -> OpenState:
    local_date = moment.astimezone(LOCAL_TZ).date()
    if holidays is None:
        holidays = holidays_between(local_date, local_date)
    return state_at(site.hours.all(), site.closures.all(), moment, holidays)


def validate_intervals(intervals: list[tuple[int, dt.time, dt.time, bool]]) -> list[str]:
    """Problems with a weekly schedule, one message per bad interval (empty when fine)."""
    from django.utils.translation import gettext as _

    problems: list[str] = []
    by_day: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for day, opens, closes, _extended in intervals:
        if not 0 <= day <= HOLIDAY_DAY:
            problems.append(_("星期无效：%(day)s。") % {"day": day})
            continue
        if closes <= opens:
            problems.append(
                _("关门时间必须晚于开门时间：%(opens)s–%(closes)s。")
                % {"opens": opens.strftime("%H:%M"), "closes": closes.strftime("%H:%M")}
            )
            continue
        by_day.setdefault(day, []).append((opens, closes))
    for spans in by_day.values():
        spans.sort()
        for (_o1, c1), (o2, _c2) in pairwise(spans):
            if o2 < c1:
                problems.append(_("同一天的开放时段重叠：%(at)s。") % {"at": o2.strftime("%H:%M")})
    return problems
