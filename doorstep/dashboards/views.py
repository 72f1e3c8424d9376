"""The leaders' figures page: one place's closed loop, services, volunteering, points and
canteen over a period, each figure linked to the app page that lists what it counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from doorstep.accounts.roles import PLACE_LEADER_ROLES
from doorstep.accounts.scope_rules import anchor_unit
from doorstep.accounts.scoping import get_scoped_or_404, grants, roles_of, scoped
from doorstep.core import timeutils
from doorstep.core.inputs import key_from_text
from doorstep.core.pages import xlsx_response
from doorstep.core.tree import ancestor_paths
from doorstep.orgs.choices import GRASSROOTS_KINDS
from doorstep.orgs.models import Unit

from .figures import (
    Section,
    Shown,
    branch_lines,
    branches,
    gather,
    previous_period,
    shown,
    trend,
    year_ago,
)

# The canteen's and the points' reports read at most about a year at a time.
MAX_DAYS = 366
CHILDREN_SHOWN = 60
PREVIOUS, YEAR_AGO, NO_COMPARISON = "previous", "year", "none"


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=gettext_lazy("起始日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("截止日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    compare = forms.ChoiceField(
        label=gettext_lazy("对比"),
        choices=[
            (PREVIOUS, gettext_lazy("上一期")),
            (YEAR_AGO, gettext_lazy("去年同期")),
            (NO_COMPARISON, gettext_lazy("不对比")),
        ],
    )

    def _plausible(self, name: str) -> dt.date:
        day: dt.date = self.cleaned_data[name]
        if not timeutils.plausible_day(day):
            raise forms.ValidationError(timeutils.day_range_message())
        return day

    def clean_start(self) -> dt.date:
        return self._plausible("start")

    def clean_end(self) -> dt.date:
        return self._plausible("end")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                self.add_error("start", _("起始日期不能晚于截止日期。"))
            elif (end - start).days >= MAX_DAYS:
                self.add_error("start", _("统计区间不能超过一年。"))
        return data


def _home_units(user: Any) -> list[Unit]:
    """The places the user answers for: the anchors of their leading roles."""
    seen: dict[int, Unit] = {}
    for grant in grants(user):
        if grant.role in PLACE_LEADER_ROLES and (unit := anchor_unit(grant)) is not None:
            seen.setdefault(unit.pk, unit)
    return sorted(seen.values(), key=lambda u: u.path)


def _within(unit: Unit, homes: list[Unit]) -> bool:
    return any(unit.path.startswith(home.path) for home in homes)


def _periods(today: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    month_start = today.replace(day=1)
    last_month_end = month_start - dt.timedelta(days=1)
    return [
        (_("本月"), month_start, today),
        (_("上月"), last_month_end.replace(day=1), last_month_end),
        (_("今年"), today.replace(month=1, day=1), today),
        (_("近 12 个月"), today - dt.timedelta(days=MAX_DAYS - 1), today),
    ]


def _links(unit: Unit, start: dt.date, end: dt.date) -> dict[str, str]:
    """Where each figure's rows are listed, for the figures that have such a page."""
    place = urlencode({"unit": str(unit.pk)})
    period = urlencode({"unit": str(unit.pk), "start": start.isoformat(), "end": end.isoformat()})
    return {
        "received": f"{reverse('appeals:triage')}?{place}&state=all",
        "open": f"{reverse('appeals:triage')}?{place}",
        "overdue": f"{reverse('appeals:overdue')}?{place}",
        "suggestions": f"{reverse('appeals:suggestions')}?{place}",
        "disputes": f"{reverse('appeals:disputes')}?{place}",
        **dict.fromkeys(
            ("visits", "grid_households", "visit_overdue"),
            reverse("grids:grid-list", args=[unit.pk])
            if unit.kind in GRASSROOTS_KINDS
            else reverse("grids:index"),
        ),
        "site_person_times": f"{reverse('sites:console-report')}?"
        + urlencode({"start": start.isoformat(), "end": end.isoformat(), "by": "site"}),
        "volunteer_times": f"{reverse('volunteers:index')}?{place}",
        "issued": f"{reverse('points:home')}?{period}",
        "diners": f"{reverse('canteen:index')}?{period}",
    }


@login_required
def figures(request: HttpRequest) -> HttpResponse:
    """A place (one the user answers for, or a unit below it they may see) and a period
    (this year so far by default): the figures, or the form's message naming the field
    when the dates will not do."""
    if not roles_of(request.user) & PLACE_LEADER_ROLES:
        raise Http404
    homes = _home_units(request.user)
    if not homes:
        raise Http404
    status = 200
    unit = homes[0]
    if "unit" in request.GET:
        unit_id = key_from_text(request.GET.get("unit", ""))
        if unit_id is None:
            raise Http404
        unit = get_scoped_or_404(request.user, Unit, pk=unit_id)
        # Counted over what the user may see, a unit above their own would show their
        # own place's figures under a wider name: only their places and units below.
        if not _within(unit, homes):
            raise Http404
    today = timeutils.local_today()
    data = {
        "start": request.GET.get("start") or today.replace(month=1, day=1).isoformat(),
        "end": request.GET.get("end") or today.isoformat(),
        "compare": request.GET.get("compare") or PREVIOUS,
    }
    form = PeriodForm(data)
    result = previous = None
    basis = _("上期")
    sections: list[tuple[Section, list[Shown]]] = []
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        result = gather(actor=request.user, unit=unit, start=start, end=end)
        compare = form.cleaned_data["compare"]
        if compare != NO_COMPARISON:
            before_start, before_end = (
                year_ago(start, end) if compare == YEAR_AGO else previous_period(start, end)
            )
            if timeutils.plausible_day(before_start):
                previous = gather(actor=request.user, unit=unit, start=before_start, end=before_end)
        basis = _("去年同期") if compare == YEAR_AGO else _("上期")
        sections = shown(result, previous, basis)
        links = _links(unit, start, end)
        for _section, lines in sections:
            for line in lines:
                line.link = links.get(line.line.key, "")
    else:
        status = 400
    trail = [
        (u, u.pk != unit.pk and _within(u, homes))
        for u in scoped(request.user, Unit)
        .filter(path__in=ancestor_paths(unit.path))
        .order_by("path")
    ]
    children = list(
        scoped(request.user, Unit)
        .filter(parent=unit, is_active=True)
        .order_by("name")[:CHILDREN_SHOWN]
    )
    chart = trend(actor=request.user, unit=unit, end=result.end) if result is not None else None
    rows = []
    if result is not None and children:
        rows = branches(
            actor=request.user, unit=unit, children=children, start=result.start, end=result.end
        )
    if result is not None and request.GET.get("format") == "xlsx":
        from .exporting import figures_xlsx

        content = figures_xlsx(
            actor=request.user,
            figures=result,
            previous=previous,
            basis=basis,
            sections=sections,
            trail=[u for u, _linked in trail],
            branches=rows,
            trend=chart,
            request=request,
        )
        name = f"figures-{unit.pk}-{result.start:%Y%m%d}-{result.end:%Y%m%d}.xlsx"
        return xlsx_response(content, name)
    return render(
        request,
        "dashboards/figures.html",
        {
            "unit": unit,
            "homes": homes,
            "trail": trail,
            "children": children,
            "form": form,
            "f": result,
            "previous": previous,
            "sections": sections,
            "branches": rows,
            "trend": chart,
            "branch_lines": branch_lines(),
            "export_query": urlencode({**data, "unit": str(unit.pk), "format": "xlsx"}),
            "periods": _periods(today),
        },
        status=status,
    )
