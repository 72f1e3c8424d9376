"""A place's figures over a period, gathered from each app's own selectors (so each is
counted exactly as the app's own report counts it, over what the user may see): the
appeals' closed loop, grid work, services at the sites, volunteering, the points economy
and the canteen — what the case studies report, on one page for leaders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from doorstep.appeals import selectors as appeals
from doorstep.canteen import selectors as canteen
from doorstep.core.timeutils import LOCAL_TZ
from doorstep.grids import selectors as grids
from doorstep.orgs.models import Unit
from doorstep.people import selectors as people
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
    grids: dict[str, Any]
    registry: dict[str, int]
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
        grids=grids.period_figures(actor=actor, unit=unit, start=start, end=end),
        registry=people.period_changes(actor=actor, unit=unit, start=start, end=end),
        site_person_times=sum(row["person_times"] or 0 for row in served),
        volunteering=volunteers.period_figures(actor=actor, unit=unit, start=begin, end=finish),
        points=points.points_report(actor=actor, unit=unit, start=start, end=end),
        canteen=canteen.diner_report(actor=actor, unit=unit, start=start, end=end),
    )


# --- What the page and the export show ---------------------------------------------------

StrOrPromise = str | Promise

# How a figure reads: a count, a rate in percent, yuan, or a number with one decimal.
COUNT, RATE, YUAN, DECIMAL = "count", "rate", "yuan", "decimal"


@dataclass(frozen=True)
class Line:
    key: str
    label: StrOrPromise  # lazily translated
    value: Callable[[Figures], float | int | None]
    kind: str = COUNT
    # A figure of the moment (what is open now) is the same whatever the period: it is
    # not compared with the previous period.
    of_now: bool = False


@dataclass(frozen=True)
class Section:
    key: str
    title: StrOrPromise
    lines: tuple[Line, ...]
    note: StrOrPromise = ""


@dataclass
class Shown:
    """One line as shown: this period's value and, when compared, the previous one's."""

    line: Line
    value: float | int | None
    before: float | int | None = None
    compared: bool = False
    link: str = ""
    basis: StrOrPromise = ""  # what it is compared with: the previous period, a year ago

    @property
    def display(self) -> str:
        return _display(self.line.kind, self.value)

    @property
    def comparison(self) -> str:
        """The previous period's value and how this one differs, in words."""
        if not self.compared:
            return ""
        before = _display(self.line.kind, self.before)
        basis = str(self.basis or _("上期"))
        change = self.change
        if change is None:
            return _("%(basis)s %(before)s") % {"basis": basis, "before": before}
        if change == 0:
            return _("%(basis)s %(before)s，持平") % {"basis": basis, "before": before}
        amount = _display(self.line.kind if self.line.kind != RATE else DECIMAL, abs(change))
        if self.line.kind == RATE:
            text = (
                _("%(basis)s %(before)s，提高 %(change)s 个百分点")
                if change > 0
                else _("%(basis)s %(before)s，降低 %(change)s 个百分点")
            )
        else:
            text = (
                _("%(basis)s %(before)s，增加 %(change)s")
                if change > 0
                else _("%(basis)s %(before)s，减少 %(change)s")
            )
        return text % {"basis": basis, "before": before, "change": amount}

    @property
    def change(self) -> float | int | None:
        """Now less before (for a rate, in percentage points); None when either is
        unknown or nothing is compared."""
        if not self.compared or self.value is None or self.before is None:
            return None
        change = self.value - self.before
        return round(change, 1) if isinstance(change, float) else change


def _display(kind: str, value: float | int | None) -> str:
    if value is None:
        return "—"
    if kind == RATE:
        return f"{value}%"
    if kind == YUAN:
        return f"{value:,.2f}"
    return f"{value:,}"


SECTIONS: tuple[Section, ...] = (
    Section(
        "appeals",
        gettext_lazy("诉求办理"),
        (
            Line("received", gettext_lazy("收到诉求"), lambda f: f.appeals["received"]["total"]),
            Line("green", gettext_lazy("绿色"), lambda f: f.appeals["received"]["green"]),
            Line("yellow", gettext_lazy("黄色"), lambda f: f.appeals["received"]["yellow"]),
            Line("red", gettext_lazy("红色"), lambda f: f.appeals["received"]["red"]),
            Line(
                "rejected",
                gettext_lazy("不予受理或合并"),
                lambda f: f.appeals["received"]["rejected"] + f.appeals["received"]["merged"],
            ),
            Line("resolved", gettext_lazy("已办结"), lambda f: f.appeals["resolved"]["total"]),
            Line(
                "on_time",
                gettext_lazy("按期办结率"),
                lambda f: f.appeals["resolved"]["on_time_rate"],
                RATE,
            ),
            Line(
                "satisfaction",
                gettext_lazy("群众满意率"),
                lambda f: f.appeals["ratings"]["satisfaction"],
                RATE,
            ),
            Line("rated", gettext_lazy("评价数"), lambda f: f.appeals["ratings"]["given"]),
            Line("unrated", gettext_lazy("未评价关闭"), lambda f: f.appeals["closed"]["unrated"]),
            Line(
                "open",
                gettext_lazy("当前未办结"),
                lambda f: f.appeals["open"]["total"],
                of_now=True,
            ),
            Line(
                "overdue",
                gettext_lazy("其中已超期"),
                lambda f: f.appeals["open"]["overdue"],
                of_now=True,
            ),
        ),
        gettext_lazy(
            "收到：期间内提交的诉求；办结、按期：期间内办结的，及其中在期限内办结的；"
            "满意率：期间内居民所作评价中评 4–5 分的比例，不满意重办后再评的两次都计入；"
            "当前未办结不受期间限制。"
        ),
    ),
    Section(
        "suggestions",
        gettext_lazy("金点子与矛盾调解"),
        (
            Line("suggestions", gettext_lazy("金点子收集"), lambda f: f.suggestions["collected"]),
            Line("adopted", gettext_lazy("已采纳"), lambda f: f.suggestions["adopted"]),
            Line("solved", gettext_lazy("解决问题"), lambda f: f.suggestions["solved"]),
            Line("disputes", gettext_lazy("调解结案"), lambda f: f.disputes["concluded"]),
            Line("agreements", gettext_lazy("达成协议"), lambda f: f.disputes["agreements"]),
        ),
    ),
    Section(
        "grids",
        gettext_lazy("网格走访"),
        (
            Line("visits", gettext_lazy("入户走访次数"), lambda f: f.grids["visits"]),
            Line("visited", gettext_lazy("走访到的住户"), lambda f: f.grids["visited"]),
            Line(
                "coverage",
                gettext_lazy("住户走访覆盖率"),
                lambda f: f.grids["coverage"],
                RATE,
            ),
            Line("wishes", gettext_lazy("收集心愿"), lambda f: f.grids["wishes"]),
            Line(
                "grid_households",
                gettext_lazy("网格内住户"),
                lambda f: f.grids["households"],
                of_now=True,
            ),
            Line(
                "visit_overdue",
                gettext_lazy("当前超期未走访"),
                lambda f: f.grids["overdue"],
                of_now=True,
            ),
        ),
        gettext_lazy(
            "走访按走访日期统计；覆盖率：期间内走访到的在册住户占当前网格内住户的比例；"
            "超期未走访：近期（走访周期内）没有走访记录的网格住户，不受期间限制。"
        ),
    ),
    Section(
        "registry",
        gettext_lazy("人口变动"),
        (
            Line("moved_away", gettext_lazy("迁出本辖区"), lambda f: f.registry["moved_away"]),
            Line("deceased", gettext_lazy("去世"), lambda f: f.registry["deceased"]),
        ),
        gettext_lazy("按登记的迁出、去世日期统计；辖区内搬家不计入。"),
    ),
    Section(
        "services",
        gettext_lazy("阵地服务与志愿服务"),
        (
            Line("site_person_times", gettext_lazy("阵地服务人次"), lambda f: f.site_person_times),
            Line(
                "volunteer_times",
                gettext_lazy("志愿服务人次"),
                lambda f: f.volunteering["person_times"],
            ),
            Line(
                "volunteer_hours",
                gettext_lazy("志愿服务时长（小时）"),
                lambda f: f.volunteering["hours"],
                DECIMAL,
            ),
            Line("volunteers", gettext_lazy("参与志愿者"), lambda f: f.volunteering["volunteers"]),
        ),
        gettext_lazy(
            "阵地服务人次按服务时间统计（您能看到的阵地）；志愿服务按签退时间统计已确认的时长。"
        ),
    ),
    Section(
        "points",
        gettext_lazy("积分与幸福食堂"),
        (
            Line("issued", gettext_lazy("发放积分"), lambda f: f.points.issued),
            Line("redeemed", gettext_lazy("兑换积分"), lambda f: f.points.redeemed),
            Line("yuan", gettext_lazy("兑换物品价值（元）"), lambda f: f.points_yuan, YUAN),
            Line("redeem_times", gettext_lazy("兑换人次"), lambda f: f.points.person_times),
            Line("diners", gettext_lazy("就餐人次"), lambda f: f.canteen.person_times),
            Line("diners_per_day", gettext_lazy("日均就餐"), lambda f: f.diners_per_day, DECIMAL),
            Line("age_meals", gettext_lazy("长者优惠餐"), lambda f: f.canteen.age_meals),
        ),
        gettext_lazy("日均就餐按有人就餐的天数计算；撤销的兑换和退款的餐单不计。"),
    ),
)


def previous_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The period of the same length that ends the day before ``start``."""
    days = (end - start).days + 1
    return start - dt.timedelta(days=days), start - dt.timedelta(days=1)


def year_ago(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The same dates a year earlier (29 February becomes the 28th)."""

    def back(day: dt.date) -> dt.date:
        try:
            return day.replace(year=day.year - 1)
        except ValueError:
            return day.replace(year=day.year - 1, day=28)

    return back(start), back(end)


def shown(
    now: Figures, before: Figures | None = None, basis: StrOrPromise = ""
) -> list[tuple[Section, list[Shown]]]:
    """Every section's lines with this period's values, and the previous period's where
    ``before`` is given and the figure belongs to a period."""
    return [
        (
            section,
            [
                Shown(
                    line,
                    line.value(now),
                    line.value(before) if before is not None and not line.of_now else None,
                    before is not None and not line.of_now,
                    basis=basis,
                )
                for line in section.lines
            ],
        )
        for section in SECTIONS
    ]


# The figures compared across the units below a place, side by side.
BRANCH_LINES = (
    "received", "resolved", "on_time", "satisfaction", "open", "overdue",
    "coverage", "site_person_times", "volunteer_hours", "yuan", "diners",
)  # fmt: skip


@dataclass
class Branch:
    """One unit below the place (or, with ``unit`` None, the place itself: the rows
    placed at it rather than below) and its figures."""

    unit: Unit | None
    cells: list[Shown]


def branch_lines() -> list[Line]:
    lines = {line.key: line for section in SECTIONS for line in section.lines}
    return [lines[key] for key in BRANCH_LINES]


def branches(
    *, actor: Any, unit: Unit, children: list[Unit], start: dt.date, end: dt.date
) -> list[Branch]:
    """The figures of each of ``children`` (units directly below ``unit``) over the
    period: the appeals', the share of households visited, person-times at the sites,
    volunteer hours, value redeemed and diners, each counted by its app as for the whole
    place, in eleven queries whatever their number; a row for ``unit`` itself when rows are placed at it."""
    begin = dt.datetime.combine(start, dt.time(0), tzinfo=LOCAL_TZ)
    finish = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=LOCAL_TZ)
    cases = appeals.period_figures_by_branch(
        actor=actor, unit=unit, start=begin, end=finish,
        paths=[*(c.path for c in children), unit.path],
    )  # fmt: skip
    served = sites.person_times_by_branch(actor=actor, unit=unit, start=start, end=end)
    hours = volunteers.hours_by_branch(actor=actor, unit=unit, start=begin, end=finish)
    value = points.redemptions_by_branch(actor=actor, unit=unit, start=start, end=end)
    diners = canteen.diners_by_branch(actor=actor, unit=unit, start=start, end=end)
    coverage = grids.coverage_by_branch(actor=actor, unit=unit, start=start, end=end)
    lines = branch_lines()

    def row(who: Unit | None, path: str) -> Branch:
        shape = SimpleNamespace(
            appeals=cases[path],
            grids={"coverage": coverage.get(path)},
            site_person_times=served.get(path, 0),
            volunteering={"hours": hours.get(path, 0.0)},
            points_yuan=value.get(path, 0) / 100,
            canteen=SimpleNamespace(person_times=diners.get(path, 0)),
        )
        figures = cast(Figures, shape)
        return Branch(who, [Shown(line, line.value(figures)) for line in lines])

    rows = [row(child, child.path) for child in children]
    # The place's own row only when something is counted at it rather than below it.
    own = row(None, unit.path)
    if any(cell.value for cell in own.cells):
        rows.append(own)
    return rows


# --- The twelve months' trend ------------------------------------------------------------

TREND_MONTHS = 12
# The chart's drawing box (SVG user units): a column per month, bars up from the base.
CHART_COLUMN, CHART_BAR, CHART_TOP, CHART_HEIGHT = 40, 14, 16, 120


@dataclass
class Month:
    first: dt.date
    received: int
    resolved: int
    visits: int = 0
    site_person_times: int = 0
    volunteer_hours: float = 0.0
    redeemed_fen: int = 0
    diners: int = 0
    # Its bars in the chart's drawing box: left edges, tops and heights.
    x: float = 0.0
    received_y: float = 0.0
    received_height: float = 0.0
    resolved_x: float = 0.0
    resolved_y: float = 0.0
    resolved_height: float = 0.0
    label_x: float = 0.0

    @property
    def label(self) -> str:
        return f"{self.first.month}"

    @property
    def redeemed_yuan(self) -> float:
        return self.redeemed_fen / 100


@dataclass
class Trend:
    """Each of the twelve months to the period's end month: appeals received and
    resolved (with the geometry of a bar chart of them), home visits, person-times
    served at the sites, confirmed volunteer hours, the value of goods redeemed and diners."""

    months: list[Month]
    peak: int

    @property
    def width(self) -> int:
        return CHART_COLUMN * len(self.months)

    @property
    def base(self) -> int:
        return CHART_TOP + CHART_HEIGHT

    @property
    def view_height(self) -> int:
        return self.base + 20

    @property
    def bar(self) -> int:
        return CHART_BAR

    @property
    def received(self) -> int:
        return sum(m.received for m in self.months)

    @property
    def resolved(self) -> int:
        return sum(m.resolved for m in self.months)


def month_firsts(last: dt.date, count: int = TREND_MONTHS) -> list[dt.date]:
    """The first days of the ``count`` months that end with ``last``'s month, oldest
    first."""
    year, month = last.year, last.month
    firsts = []
    for _step in range(count):
        firsts.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return firsts[::-1]


def _month_of(value: dt.date | dt.datetime) -> dt.date:
    """The first day of the local month that TruncMonth gave (a datetime, or on some
    backends a date)."""
    if isinstance(value, dt.datetime):
        return value.astimezone(LOCAL_TZ).date().replace(day=1)
    return value.replace(day=1)


def trend(*, actor: Any, unit: Unit, end: dt.date) -> Trend:
    firsts = month_firsts(end)
    begin = dt.datetime.combine(firsts[0], dt.time(0), tzinfo=LOCAL_TZ)
    last = firsts[-1]
    after = dt.date(last.year + (last.month == 12), last.month % 12 + 1, 1)
    finish = dt.datetime.combine(after, dt.time(0), tzinfo=LOCAL_TZ)
    counts = appeals.monthly_trend(actor=actor, unit=unit, months=firsts)
    served = {
        row["key"]: row["person_times"] or 0
        for row in sites.person_times(
            actor=actor, start=firsts[0], end=after - dt.timedelta(days=1), by="month", unit=unit
        )
    }
    hours = volunteers.monthly_figures(actor=actor, unit=unit, months=firsts)
    visits = grids.monthly_visits(actor=actor, unit=unit, months=firsts)
    redeemed = {
        _month_of(row["month"]): row["value"] or 0
        for row in points.redemptions_by_month(actor=actor, unit=unit, start=begin, end=finish)
    }
    diners: dict[dt.date, int] = {}
    report = canteen.diner_report(
        actor=actor, unit=unit, start=firsts[0], end=after - dt.timedelta(days=1)
    )
    for day in report.days:
        first = day["date"].replace(day=1)
        diners[first] = diners.get(first, 0) + day["total"]
    months = [
        Month(
            first,
            counts.get(first, {}).get("received", 0),
            counts.get(first, {}).get("resolved", 0),
            visits=visits.get(first, 0),
            site_person_times=served.get(f"{first:%Y-%m}", 0),
            volunteer_hours=hours.get(first, {}).get("hours", 0.0),
            redeemed_fen=redeemed.get(first, 0),
            diners=diners.get(first, 0),
        )
        for first in firsts
    ]
    peak = max([m.received for m in months] + [m.resolved for m in months] + [0])
    chart = Trend(months, peak)
    for n, month in enumerate(months):
        month.x = n * CHART_COLUMN + (CHART_COLUMN - 2 * CHART_BAR) / 2
        month.resolved_x = month.x + CHART_BAR
        month.label_x = n * CHART_COLUMN + CHART_COLUMN / 2
        if peak:
            month.received_height = round(month.received * CHART_HEIGHT / peak, 1)
            month.resolved_height = round(month.resolved * CHART_HEIGHT / peak, 1)
        month.received_y = chart.base - month.received_height
        month.resolved_y = chart.base - month.resolved_height
    return chart
