"""A place's figures over a period, gathered from each app's own selectors (so each is
counted exactly as the app's own report counts it, over what the user may see): the
appeals' closed loop, services at the sites, volunteering, the points economy and the
canteen — what the case studies report, on one page for leaders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from doorstep.appeals import selectors as appeals
from doorstep.canteen import selectors as canteen
from doorstep.core.timeutils import LOCAL_TZ
from doorstep.orgs.models import Unit
from doorstep.points import selectors as points
from doorstep.sites import selectors as sites
from doorstep.volunteers import selectors as volunteers


@dataclass
class Figures:
    unit: Unit
    start: dt.date
    end: dt.date  # inclusive
    appeals: dict[str, Any]
    suggestions: dict[str, int]
    disputes: dict[str, int]
    site_person_times: int
    volunteering: dict[str, Any]
    points: points.PointsReport
    canteen: canteen.DinerReport

    @property
    def points_yuan(self) -> float:
        return self.points.value_fen / 100

    @property
    def diners_per_day(self) -> float | None:
        """Diners per day the canteens served ("200+ diners a day")."""
        days = self.canteen.days_served
        return round(self.canteen.person_times / days, 1) if days else None


def gather(*, actor: Any, unit: Unit, start: dt.date, end: dt.date) -> Figures:
    """The figures of ``unit``'s subtree from ``start`` to ``end`` (local dates, both
    included), each over what ``actor`` may see."""
    begin = dt.datetime.combine(start, dt.time(0), tzinfo=LOCAL_TZ)
    finish = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=LOCAL_TZ)
    served = sites.person_times(actor=actor, start=start, end=end, by="level", unit=unit)
    return Figures(
        unit=unit,
        start=start,
        end=end,
        appeals=appeals.period_figures(actor=actor, unit=unit, start=begin, end=finish),
        suggestions=appeals.suggestion_figures(unit=unit, start=begin, end=finish, actor=actor),
        disputes=appeals.disputes_resolved(unit=unit, start=begin, end=finish, actor=actor),
        site_person_times=sum(row["person_times"] or 0 for row in served),
        volunteering=volunteers.period_figures(actor=actor, unit=unit, start=begin, end=finish),
        points=points.points_report(actor=actor, unit=unit, start=start, end=end),
        canteen=canteen.diner_report(actor=actor, unit=unit, start=start, end=end),
    )
